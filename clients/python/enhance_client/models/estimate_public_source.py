from enum import StrEnum


class EstimatePublicSource(StrEnum):
    CATALOGUE = "catalogue"
    MEASURED = "measured"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
