from enum import StrEnum


class JobKind(StrEnum):
    ALBUM = "album"
    IMAGE = "image"
    VIDEO = "video"

    def __str__(self) -> str:
        return str(self.value)
