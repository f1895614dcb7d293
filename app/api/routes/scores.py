"""POST /v1/images/score: quality scores and a keep/reject verdict for one or more images."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Query, UploadFile

from app.api.deps import SettingsDep
from app.api.openapi import problems
from app.api.uploads import read_upload
from app.core.errors import InvalidOption
from app.domain import Verdict
from app.media.decode import decode_image
from app.quality.scores import Thresholds, score_image
from app.schemas import ScorePublic, ScoresPublic

router = APIRouter(prefix="/v1/images", tags=["images"])
MAX_FILES = 32


@router.post(
    "/score",
    operation_id="scoreImages",
    summary="Score images: keep or reject",
    response_model=ScoresPublic,
    responses=problems(401, 413, 415, 422),
)
async def score_images(
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="one or more images")],
    thresholds: Annotated[
        str | None,
        Query(description='JSON object overriding verdict thresholds, e.g. {"max_noise": 12, "min_sharpness": 0.2}'),
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
        picture = await asyncio.to_thread(decode_image, raw, settings.max_pixels, settings.max_side)
        scores = await asyncio.to_thread(score_image, np.asarray(picture.pixels), limits)
        data.append(
            ScorePublic(
                filename=upload.filename or "upload",
                width=picture.width,
                height=picture.height,
                verdict=Verdict(scores.verdict),
                reasons=scores.reasons,
                quality=scores.quality,
                scores={k: v for k, v in scores.as_dict().items() if k not in {"verdict", "reasons", "quality"}},
            )
        )
    return ScoresPublic(data=data, count=len(data), thresholds=asdict(limits))
