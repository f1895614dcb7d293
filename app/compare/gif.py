"""Before/after comparison GIFs: the source upscaled with bicubic against the enhanced frame.

The improvement is only visible at the output's own resolution: two halves scaled down to a 640-px GIF look the
same (measured on a 640x272 clip: Laplacian variance ratio 1.02). So the default layouts show output pixels 1:1:
when the whole frame does not fit, the region where the enhanced frame gains most detail over bicubic
(`gain_region`), chosen on the first frame and kept while it still shows the gain; at a scene cut, or when the gain
moves elsewhere in the shot, it follows (`GifBuilder`). `full` keeps the
whole-frame view, both halves scaled down.

Layouts: `side_by_side` (labelled halves), `wipe` (a divider sweeping across), `flicker` (alternating frames) and
`full`. `GifBuilder` takes frames one at a time, so a job builds its GIF while later frames are still restored.
Each GIF frame gets its own fast-octree palette: on carphone, astronaut and coffee it came 0.8 to 3.3 dB closer to
the RGB frame than a median-cut palette with Floyd-Steinberg dithering, at 1.2 ms instead of 41 ms for 640x262.
Bounds: width `max_width`, height `max_width * 9 / 16` (1:1 layouts), `max_frames` frames and `max_bytes`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app.domain import GifLayout

Layout = GifLayout
WIPE_STEPS = 8
SELECTION_PIXELS = 4_000_000  # the gain map is computed at most at this size (a 4K x4 frame is 132 MP)
# The window maximises sum(Laplacian(enhanced)^2 - BICUBIC_WEIGHT * Laplacian(bicubic)^2): where the enhanced frame
# has the most detail beyond a multiple of bicubic's. Weight 1 picked fur that both versions render busy (chelsea,
# animevideov3: ratio 1.27 in the GIF); 3 gave 1.82 there and was as good or better on all ten model/photo pairs.
BICUBIC_WEIGHT = 3.0
LZW_SLACK = 1.1  # LZW output per paletted pixel, at worst, for the byte bound
# Within a scene the region moves when its gain falls below KEEP_GAIN of the best window's, or its sharpness ratio
# below RATIO_FLOOR (#26's target for every GIF frame), and only to a window whose ratio is higher in that frame.
KEEP_GAIN = 0.5
RATIO_FLOOR = 1.5
CANDIDATES = 4  # windows measured when the region may move (a few ms each)


@dataclass(frozen=True)
class GifOptions:
    layout: Layout = GifLayout.SIDE_BY_SIDE
    fps: float = 2.0
    max_width: int = 640
    max_frames: int = 300
    max_bytes: int = 25 * 1024 * 1024
    follow: bool = True  # False: the region chosen on the first frame is kept for every frame (the old behaviour)


@dataclass(frozen=True)
class Region:
    """A rectangle in output pixels: what the 1:1 layouts show."""

    x: int
    y: int
    width: int
    height: int

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


def _rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    return np.ascontiguousarray(np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array[..., :3])


def _gray(array: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(_rgb(array), cv2.COLOR_RGB2GRAY).astype(np.float32)


def view_size(layout: Layout, max_width: int) -> tuple[int, int]:
    """The largest region a 1:1 layout shows: half the width side by side, all of it otherwise; 16:9 high."""
    height = max(32, round(max_width * 9 / 16))
    return (max(16, max_width // 2), height) if layout == GifLayout.SIDE_BY_SIDE else (max_width, height)


def bicubic(source: np.ndarray, out_width: int, out_height: int, region: Region) -> np.ndarray:
    """The bicubic upscale of `source` to out_width x out_height, computed only inside `region` (the same pixels
    as `cv2.resize(..., INTER_CUBIC)` there, without the whole upscaled frame in memory)."""
    sx, sy = out_width / source.shape[1], out_height / source.shape[0]
    matrix = np.array([[sx, 0, 0.5 * sx - 0.5 - region.x], [0, sy, 0.5 * sy - 0.5 - region.y]], np.float64)
    warped = cv2.warpAffine(
        _rgb(source), matrix, (region.width, region.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return warped


@dataclass(frozen=True)
class GainWindows:
    """The gain (see `BICUBIC_WEIGHT`) of every width x height window of one frame pair, on a map shrunk by
    `shrink` (at most `SELECTION_PIXELS`): which window gains most, and how much a given one gains."""

    sums: np.ndarray  # the gain of the window whose top-left map pixel is [y, x]
    shrink: float
    width: int
    height: int
    out_w: int
    out_h: int

    def best(self) -> Region:
        return self._region(self.sums)

    def _region(self, sums: np.ndarray) -> Region:
        top, left = (int(v) for v in np.unravel_index(int(np.argmax(sums)), sums.shape))
        x = min(self.out_w - self.width, round(left * self.shrink))
        y = min(self.out_h - self.height, round(top * self.shrink))
        return Region(x, y, self.width, self.height)

    def top(self, count: int) -> list[Region]:
        """The `count` windows that gain most, each overlapping the ones before by at most half its size."""
        sums, found = self.sums.copy(), []
        win_w, win_h = max(1, round(self.width / self.shrink / 2)), max(1, round(self.height / self.shrink / 2))
        for _ in range(count):
            if not np.isfinite(sums).any():
                break
            region = self._region(sums)
            found.append(region)
            y, x = round(region.y / self.shrink), round(region.x / self.shrink)
            sums[max(0, y - win_h) : y + win_h, max(0, x - win_w) : x + win_w] = -np.inf
        return found

    def gain(self, region: Region) -> float:
        y = min(self.sums.shape[0] - 1, round(region.y / self.shrink))
        x = min(self.sums.shape[1] - 1, round(region.x / self.shrink))
        return float(self.sums[y, x])


def gain_windows(source: np.ndarray, enhanced: np.ndarray, width: int, height: int) -> GainWindows | None:
    """Every width x height window's gain, found with an integral image; None when the window is the whole frame."""
    out_h, out_w = enhanced.shape[:2]
    width, height = min(width, out_w), min(height, out_h)
    if (width, height) == (out_w, out_h):
        return None
    shrink = max(1.0, (out_w * out_h / SELECTION_PIXELS) ** 0.5)
    map_w, map_h = max(1, round(out_w / shrink)), max(1, round(out_h / shrink))
    after = _gray(enhanced if shrink == 1 else cv2.resize(enhanced, (map_w, map_h), interpolation=cv2.INTER_AREA))
    before = _gray(cv2.resize(_rgb(source), (map_w, map_h), interpolation=cv2.INTER_CUBIC))
    gain = cv2.Laplacian(after, cv2.CV_32F) ** 2 - BICUBIC_WEIGHT * cv2.Laplacian(before, cv2.CV_32F) ** 2
    win_w, win_h = max(1, min(map_w, round(width / shrink))), max(1, min(map_h, round(height / shrink)))
    total = cv2.integral(gain, sdepth=cv2.CV_64F)
    sums = total[win_h:, win_w:] - total[:-win_h, win_w:] - total[win_h:, :-win_w] + total[:-win_h, :-win_w]
    return GainWindows(sums, shrink, width, height, out_w, out_h)


