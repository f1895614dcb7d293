"""GET /v1/models: the catalogue, with each model's weight and load state."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import docs_text as docs
from app.api.deps import RegistryDep, SettingsDep
from app.api.openapi import problems
from app.models.catalog import weight_states
from app.schemas import ModelPublic, ModelsPublic

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "",
    operation_id="listModels",
    summary="List the models",
    description=docs.MODELS,
    response_model=ModelsPublic,
    responses={200: docs.ok(docs.MODELS_OK, "the catalogue"), **problems(401)},
)
def list_models(registry: RegistryDep, settings: SettingsDep) -> ModelsPublic:
    states = weight_states(registry.catalog, settings.weights_path)
    data = []
    for entry in registry.catalog.entries:
        loaded = registry.loaded(entry.id)
        data.append(
            ModelPublic(
                id=entry.id,
                task=entry.task,
                architecture=entry.architecture,
                scale=entry.scale,
                description=entry.description,
                license=entry.license,
                file=entry.file,
                sha256=entry.sha256,
                weights=states[entry.id],
                loaded=loaded is not None,
                device=str(loaded.device) if loaded else None,
                dtype=loaded.precision.dtype_name if loaded else None,
                channels_last=loaded.precision.channels_last if loaded else None,
                default=entry.id == settings.default_model,
                default_for_video=entry.id == settings.video_model,
                good_for=list(entry.good_for),
                speed=entry.speed or None,
                denoise=entry.denoise,
                denoise_levels={
                    str(level): model for level, model in registry.catalog.denoise_levels(entry.id).items()
                },
                origin=entry.origin,
                temporal=entry.temporal,
            )
        )
    return ModelsPublic(data=data, count=len(data))
