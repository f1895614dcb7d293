from enum import StrEnum


class GetFrameThumbnailWhich(StrEnum):
    ENHANCED = "enhanced"
    SOURCE = "source"

    def __str__(self) -> str:
        return str(self.value)
