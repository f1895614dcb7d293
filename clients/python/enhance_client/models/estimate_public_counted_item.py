from enum import StrEnum


class EstimatePublicCountedItem(StrEnum):
    DEBLUR = "deblur"
    FRAME = "frame"
    INTERPOLATE = "interpolate"
    UPSCALE = "upscale"

    def __str__(self) -> str:
        return str(self.value)
