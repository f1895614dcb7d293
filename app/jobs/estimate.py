"""What a job will cost before it runs (#26): its frames times the chosen upscaler's time for one frame of the
job's size on this device, so a user sees the price at submit and a server can refuse work over a limit
(`ENHANCE_MAX_JOB_ESTIMATE_SECONDS`).

One frame's time comes, best first, from:

- `measured`: the model's own calls in this process (`app.models.call_rate.CallRate`, a fixed cost per call plus a
  cost per input pixel), times the calls a frame of this size takes under the current call bound;
- `catalogue`: before the model has run here, the catalogue's `cpu_seconds_per_mp` (seconds per input megapixel
  measured by benchmarks/bench_upscalers.py on the project's 2-core CPU): used on the CPU only, where it was measured;
- `unknown`: neither (no prior for this model, or an accelerator that has not run it yet): no seconds, no refusal.

Only the upscaler is counted: deblur, denoise and low-light stages cost extra when they run (`auto` decides per
frame). An album's count is known only after its photos are scored, so albums carry no estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from app.core.errors import InvalidOption
from app.inference.device import Device, call_pixels

Source = Literal["measured", "catalogue", "unknown"]
# Where submit keeps a job's estimate: in its stored options, under a "_" key (the server's own, never shown as an
# option), so that it needs no column of its own (the store's schema is unchanged).
STORED_AS = "_estimate"


class EstimateOverLimit(InvalidOption):
    status, type, title = 422, "estimate-over-limit", "The job would take longer than this server allows"


@dataclass(frozen=True)
class JobEstimate:
    frames: int | None  # None: not known before decoding (a video that declares no frame count)
    width: int
    height: int
    model: str | None  # the upscaler counted; None: model=none
    seconds_per_frame: float | None
    source: Source

    @property
    def seconds(self) -> float | None:
        if self.frames is None or self.seconds_per_frame is None:
            return None
        return self.frames * self.seconds_per_frame

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobEstimate:
        return cls(
            data.get("frames"), data["width"], data["height"], data.get("model"), data.get("seconds_per_frame"),
            data.get("source", "unknown"),
        )  # fmt: skip


def frame_seconds(device: Device, model_id: str, width: int, height: int) -> tuple[float | None, Source]:
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


def estimate_job(
    device: Device, model_id: str | None, frames: int | None, width: int, height: int, select_best: int | None = None
) -> JobEstimate:
    """`frames`: what the kind expects to restore (`JobKindSpec.estimate_total`); `select_best` keeps at most K."""
    if select_best is not None:
        frames = select_best if frames is None else min(frames, select_best)
    if model_id is None:
        return JobEstimate(frames, width, height, None, None, "unknown")
    seconds, source = frame_seconds(device, model_id, width, height)
    return JobEstimate(frames, width, height, model_id, seconds, source)


def check_estimate(estimate: JobEstimate, limit: float) -> None:
    """`EstimateOverLimit` (422) when the estimate is known and over `limit` seconds (0: no limit)."""
    total = estimate.seconds
    if not limit or total is None or total <= limit:
        return
    raise EstimateOverLimit(
        f"estimate: {estimate.frames} frames x {estimate.seconds_per_frame:.2f} s ({estimate.model} at "
        f"{estimate.width}x{estimate.height}, {estimate.source}) = {total:,.0f} s, over this server's limit of "
        f"{limit:,.0f} s (ENHANCE_MAX_JOB_ESTIMATE_SECONDS); ask for fewer frames (frames, every_n, max_frames, "
        "start/end, select_best) or a faster model"
    )
