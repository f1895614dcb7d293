from enum import StrEnum


class Verdict(StrEnum):
    KEEP = "keep"
    REJECT = "reject"

    def __str__(self) -> str:
        return str(self.value)
