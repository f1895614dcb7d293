from enum import StrEnum


class GetFrameWhich(StrEnum):
    ENHANCED = "enhanced"
    SOURCE = "source"

    def __str__(self) -> str:
        return str(self.value)