def gain_region(source: np.ndarray, enhanced: np.ndarray, width: int, height: int) -> Region:
    """The width x height window of `enhanced` (clamped to it) where it has the most detail beyond bicubic."""
    windows = gain_windows(source, enhanced, width, height)
    if windows is None:
        out_h, out_w = enhanced.shape[:2]
        return Region(0, 0, out_w, out_h)
    return windows.best()


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Loaded once per size: every GIF frame is labelled, and loading the font took a third of a label's time."""
    return ImageFont.load_default(size=size)


def _label(image: Image.Image, text: str, right: bool = False) -> Image.Image:
    draw = ImageDraw.Draw(image)
    font = _font(max(10, min(image.height, image.width * 2) // 18))
    box = draw.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    x = image.width - w - 8 if right else 4
    draw.rectangle((x - 3, 2, x + w + 3, h + 9), fill=(0, 0, 0))
    draw.text((x, 4), text, fill=(255, 255, 255), font=font)
    return image


def _fit_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    if width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


def _scaled_pair(source: np.ndarray, enhanced: np.ndarray, max_width: int) -> tuple[Image.Image, Image.Image]:
    """`full`: both halves at the displayed size, the enhanced frame area-averaged down (no aliasing), the source
    taken there straight with bicubic."""
    height, width = enhanced.shape[:2]
    size = _fit_size(width, height, max_width)
    after = enhanced if size == (width, height) else cv2.resize(enhanced, size, interpolation=cv2.INTER_AREA)
    before = cv2.resize(_rgb(source), size, interpolation=cv2.INTER_CUBIC)
    return Image.fromarray(_rgb(before)), Image.fromarray(_rgb(after))


def _side_by_side(before: Image.Image, after: Image.Image, scale: str) -> Image.Image:
    canvas = Image.new("RGB", (before.width + after.width, before.height))
    canvas.paste(_label(before, f"bicubic {scale}"), (0, 0))
    canvas.paste(_label(after, f"enhanced {scale}"), (before.width, 0))
    return canvas


def compare_frames(
    source: np.ndarray, enhanced: np.ndarray, layout: Layout, max_width: int, region: Region | None = None
) -> tuple[list[Image.Image], Region]:
    """The GIF frames for one pair, and the region shown (in output pixels; the whole frame for `full`)."""
    out_h, out_w = enhanced.shape[:2]
    scale = f"x{out_w / source.shape[1]:.3g}"
    if layout == GifLayout.FULL:
        before, after = _scaled_pair(source, enhanced, max(1, max_width // 2))
        return [_side_by_side(before, after, scale)], Region(0, 0, out_w, out_h)
    if region is None:
        region = gain_region(source, enhanced, *view_size(layout, max_width))
    crop = _rgb(enhanced[region.y : region.y + region.height, region.x : region.x + region.width])
    before, after = Image.fromarray(bicubic(source, out_w, out_h, region)), Image.fromarray(crop)
    if layout == GifLayout.SIDE_BY_SIDE:
        return [_side_by_side(before, after, scale)], region
    if layout == GifLayout.FLICKER:
        return [_label(before, f"bicubic {scale}"), _label(after, f"enhanced {scale}")], region
    frames = []
    for step in range(1, WIPE_STEPS + 1):
        split = round(after.width * step / (WIPE_STEPS + 1))
        canvas = before.copy()
        canvas.paste(after.crop((0, 0, split, after.height)), (0, 0))
        ImageDraw.Draw(canvas).line((split, 0, split, after.height), fill=(255, 255, 255), width=2)
        frames.append(_label(_label(canvas, f"enhanced {scale}"), f"bicubic {scale}", right=True))
    return frames, region


def _first(pair: tuple[float, Region]) -> float:
    return pair[0]


def quantize(frame: Image.Image) -> Image.Image:
    return frame.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def _laplacian_variance(half: np.ndarray) -> float:
    below_label = half[half.shape[0] // 6 :]  # the label band is the top ~10 %
    return float(cv2.Laplacian(_gray(below_label), cv2.CV_32F).var())


def side_by_side_frame(source: np.ndarray, enhanced: np.ndarray, region: Region) -> Image.Image:
    """The paletted side-by-side GIF frame showing `region`."""
    return quantize(compare_frames(source, enhanced, GifLayout.SIDE_BY_SIDE, 2 * region.width, region)[0][0])


def frame_sharpness(paletted: Image.Image) -> float:
    """`sharpness_ratio` of a paletted side-by-side frame."""
    frame = np.asarray(paletted.convert("RGB"))
    half = frame.shape[1] // 2
    return _laplacian_variance(frame[:, half:]) / max(_laplacian_variance(frame[:, :half]), 1e-6)


def sharpness_ratio(source: np.ndarray, enhanced: np.ndarray, region: Region) -> float:
    """How much sharper the enhanced half of the GIF frame showing `region` side by side is than the bicubic half:
    Laplacian variance over Laplacian variance, below the labels, after the frame's palette (which alone moved a
    ratio from 11.8 to 3.1 on a bigbuckbunny crop: the measure must be the one the viewer gets)."""
    return frame_sharpness(side_by_side_frame(source, enhanced, region))


class GifBuilder:
    """Collects (source, enhanced) RGB frame pairs as they come, already paletted, and writes the GIF at `finish`.
    The region shown follows the content (`options.follow`): at each new scene, and when the region's gain falls
    below `KEEP_GAIN` of the best window's or its sharpness ratio below `RATIO_FLOOR`, it moves to the window that
    gains most if that one shows more of the improvement in the frame; otherwise it stays, so the GIF does not
    jump. `regions` lists each region, the pair it starts at and why."""

    def __init__(self, options: GifOptions) -> None:
        self.options = options
        self.region: Region | None = None
        self.regions: list[tuple[int, Region, str]] = []  # (pair number, region, why it was chosen)
        self._pairs = 0
        self._frames: list[Image.Image] = []
        self._bytes = 0  # an upper bound of the GIF's size so far
        # The paletted side-by-side frames `_follow` built for this pair, by region: the one it keeps or moves to
        # is this pair's GIF frame (side by side), not built twice.
        self._built: dict[Region, Image.Image] = {}

    def _ratio(self, source: np.ndarray, enhanced: np.ndarray, region: Region) -> float:
        if region not in self._built:
            self._built[region] = side_by_side_frame(source, enhanced, region)
        return frame_sharpness(self._built[region])

    def _follow(self, source: np.ndarray, enhanced: np.ndarray, new_scene: bool) -> None:
        """Choose the region for this pair (1:1 layouts)."""
        if self.options.layout == GifLayout.FULL or (self.region is not None and not self.options.follow):
            return
        windows = gain_windows(source, enhanced, *view_size(self.options.layout, self.options.max_width))
        if windows is None:
            return  # the whole frame fits: `compare_frames` shows all of it
        best = windows.best()
        if self.region is None:
            self.region = best
            self.regions.append((self._pairs, best, "first frame"))
            return
        if best == self.region:
            return
        shown = self._ratio(source, enhanced, self.region)
        if new_scene:
            why = "new scene"
        elif windows.gain(self.region) < KEEP_GAIN * windows.gain(best):
            why = "the gain moved"
        elif shown < RATIO_FLOOR:
            why = f"the gain shown fell below {RATIO_FLOOR:g}x"
        else:
            return
        # Moving is only worth it to a window that shows more of the improvement in this very frame: of the few
        # that gain most, the one whose GIF frame is sharpest against bicubic.
        ratio, region = max(((self._ratio(source, enhanced, r), r) for r in windows.top(CANDIDATES)), key=_first)
        if ratio > shown and region != self.region:
            self.region = region
            self.regions.append((self._pairs, region, why))

    @property
    def full(self) -> bool:
        return len(self._frames) >= self.options.max_frames or self._bytes >= self.options.max_bytes

    def add(self, source: np.ndarray, enhanced: np.ndarray, new_scene: bool = False) -> None:
        """`source` is the input frame, `enhanced` the restored one (uint8, H x W x 1/3/4); sizes may differ.
        `new_scene`: this pair starts a new scene (a scene cut before it)."""
        self._built.clear()
        self._follow(source, enhanced, new_scene)
        self._pairs += 1
        built = self._built.get(self.region) if self.region is not None else None
        if built is not None and self.options.layout == GifLayout.SIDE_BY_SIDE:
            frames, paletted = [built], True
        else:
            frames, self.region = compare_frames(
                source, enhanced, self.options.layout, self.options.max_width, self.region
            )
            paletted = False
        self._built.clear()
        for frame in frames:
            cost = round(frame.width * frame.height * LZW_SLACK) + 1024  # pixels, palette and frame header
            if self.full or (self._frames and self._bytes + cost > self.options.max_bytes):
                self._bytes = self.options.max_bytes  # no room for another frame: the GIF is complete
                return
            self._frames.append(frame if paletted else quantize(frame))
            self._bytes += cost

    def finish(self) -> bytes:
        if not self._frames:
            raise ValueError("no frames to put in the GIF")
        out = io.BytesIO()
        duration = max(20, round(1000 / max(self.options.fps, 0.1)))
        first, *rest = self._frames
        first.save(out, "GIF", save_all=True, append_images=rest, duration=duration, loop=0, optimize=False)
        return out.getvalue()

    def describe(self) -> dict[str, object]:
        """For report.json: what the GIF shows."""
        return {
            "layout": self.options.layout.value,
            "region": self.regions[0][1].as_dict()
            if self.regions
            else (self.region.as_dict() if self.region else None),
            "regions": [{"from_pair": n, **r.as_dict(), "why": why} for n, r, why in self.regions],
            "pixels": "output pixels 1:1" if self.options.layout != GifLayout.FULL else "whole frame, scaled down",
            "frames": len(self._frames),
        }


def build_gif(pairs: Iterable[tuple[np.ndarray, np.ndarray]], options: GifOptions) -> GifBuilder:
    """`pairs` are (source frame, enhanced frame) uint8 arrays; returns the filled builder (`finish()` for bytes)."""
    builder = GifBuilder(options)
    for source, enhanced in pairs:
        builder.add(source, enhanced)
        if builder.full:
            break
    return builder


def comparison_png(source: np.ndarray, enhanced: np.ndarray, max_width: int) -> tuple[bytes, Region]:
    """One image's comparison, as a side-by-side PNG (full colour, no palette): the region that gains most, 1:1."""
    frames, region = compare_frames(source, enhanced, GifLayout.SIDE_BY_SIDE, max_width)
    out = io.BytesIO()
    frames[0].save(out, "PNG")
    return out.getvalue(), region
