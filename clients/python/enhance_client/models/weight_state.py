from enum import StrEnum


class WeightState(StrEnum):
    CHECKSUM_FAILED = "checksum-failed"
    MISSING = "missing"
    PRESENT = "present"
    UNPINNED = "unpinned"

    def __str__(self) -> str:
        return str(self.value)
