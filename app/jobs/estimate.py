"""What a job will cost before it runs (#26): its frames times one frame's time of the job's size on this device,
so a user sees the price at submit and a server can refuse work over a limit (`ENHANCE_MAX_JOB_ESTIMATE_SECONDS`).

One frame's time is the upscaler's, plus the stages asked for whose speed is known, plus a fixed cost per frame:

- the upscaler, best first: `measured`, the model's own calls in this process (`app.models.call_rate.CallRate`, a
  fixed cost per call plus a cost per input pixel), times the calls a frame of this size takes under the current
  call bound; `catalogue`, before the model has run here, the catalogue's `cpu_seconds_per_mp` (seconds per input
  megapixel measured by benchmarks/bench_upscalers.py on the project's 2-core CPU), on the CPU only, where it was
  measured; `unknown`, neither (no prior for this model, or an accelerator that has not run it yet): no seconds, no
  refusal;
- `deblur=on` with a deblur model, and `interpolate` (the frames made between two, at the output size), once that
  model has run in this process (they have no catalogue prior); `deblur=auto` decides per frame and is not counted,
  nor are the denoise and low-light stages;
- `frame`: what every frame costs besides the models (decoding, the source and enhanced PNGs, thumbnails, the
  frame's record): a fixed part and a part per output megapixel, measured on the project's CPU (`FRAME_SECONDS`,
  `FRAME_SECONDS_PER_OUTPUT_MP`). It is more than the upscaler's prior on small frames (57 ms against 41 ms for a
  176x144 frame at x4): without it a carphone job ran 1.8 times its estimate.

An album counts the photos it may restore, each at its own size: all its usable photos (`keep=all|good`; `good`
and dropped duplicates can only make it fewer), or the `select_best` largest for `keep=best`. Scoring is not
counted. The estimate is kept in the job's own column (`JobRecord.estimate`), never in its options.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.core.errors import InvalidOption
from app.domain import DeblurMode
from app.inference.deblur import BURST, CLASSICAL
from app.inference.device import Device, call_pixels
from app.inference.enhance import Plan
from app.jobs.models import EstimateSource, JobEstimate

__all__ = [
    "EstimateOverLimit",
    "JobEstimate",
    "check_estimate",
    "estimate_album",
    "estimate_job",
    "frame_seconds",
    "overhead_seconds",
]

# What a frame costs besides its model calls on the project's 2-core Xeon (the job pipeline's own steps, each the
# fastest of 7 runs under nice -n -15): a fixed part (decoding a carphone frame 1.4 ms, its record 0.4 ms, the PNG
# and thumbnail calls' own 6 ms) and a part per output megapixel (to 8 bits, the source and enhanced PNGs and their
# thumbnails: 39 ms at 512x512, 54 ms at 704x576, 170 ms at 1280x960, 512 ms at 2560x1708). Not scaled by how busy
# the CPU is now: tried (times the upscaler's measured slowdown over its prior), it multiplied the noise of the
# upscaler's fit on a loaded machine and came out further from the runs (benchmarks/bench_estimate.py).
FRAME_SECONDS = 0.008
FRAME_SECONDS_PER_OUTPUT_MP = 0.12


class EstimateOverLimit(InvalidOption):
    status, type, title = 422, "estimate-over-limit", "The job would take longer than this server allows"


def frame_seconds(device: Device, model_id: str, width: int, height: int) -> tuple[float | None, EstimateSource]:
    """Seconds one `width` x `height` frame takes through `model_id` on this device, and where that came from."""
    pixels = width * height
    loaded = device.registry.loaded(model_id)
    fitted = loaded.rate.fit() if loaded is not None else None
    if loaded is not None and fitted is not None:
        fixed, per_pixel = fitted
        per_call = call_pixels(loaded, device.pacing.seconds()) or pixels
        return math.ceil(pixels / per_call) * fixed + per_pixel * pixels, "measured"
    prior = device.catalog.get(model_id).cpu_seconds_per_mp
    if prior is not None and device.torch_device.type == "cpu":
        return prior * pixels / 1e6, "catalogue"
    return None, "unknown"


def overhead_seconds(width: int, height: int, scale: float | None) -> float:
    """A frame's cost besides its models (`FRAME_SECONDS`, `FRAME_SECONDS_PER_OUTPUT_MP`)."""
    return FRAME_SECONDS + FRAME_SECONDS_PER_OUTPUT_MP * width * height * (scale or 1.0) ** 2 / 1e6


