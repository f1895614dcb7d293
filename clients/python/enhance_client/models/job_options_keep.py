from enum import StrEnum


class JobOptionsKeep(StrEnum):
    ALL = "all"
    BEST = "best"
    GOOD = "good"

    def __str__(self) -> str:
        return str(self.value)
