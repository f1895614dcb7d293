from enum import StrEnum


class DeblurMode(StrEnum):
    AUTO = "auto"
    BURST = "burst"
    OFF = "off"
    ON = "on"

    def __str__(self) -> str:
        return str(self.value)
