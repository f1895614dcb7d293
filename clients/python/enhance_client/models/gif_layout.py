from enum import StrEnum


class GifLayout(StrEnum):
    FLICKER = "flicker"
    FULL = "full"
    SIDE_BY_SIDE = "side_by_side"
    WIPE = "wipe"

    def __str__(self) -> str:
        return str(self.value)
