"""The report's `temporal`: how a temporal model (BasicVSR, AnimeSR) restored a video job's frames, from what each
frame's record says of its run (`jobs.temporal_frames`): the model, its windows' core and context, how many runs
and windows restored the frames, and the frames where a scene cut restarted it (nothing before a cut was read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.jobs.models import FrameRecord


def temporal_report(frames: Sequence[FrameRecord]) -> dict[str, Any] | None:
    """None when no frame was restored by a temporal model. A job run in segments, or resumed, has runs of its
    own per worker and attempt: each starts from its context frames, as `jobs.temporal_frames` says."""
    runs = [f.detail["temporal"] for f in frames if f.detail.get("temporal")]
    if not runs:
        return None
    return {
        "model": _one_or_all(r["model"] for r in runs),
        "core": _one_or_all(r["core"] for r in runs),  # frames a window restores (fewer for large frames)
        "context": _one_or_all(r["context"] for r in runs),  # frames read on each side of a window's core
        "frames": len(runs),
        "runs": len({r["run"] for r in runs}),
        "windows": len({(r["run"], r["window"]) for r in runs}),
        "restarts_at_cuts": sorted({r["run"] for r in runs if r["restarted_at_cut"]}),
    }


def _one_or_all(values: Any) -> Any:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else distinct
