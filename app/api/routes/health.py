"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api import docs_text as docs
from app.api.deps import RegistryDep, SettingsDep
from app.models.catalog import WeightState, weight_states
from app.models.registry import cuda_fallback_reason
from app.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    operation_id="getHealth",
    summary="Liveness",
    description=docs.HEALTH,
    response_model=HealthPublic,
    responses={200: docs.ok(docs.HEALTH_OK, "the process answers")},
)
async def healthz() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness",
    description=docs.READY,
    response_model=HealthPublic,
    responses={
        200: docs.ok(docs.READY_OK, "ready to serve"),
        503: {
            "model": HealthPublic,
            "description": "not ready yet; `detail` says what is missing",
            "content": {"application/json": {"example": docs.READY_NOT}},
        },
    },
)
def readyz(registry: RegistryDep, settings: SettingsDep) -> JSONResponse:
    """Ready once the default model's weights are installed and verified, and any preloaded model is loaded."""
    detail: dict[str, str] = {"device": str(registry.device)}
    if registry.device.type == "cpu" and (reason := cuda_fallback_reason()):
        detail["device_warning"] = f"{reason}; running on the CPU"
    states = weight_states(registry.catalog, settings.weights_path)
    default_state = states.get(settings.default_model, WeightState.MISSING)
    detail[settings.default_model] = default_state.value
    ok = default_state == WeightState.PRESENT
    for model_id in settings.preload:
        loaded = registry.loaded(model_id) is not None
        detail[f"preload:{model_id}"] = "loaded" if loaded else "loading"
        ok = ok and loaded
    body = HealthPublic(status="ready" if ok else "not-ready", detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
