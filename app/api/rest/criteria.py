"""Evaluation criteria over REST: Freeplay's routes, plus creating criteria and versions
(ours: Freeplay makes them in its app)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.auth import database, principal, settings
from app.api.rest.catalog_shapes import (
    CreateCriterionRequest,
    CreateCriterionVersionRequest,
    EmptyResponse,
    EvaluationCriteriaInfo,
    EvaluationCriteriaListResponse,
    EvaluationCriteriaVersionInfo,
    EvaluationCriteriaVersionListResponse,
    ReorderCriteriaRequest,
    UpdateCriterionRequest,
    criterion_info,
    criterion_version_info,
    pagination,
)
from app.api.rest.models import MAX_INT, PROBLEMS
from app.db.engine import Database
from app.domain import criteria
from app.domain.evaluations import Direction
from app.domain.keys import Principal
from app.domain.pagination import page_limit
from app.settings import Settings

router = APIRouter(
    prefix="/api/v2/projects/{project_id}/evaluation-criteria",
    tags=["evaluation criteria"],
    responses=PROBLEMS,
)

Page = Annotated[int, Query(ge=1, le=MAX_INT)]
PageSize = Annotated[int, Query(ge=1, le=MAX_INT)]


@router.get("", response_model=EvaluationCriteriaListResponse, summary="List Evaluation Criteria")
async def list_evaluation_criteria(
    project_id: str,
    page: Page = 1,
    page_size: PageSize = 30,
    target_id: Annotated[str | None, Query(description="Ours: one template's only.")] = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaListResponse:
    """In display order."""
    size = page_limit(page_size, config, "page_size")
    found = await criteria.list_criteria(
        db, caller, project_id, offset=(page - 1) * size, limit=size, target_id=target_id
    )
    return EvaluationCriteriaListResponse(
        data=[criterion_info(c) for c in found.items], pagination=pagination(page, size, found)
    )


@router.post(
    "",
    status_code=201,
    response_model=EvaluationCriteriaInfo,
    summary="Create Evaluation Criteria (ours)",
)
async def create_evaluation_criteria(
    project_id: str,
    body: CreateCriterionRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaInfo:
    """A criterion of a prompt template with its first version, deployed, placed last."""
    new = criteria.NewCriterion(
        name=body.name,
        target_id=body.target_id,
        version=body.version(),
        direction=Direction(body.direction),
        is_enabled=body.is_enabled,
    )
    return criterion_info(await criteria.create_criterion(db, caller, project_id, new))


@router.get(
    "/id/{criteria_id}", response_model=EvaluationCriteriaInfo, summary="Get Evaluation Criteria"
)
async def get_evaluation_criteria(
    project_id: str,
    criteria_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaInfo:
    return criterion_info(await criteria.get_criterion(db, caller, project_id, criteria_id))


@router.patch(
    "/id/{criteria_id}",
    response_model=EvaluationCriteriaInfo,
    summary="Rename, or change direction (ours)",
)
async def update_evaluation_criteria(
    project_id: str,
    criteria_id: str,
    body: UpdateCriterionRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaInfo:
    updated = await criteria.update_criterion(
        db,
        caller,
        project_id,
        criteria_id,
        name=body.name,
        direction=None if body.direction is None else Direction(body.direction),
    )
    return criterion_info(updated)


@router.delete(
    "/id/{criteria_id}", response_model=EmptyResponse, summary="Delete Evaluation Criteria"
)
async def delete_evaluation_criteria(
    project_id: str,
    criteria_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """409 while a test run is to be scored on it."""
    await criteria.delete_criterion(db, caller, project_id, criteria_id)
    return EmptyResponse()


@router.patch("/id/{criteria_id}/disable", response_model=EmptyResponse, summary="Disable Criteria")
async def disable_criteria(
    project_id: str,
    criteria_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    await criteria.set_criterion_enabled(db, caller, project_id, criteria_id, False)
    return EmptyResponse()


@router.patch("/id/{criteria_id}/enable", response_model=EmptyResponse, summary="Enable Criteria")
async def enable_criteria(
    project_id: str,
    criteria_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    await criteria.set_criterion_enabled(db, caller, project_id, criteria_id, True)
    return EmptyResponse()


@router.patch("/id/{criteria_id}/reorder", response_model=EmptyResponse, summary="Reorder Criteria")
async def reorder_criteria(
    project_id: str,
    criteria_id: str,
    body: ReorderCriteriaRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """Move it just before `move_before_id`, or last when that is null."""
    await criteria.reorder_criterion(db, caller, project_id, criteria_id, body.move_before_id)
    return EmptyResponse()


@router.get(
    "/id/{criteria_id}/versions",
    response_model=EvaluationCriteriaVersionListResponse,
    summary="List Evaluation Criteria Versions",
)
async def list_criteria_versions(
    project_id: str,
    criteria_id: str,
    page: Page = 1,
    page_size: PageSize = 30,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaVersionListResponse:
    """Newest first."""
    size = page_limit(page_size, config, "page_size")
    criterion, found = await criteria.list_criterion_versions(
        db, caller, project_id, criteria_id, offset=(page - 1) * size, limit=size
    )
    return EvaluationCriteriaVersionListResponse(
        data=[criterion_version_info(criterion, v) for v in found.items],
        pagination=pagination(page, size, found),
    )


@router.post(
    "/id/{criteria_id}/versions",
    status_code=201,
    response_model=EvaluationCriteriaVersionInfo,
    summary="Create Evaluation Criteria Version (ours)",
)
async def create_criteria_version(
    project_id: str,
    criteria_id: str,
    body: CreateCriterionVersionRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaVersionInfo:
    """Used once deployed: at once with `deploy: true`, or later by its deploy route."""
    criterion, version = await criteria.create_criterion_version(
        db, caller, project_id, criteria_id, body.version(), deploy=body.deploy
    )
    return criterion_version_info(criterion, version)


@router.get(
    "/id/{criteria_id}/versions/{version_id}",
    response_model=EvaluationCriteriaVersionInfo,
    summary="Get Evaluation Criteria Version",
)
async def get_criteria_version(
    project_id: str,
    criteria_id: str,
    version_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationCriteriaVersionInfo:
    criterion, version = await criteria.get_criterion_version(
        db, caller, project_id, criteria_id, version_id
    )
    return criterion_version_info(criterion, version)


@router.delete(
    "/id/{criteria_id}/versions/{version_id}",
    response_model=EmptyResponse,
    summary="Delete Evaluation Criteria Version",
)
async def delete_criteria_version(
    project_id: str,
    criteria_id: str,
    version_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """409 for the deployed version."""
    await criteria.delete_criterion_version(db, caller, project_id, criteria_id, version_id)
    return EmptyResponse()


@router.post(
    "/id/{criteria_id}/versions/{version_id}/deploy",
    response_model=EmptyResponse,
    summary="Deploy Evaluation Criteria Version",
)
async def deploy_criteria_version(
    project_id: str,
    criteria_id: str,
    version_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    await criteria.deploy_criterion_version(db, caller, project_id, criteria_id, version_id)
    return EmptyResponse()
