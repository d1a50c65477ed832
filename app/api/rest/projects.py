"""Projects over REST, as Freeplay's API has them (deleting one is ours)."""

from fastapi import APIRouter, Depends

from app.api.auth import database, principal
from app.api.rest.models import (
    PROBLEMS,
    CreateProjectRequest,
    Empty,
    ProjectDetail,
    ProjectInfo,
    ProjectList,
    UpdateProjectRequest,
)
from app.db.engine import Database
from app.domain import projects
from app.domain.keys import Principal
from app.domain.projects import Project, ProjectChanges, ProjectSettings

router = APIRouter(
    prefix="/api/v2/projects",
    tags=["projects"],
    responses={**PROBLEMS, 403: {**PROBLEMS[401], "description": "Not an admin key."}},
)


def project_out(project: Project) -> ProjectDetail:
    settings = project.settings
    return ProjectDetail(
        id=project.id,
        name=project.name,
        is_private=settings.is_private,
        freeplay_spend_limit_usd=settings.freeplay_spend_limit_usd,
        data_retention_days=settings.data_retention_days,
        enable_eval_insights=settings.enable_eval_insights,
        enable_review_insights=settings.enable_review_insights,
    )


@router.get("/all", response_model=ProjectList, summary="The projects this key may see")
async def list_projects(
    db: Database = Depends(database), caller: Principal = Depends(principal)
) -> ProjectList:
    found = await projects.list_projects(db, caller)
    return ProjectList(projects=[ProjectInfo(id=p.id, name=p.name) for p in found])


@router.post("", status_code=201, response_model=ProjectDetail, summary="Create a project (admin)")
async def create_project(
    body: CreateProjectRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ProjectDetail:
    settings = ProjectSettings(
        is_private=body.is_private,
        freeplay_spend_limit_usd=body.freeplay_spend_limit_usd,
        data_retention_days=body.data_retention_days,
        enable_eval_insights=body.enable_eval_insights,
        enable_review_insights=body.enable_review_insights,
    )
    return project_out(await projects.add_project(db, caller, body.name, settings, body.id))


@router.get("/{project_id}", response_model=ProjectDetail, summary="A project and its settings")
async def get_project(
    project_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> ProjectDetail:
    return project_out(await projects.get_project(db, caller, project_id))


@router.put(
    "/{project_id}", response_model=ProjectDetail, summary="Rename a project or set its settings"
)
async def update_project(
    project_id: str,
    body: UpdateProjectRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ProjectDetail:
    changes = ProjectChanges(**body.model_dump())
    return project_out(await projects.update_project(db, caller, project_id, changes))


@router.delete(
    "/{project_id}",
    response_model=Empty,
    summary="Delete a project and everything in it (admin; ours)",
)
async def delete_project(
    project_id: str, db: Database = Depends(database), caller: Principal = Depends(principal)
) -> Empty:
    await projects.delete_project(db, caller, project_id)
    return Empty()