def _one_frame(
    device: Device, steps: Plan, width: int, height: int, interpolate: int | None
) -> tuple[float | None, EstimateSource, tuple[str, ...]]:
    """(seconds, the upscaler's source, the parts counted) for one frame; None seconds when the upscaler's are
    unknown."""
    if steps.upscale_model is None:
        return None, "unknown", ()
    seconds, source = frame_seconds(device, steps.upscale_model, width, height)
    if seconds is None:
        return None, source, ()
    counted = ["upscale"]
    if steps.deblur == DeblurMode.ON and steps.deblur_model not in {None, CLASSICAL, BURST}:
        deblur, _ = frame_seconds(device, str(steps.deblur_model), width, height)
        if deblur is not None:
            seconds, counted = seconds + deblur, [*counted, "deblur"]
    if interpolate:
        made = _interpolation_seconds(device, width, height, steps.scale)
        if made is not None:  # factor - 1 frames made after each source frame (none after the last: an upper bound)
            seconds, counted = seconds + (interpolate - 1) * made, [*counted, "interpolate"]
    return seconds + overhead_seconds(width, height, steps.scale), source, (*counted, "frame")


def _interpolation_seconds(device: Device, width: int, height: int, scale: float | None) -> float | None:
    """One frame made between two, at the enhanced frames' size, once an interpolation model has run here."""
    out = round(width * (scale or 1.0)), round(height * (scale or 1.0))
    for entry in device.catalog.by_task("interpolate"):
        if device.registry.loaded(entry.id) is not None and (seconds := frame_seconds(device, entry.id, *out)[0]):
            return seconds
    return None


def estimate_job(
    device: Device,
    steps: Plan,
    frames: int | None,
    width: int,
    height: int,
    select_best: int | None = None,
    interpolate: int | None = None,
) -> JobEstimate:
    """`frames`: what the kind expects to restore (`JobKindSpec.estimate_total`); `select_best` keeps at most K."""
    if select_best is not None:
        frames = select_best if frames is None else min(frames, select_best)
    seconds, source, counted = _one_frame(device, steps, width, height, interpolate)
    return JobEstimate(frames, width, height, steps.upscale_model, seconds, source, counted)


def estimate_album(
    device: Device, steps: Plan, sizes: Sequence[tuple[int, int]], best: int | None = None
) -> JobEstimate:
    """An album of photos of `sizes` (width, height), each at its own size; `best`: only the K best are restored
    (`keep=best`), counted as the K largest. `width` x `height` is the largest photo's, `seconds_per_frame` the mean."""
    chosen = sorted(sizes, key=lambda s: s[0] * s[1], reverse=True)[: best or None]
    width, height = chosen[0] if chosen else (0, 0)
    each = [_one_frame(device, steps, w, h, None) for w, h in chosen]
    source, counted = (each[0][1], each[0][2]) if each else ("unknown", ())
    times = [seconds for seconds, _, _ in each]
    mean = None if not times or None in times else sum(t for t in times if t is not None) / len(times)
    return JobEstimate(len(chosen), width, height, steps.upscale_model, mean, source, counted)


FEWER = {
    "frames": "fewer frames (frames, every_n, max_frames, start/end, select_best)",
    "photos": "fewer or smaller photos (or keep=best with a smaller select_best)",
}


def check_estimate(estimate: JobEstimate, limit: float, unit: str = "frames") -> None:
    """`EstimateOverLimit` (422) when the estimate is known and over `limit` seconds (0: no limit); `unit`: frames
    or photos (an album: the mean over its photos, at the largest one's size)."""
    total = estimate.seconds
    if not limit or total is None or total <= limit:
        return
    size = f"{estimate.width}x{estimate.height}" if unit == "frames" else f"up to {estimate.width}x{estimate.height}"
    raise EstimateOverLimit(
        f"estimate: {estimate.frames} {unit} x {estimate.seconds_per_frame:.2f} s ({estimate.model} at {size}, "
        f"{estimate.source}; counted: {', '.join(estimate.counted)}) = {total:,.0f} s, over this server's limit of "
        f"{limit:,.0f} s (ENHANCE_MAX_JOB_ESTIMATE_SECONDS); ask for {FEWER[unit]} or a faster model"
    )
