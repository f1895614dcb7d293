from enum import StrEnum


class JobOptionsCodec(StrEnum):
    AV1 = "av1"
    AV1_NVENC = "av1_nvenc"
    FFV1 = "ffv1"
    H264 = "h264"
    H264_NVENC = "h264_nvenc"
    HEVC = "hevc"
    HEVC_NVENC = "hevc_nvenc"
    PRORES = "prores"
    VP9 = "vp9"

    def __str__(self) -> str:
        return str(self.value)
