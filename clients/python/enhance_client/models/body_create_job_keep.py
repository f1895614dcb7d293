from enum import StrEnum


class BodyCreateJobKeep(StrEnum):
    ALL = "all"
    BEST = "best"
    GOOD = "good"

    def __str__(self) -> str:
        return str(self.value)
