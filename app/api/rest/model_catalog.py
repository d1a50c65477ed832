"""The model catalog over REST: Freeplay's /api/v2/models routes (instance-wide; an admin
key changes it, any key reads it)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.api.auth import database, principal, settings
from app.api.rest.catalog_shapes import (
    EmptyResponse,
    ModelListResponse,
    ModelReplicationInfo,
    ReplicateModelRequest,
    UpdateModelRequest,
    model_info,
    pagination,
)
from app.api.rest.models import MAX_INT, PROBLEMS, problem_response
from app.db.engine import Database
from app.domain import llm_models
from app.domain.keys import Principal
from app.domain.pagination import page_limit
from app.settings import Settings

router = APIRouter(prefix="/api/v2/models", tags=["models"], responses=PROBLEMS)
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: problem_response("Only an admin key may change the model catalog.")
}


@router.get("", response_model=ModelListResponse, summary="List Models")
async def list_models(
    page: Annotated[int, Query(ge=1, le=MAX_INT)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_INT)] = 30,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> ModelListResponse:
    size = page_limit(page_size, config, "page_size")
    found = await llm_models.list_models(db, caller, offset=(page - 1) * size, limit=size)
    return ModelListResponse(
        data=[model_info(m) for m in found.items], pagination=pagination(page, size, found)
    )


@router.post("", response_model=ModelReplicationInfo, summary="Create Model", responses=ADMIN_ONLY)
async def replicate_model(
    body: ReplicateModelRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ModelReplicationInfo:
    """Create the model with this id, or update it if it exists (200 either way)."""
    return model_info(await llm_models.upsert_model(db, caller, body.id, body.domain()))


@router.get("/{model_id}", response_model=ModelReplicationInfo, summary="Get Model")
async def get_model(
    model_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> ModelReplicationInfo:
    return model_info(await llm_models.get_model(db, caller, model_id))


@router.put(
    "/{model_id}", response_model=ModelReplicationInfo, summary="Update Model", responses=ADMIN_ONLY
)
async def update_model(
    model_id: str,
    body: UpdateModelRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ModelReplicationInfo:
    return model_info(await llm_models.update_model(db, caller, model_id, body.domain()))


@router.delete(
    "/{model_id}", response_model=EmptyResponse, summary="Delete Model", responses=ADMIN_ONLY
)
async def delete_model(
    model_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> EmptyResponse:
    """409 while an evaluation criterion version judges with it."""
    await llm_models.delete_model(db, caller, model_id)
    return EmptyResponse()
