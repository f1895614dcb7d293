from enum import StrEnum


class BodyCreateJobDuplicates(StrEnum):
    DROP = "drop"
    KEEP = "keep"

    def __str__(self) -> str:
        return str(self.value)
