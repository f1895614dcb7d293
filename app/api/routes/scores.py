"""POST /v1/images/score: quality scores and a keep/reject verdict for one or more images."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from app.api import docs_text as docs
from app.api.deps import DeviceDep, SettingsDep
from app.api.openapi import problems
from app.api.quota import QuotaKey
from app.api.uploads import read_upload
from app.core.errors import InvalidOption
from app.domain import Verdict
from app.inference.admission import score_bytes
from app.quality.scores import Thresholds
from app.schemas import ScorePublic, ScoresPublic

router = APIRouter(prefix="/v1/images", tags=["images"])
MAX_FILES = 32


@router.post(
    "/score",
    operation_id="scoreImages",
    summary="Score images: keep or reject",
    description=docs.SCORE,
    response_model=ScoresPublic,
    responses={
        200: docs.ok(docs.SCORES_OK, "a score and a verdict per image"),
        **problems(401, 413, 415, 422, 429, 503),
    },
)
async def score_images(
    settings: SettingsDep,
    device: DeviceDep,
    _key: QuotaKey,
    files: Annotated[list[UploadFile], File(description="one or more images")],
    thresholds: Annotated[
        str | None,
        Query(
            description="JSON object overriding verdict thresholds (the answer's `thresholds` lists them all), e.g. "
            '{"max_noise": 12, "min_sharpness": 0.2}',
            examples=['{"max_noise": 12, "min_sharpness": 0.2}'],
        ),
    ] = None,
) -> ScoresPublic:
    if len(files) > MAX_FILES:
        raise InvalidOption(f"at most {MAX_FILES} files per request")
    try:
        limits = Thresholds.with_overrides(json.loads(thresholds) if thresholds else None)
    except (ValueError, TypeError) as exc:
        raise InvalidOption(f"thresholds: {exc}") from exc
    data = []
    for upload in files:
        raw = await read_upload(upload, settings.max_upload_bytes)
        name = upload.filename or "upload"
        # Admitted like an image request: 413 if it could never fit, 503 + Retry-After after a bounded wait.
        scored = await asyncio.to_thread(score_bytes, raw, settings, device.memory, limits, name)
        scores = scored.scores
        data.append(
            ScorePublic(
                filename=name,
                width=scored.width,
                height=scored.height,
                verdict=Verdict(scores.verdict),
                reasons=scores.reasons,
                quality=scores.quality,
                scores={k: v for k, v in scores.as_dict().items() if k not in {"verdict", "reasons", "quality"}},
            )
        )
    return ScoresPublic(data=data, count=len(data), thresholds=asdict(limits))
