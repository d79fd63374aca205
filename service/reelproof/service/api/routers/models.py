"""``GET /v1/models``: what the analysis workers loaded."""

from __future__ import annotations

from fastapi import APIRouter

from reelproof.service.api.deps import Owner, State
from reelproof.service.api.models import ModelsModel
from reelproof.service.api.problems import problem_openapi

router = APIRouter(tags=["service"])


@router.get(
    "/v1/models",
    response_model=ModelsModel,
    summary="Loaded models, keys and versions",
    responses=problem_openapi(400, 401, 422, 429),
)
async def models(state: State, owner: Owner) -> ModelsModel:
    info = state.runner.info
    if info is None:  # the workers are still loading: describe what this process knows
        return ModelsModel(
            signals=state.light.describe_models(),
            versions=state.light.versions(),
            load_errors={},
            workers=state.runner.worker_count(),
        )
    return ModelsModel(
        signals=info.signals,
        versions=info.versions,
        load_errors=info.load_errors,
        workers=state.runner.worker_count(),
    )
