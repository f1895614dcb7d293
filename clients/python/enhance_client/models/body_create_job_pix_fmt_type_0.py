from enum import StrEnum


class BodyCreateJobPixFmtType0(StrEnum):
    YUV420P = "yuv420p"
    YUV420P10LE = "yuv420p10le"
    YUV422P = "yuv422p"
    YUV422P10LE = "yuv422p10le"
    YUV444P = "yuv444p"
    YUV444P10LE = "yuv444p10le"

    def __str__(self) -> str:
        return str(self.value)
