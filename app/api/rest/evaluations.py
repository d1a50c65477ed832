"""Evaluations and flavors over REST (ours)."""

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.auth import database, principal
from app.api.rest.models import (
    PROBLEMS,
    CreateEvaluationRequest,
    CreateFlavorRequest,
    EvaluationList,
    EvaluationOut,
    FlavorList,
    FlavorOut,
    UpdateEvaluationRequest,
    UpdateFlavorRequest,
)
from app.db.engine import Database
from app.domain import evaluations
from app.domain.evaluations import (
    Direction,
    Evaluation,
    EvaluationChanges,
    EvaluationKind,
    EvaluationSource,
    Flavor,
    NewEvaluation,
)
from app.domain.keys import Principal

router = APIRouter(
    prefix="/api/v2/projects/{project_id}", tags=["evaluations and flavors"], responses=PROBLEMS
)


def evaluation_out(evaluation: Evaluation) -> EvaluationOut:
    return EvaluationOut(
        id=evaluation.id,
        name=evaluation.name,
        description=evaluation.description,
        kind=evaluation.kind.value,
        source=evaluation.source.value,
        categories=evaluation.categories,
        direction=evaluation.direction.value,
        created_at=evaluation.created_at.isoformat(),
    )


def flavor_out(flavor: Flavor) -> FlavorOut:
    return FlavorOut(
        id=flavor.id,
        name=flavor.name,
        settings=flavor.settings,
        created_at=flavor.created_at.isoformat(),
    )


@router.post("/evaluations", status_code=201, response_model=EvaluationOut)
async def create_evaluation(
    project_id: str,
    body: CreateEvaluationRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationOut:
    """An evaluation runs score on: numeric, boolean (pass/fail) or a category; auto or
    human."""
    new = NewEvaluation(
        name=body.name,
        kind=EvaluationKind(body.kind),
        source=EvaluationSource(body.source),
        description=body.description or "",
        categories=tuple(body.categories or ()),
        direction=Direction(body.direction),
    )
    return evaluation_out(await evaluations.create_evaluation(db, caller, project_id, new))


@router.get("/evaluations", response_model=EvaluationList)
async def list_evaluations(
    project_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> EvaluationList:
    found = await evaluations.list_evaluations(db, caller, project_id)
    return EvaluationList(evaluations=[evaluation_out(e) for e in found])


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationOut)
async def get_evaluation(
    project_id: str,
    evaluation_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationOut:
    return evaluation_out(await evaluations.get_evaluation(db, caller, project_id, evaluation_id))


@router.patch("/evaluations/{evaluation_id}", response_model=EvaluationOut)
async def update_evaluation(
    project_id: str,
    evaluation_id: str,
    body: UpdateEvaluationRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EvaluationOut:
    changes = EvaluationChanges(
        name=body.name,
        description=body.description,
        categories=None if body.categories is None else tuple(body.categories),
        direction=None if body.direction is None else Direction(body.direction),
    )
    updated = await evaluations.update_evaluation(db, caller, project_id, evaluation_id, changes)
    return evaluation_out(updated)


@router.delete(
    "/evaluations/{evaluation_id}",
    status_code=204,
    responses={409: {"description": "Test runs use the evaluation."}},
)
async def delete_evaluation(
    project_id: str,
    evaluation_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    await evaluations.delete_evaluation(db, caller, project_id, evaluation_id)
    return Response(status_code=204)


@router.post("/flavors", status_code=201, response_model=FlavorOut)
async def create_flavor(
    project_id: str,
    body: CreateFlavorRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> FlavorOut:
    """A named set of model/provider settings that test runs are made with."""
    return flavor_out(
        await evaluations.create_flavor(db, caller, project_id, body.name, body.settings)
    )


@router.get("/flavors", response_model=FlavorList)
async def list_flavors(
    project_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> FlavorList:
    found = await evaluations.list_flavors(db, caller, project_id)
    return FlavorList(flavors=[flavor_out(f) for f in found])


@router.get("/flavors/{flavor_id}", response_model=FlavorOut)
async def get_flavor(
    project_id: str,
    flavor_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> FlavorOut:
    return flavor_out(await evaluations.get_flavor(db, caller, project_id, flavor_id))


@router.patch("/flavors/{flavor_id}", response_model=FlavorOut)
async def update_flavor(
    project_id: str,
    flavor_id: str,
    body: UpdateFlavorRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> FlavorOut:
    updated = await evaluations.update_flavor(
        db, caller, project_id, flavor_id, name=body.name, settings=body.settings
    )
    return flavor_out(updated)


@router.delete(
    "/flavors/{flavor_id}",
    status_code=204,
    responses={409: {"description": "Test runs were made with the flavor."}},
)
async def delete_flavor(
    project_id: str,
    flavor_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    await evaluations.delete_flavor(db, caller, project_id, flavor_id)
    return Response(status_code=204)
