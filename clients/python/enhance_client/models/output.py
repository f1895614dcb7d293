from enum import StrEnum


class Output(StrEnum):
    FRAMES = "frames"
    GIF = "gif"
    VIDEO = "video"

    def __str__(self) -> str:
        return str(self.value)
