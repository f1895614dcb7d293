from enum import StrEnum


class BodyCreateJobCodec(StrEnum):
    AV1 = "av1"
    FFV1 = "ffv1"
    H264 = "h264"
    HEVC = "hevc"
    PRORES = "prores"
    VP9 = "vp9"

    def __str__(self) -> str:
        return str(self.value)
