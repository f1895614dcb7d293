"""A contact sheet: every photo of an album as a small cell, framed green when kept and red when not, with its name
and the reason, so a user sees at a glance what the album job chose."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

CELL = 220  # cell side, pixels (also the size photos are decoded at for it)
LABEL = 46
COLUMNS = 6
KEPT, DROPPED = (22, 140, 60), (190, 40, 30)


@dataclass(frozen=True)
class Cell:
    image: Image.Image | None  # None: the photo could not be read (its reason says why)
    kept: bool
    name: str
    why: str


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def contact_sheet(cells: list[Cell]) -> bytes:
    """The cells in rows of up to `COLUMNS`, as a JPEG."""
    columns = min(COLUMNS, max(1, len(cells)))
    lines = (len(cells) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * CELL, lines * (CELL + LABEL)), (245, 246, 248))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for n, cell in enumerate(cells):
        x, y = (n % columns) * CELL, (n // columns) * (CELL + LABEL)
        if cell.image is not None:
            image = cell.image.copy()
            image.thumbnail((CELL - 12, CELL - 12))
            sheet.paste(image, (x + (CELL - image.width) // 2, y + (CELL - image.height) // 2))
        colour = KEPT if cell.kept else DROPPED
        draw.rectangle((x + 2, y + 2, x + CELL - 3, y + CELL - 3), outline=colour, width=4 if cell.kept else 2)
        mark = "KEPT" if cell.kept else "no"
        draw.text((x + 6, y + CELL + 2), _fit(f"{mark}  {cell.name}", 32), fill=colour, font=font)
        draw.text((x + 6, y + CELL + 20), _fit(cell.why, 34), fill=(60, 60, 60), font=font)
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=85)
    return out.getvalue()
