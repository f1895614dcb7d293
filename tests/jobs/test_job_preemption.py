"""A job stops within one model call, not one frame (#24): the pipeline's guard runs between the calls of a frame,
so a cancel lands while a large frame is still being upscaled."""

from __future__ import annotations

from pathlib import Path

import torch

from app.core.config import Settings
from app.inference.device import Device, InlineExecutor
from app.inference.pacing import Pacing
from app.jobs.models import JobStatus
from app.jobs.options import JobOptions
from app.jobs.pipeline import JobContext, run_job
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.submit import submit_job
from app.models.registry import LoadedModel, ModelRegistry
from app.models.stages import Carry, StagedForward
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb

CANCEL_AT_CALL = 3


class CancellingExecutor(InlineExecutor):
    """Runs calls inline and, at one call, asks for the job's cancel as the API's cancel route would."""

    def __init__(self) -> None:
        self.calls = 0
        self.on_call: dict[int, list[object]] = {}
        self.cancel: tuple[JobStore, str, set[str]] | None = None

    def _count(self) -> None:
        self.calls += 1
        if self.calls == CANCEL_AT_CALL and self.cancel is not None:
            store, job_id, hints = self.cancel
            store.request_cancel(job_id)
            hints.add(job_id)  # what the embedded worker's cancel route adds

    def infer(self, model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        self._count()
        return super().infer(model, batch)

    def infer_stages(self, model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
        self._count()  # a call of a few of the network's stages (a tile's whole forward would outlast the bound)
        return super().infer_stages(model, staged, work, stop)


def test_a_cancel_lands_between_the_model_calls_of_one_frame(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    executor = CancellingExecutor()
    # A bound no call can meet: one or two 64 px tiles a call, whatever the shared model has learnt of its speed.
    device = Device(registry, executor, pacing=Pacing(call_seconds=1e-6))
    store, storage = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}"), JobStorage(tmp_path / "jobs")
    spooled = tmp_path / "jobs" / ".upload-a"
    spooled.parent.mkdir(parents=True, exist_ok=True)
    spooled.write_bytes(png_bytes(skimage_rgb("astronaut", 256)))
    options = JobOptions(model=FAST_MODEL, tile=32, outputs=["frames"])  # type: ignore[list-item]
    job, _ = submit_job(settings, store, storage, device, spooled, "astronaut.png", options)
    ctx = JobContext(settings, store, storage, device, "worker-a")
    executor.cancel = (store, job.id, ctx.cancel_hints)
    assert store.claim(job.id, "worker-a", settings.job_lease_seconds) is not None

    assert run_job(ctx, job.id) is JobStatus.CANCELLED
    # 256 px at tile 32 is 64 tiles, in at least 8 calls; the job stopped at the call after the cancel.
    assert executor.calls == CANCEL_AT_CALL
