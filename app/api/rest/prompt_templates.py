"""Prompt templates over REST: Freeplay's routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from app.api.auth import database, principal, settings
from app.api.rest.catalog_shapes import (
    BoundPromptTemplate,
    CreatePromptTemplateRequest,
    CreatePromptTemplateResponse,
    CreateTemplateVersionRequest,
    EmptyResponse,
    PlainPromptTemplate,
    PromptTemplateInfo,
    PromptTemplateListResponse,
    PromptTemplatesByEnvironmentResponse,
    PromptTemplateVersionListResponse,
    UpdatePromptTemplateRequest,
    UpdateTemplateVersionEnvironmentsRequest,
    bound_template,
    pagination,
    plain_template,
    template_info,
)
from app.api.rest.models import MAX_INT, PROBLEMS
from app.db.engine import Database
from app.domain import prompt_templates
from app.domain.keys import Principal
from app.domain.pagination import page_limit
from app.domain.prompt_templates import LATEST
from app.settings import Settings

router = APIRouter(
    prefix="/api/v2/projects/{project_id}/prompt-templates",
    tags=["prompt templates"],
    responses=PROBLEMS,
)

Page = Annotated[int, Query(ge=1, le=MAX_INT)]
PageSize = Annotated[int, Query(ge=1, le=MAX_INT)]
Environment = Annotated[
    str | None, Query(description='The environment (default "latest": the newest version).')
]
Format = Annotated[str | None, Query(description="Accepted and ignored.")]
FlavorName = Annotated[
    str | None,
    Query(description="Shown as metadata.flavor (default: the provider's, e.g. openai_chat)."),
]
Variables = Annotated[dict[str, Any], Body(description="The template's variables.")]


@router.get("", response_model=PromptTemplateListResponse, summary="List prompt templates")
async def list_prompt_templates(
    project_id: str,
    page: Page = 1,
    page_size: PageSize = 30,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> PromptTemplateListResponse:
    size = page_limit(page_size, config, "page_size")
    found = await prompt_templates.list_templates(
        db, caller, project_id, offset=(page - 1) * size, limit=size
    )
    return PromptTemplateListResponse(
        data=[template_info(t) for t in found.items], pagination=pagination(page, size, found)
    )


@router.post(
    "",
    status_code=201,
    response_model=CreatePromptTemplateResponse,
    summary="Create prompt template",
)
async def create_prompt_template(
    project_id: str,
    body: CreatePromptTemplateRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> CreatePromptTemplateResponse:
    """A template without versions (409 when the name or the id is taken)."""
    template = await prompt_templates.create_template(db, caller, project_id, body.name, body.id)
    return CreatePromptTemplateResponse(id=template.id)


@router.get(
    "/all/{environment}",
    response_model=PromptTemplatesByEnvironmentResponse,
    summary="Get all prompt templates by environment",
)
async def get_all_by_environment(
    project_id: str,
    environment: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PromptTemplatesByEnvironmentResponse:
    found = await prompt_templates.versions_in_environment(db, caller, project_id, environment)
    return PromptTemplatesByEnvironmentResponse(prompt_templates=[plain_template(v) for v in found])


@router.get("/id/{template_id}", response_model=PromptTemplateInfo, summary="Get prompt template")
async def get_prompt_template(
    project_id: str,
    template_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PromptTemplateInfo:
    return template_info(await prompt_templates.get_template(db, caller, project_id, template_id))


@router.patch(
    "/id/{template_id}", response_model=EmptyResponse, summary="Update (rename) prompt template"
)
async def update_prompt_template(
    project_id: str,
    template_id: str,
    body: UpdatePromptTemplateRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    await prompt_templates.rename_template(db, caller, project_id, template_id, body.name)
    return EmptyResponse()


@router.delete("/id/{template_id}", response_model=EmptyResponse, summary="Delete prompt template")
async def delete_prompt_template(
    project_id: str,
    template_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """Archive the template and its versions (test runs that used them keep them)."""
    await prompt_templates.delete_template(db, caller, project_id, template_id)
    return EmptyResponse()


@router.post(
    "/id/{template_id}/versions",
    status_code=201,
    response_model=PlainPromptTemplate,
    summary="Create prompt template version by ID",
)
async def create_template_version_by_id(
    project_id: str,
    template_id: str,
    body: CreateTemplateVersionRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PlainPromptTemplate:
    """A new version, deployed to `environments`; an identical version already in one of
    them is reused instead (and deployed to all of them)."""
    version, _ = await prompt_templates.create_version(
        db, caller, project_id, body.domain(), template_id=template_id
    )
    return plain_template(version)


@router.post(
    "/name/{template_name}/versions",
    status_code=201,
    response_model=PlainPromptTemplate,
    summary="Create prompt template version by name",
)
async def create_template_version_by_name(
    project_id: str,
    template_name: str,
    body: CreateTemplateVersionRequest,
    create_template_if_not_exists: bool | None = None,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PlainPromptTemplate:
    version, _ = await prompt_templates.create_version(
        db,
        caller,
        project_id,
        body.domain(),
        template_name=template_name,
        create_template=bool(create_template_if_not_exists),
    )
    return plain_template(version)


@router.get(
    "/id/{template_id}/versions",
    response_model=PromptTemplateVersionListResponse,
    summary="List prompt template versions",
)
async def list_prompt_template_versions(
    project_id: str,
    template_id: str,
    page: Page = 1,
    page_size: PageSize = 30,
    from_version: Annotated[
        str | None, Query(description="Start from this version (id or number), newest first.")
    ] = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> PromptTemplateVersionListResponse:
    size = page_limit(page_size, config, "page_size")
    found = await prompt_templates.list_versions(
        db,
        caller,
        project_id,
        template_id,
        offset=(page - 1) * size,
        limit=size,
        from_version=from_version,
    )
    return PromptTemplateVersionListResponse(
        data=[plain_template(v) for v in found.items], pagination=pagination(page, size, found)
    )


@router.get(
    "/id/{template_id}/versions/{version_id}",
    response_model=PlainPromptTemplate,
    summary="Get prompt template version by ID",
)
async def get_by_template_version_id(
    project_id: str,
    template_id: str,
    version_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PlainPromptTemplate:
    version = await prompt_templates.get_version(db, caller, project_id, version_id, template_id)
    return plain_template(version)


@router.post(
    "/id/{template_id}/versions/{version_id}",
    response_model=BoundPromptTemplate,
    summary="Get bound prompt template version by ID",
)
async def get_bound_by_template_version_id(
    project_id: str,
    template_id: str,
    version_id: str,
    variables: Variables,
    environment: Environment = None,
    format: Format = None,
    flavor_name: FlavorName = None,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> BoundPromptTemplate:
    """The version with the body's variables filled in (422 `missing_variables` names any
    variable the messages need and the body lacks)."""
    version = await prompt_templates.get_version(db, caller, project_id, version_id, template_id)
    return bound_template(version, version.render(variables), flavor_name)


@router.delete(
    "/id/{template_id}/versions/{version_id}",
    response_model=EmptyResponse,
    summary="Delete prompt template version",
)
async def delete_template_version(
    project_id: str,
    template_id: str,
    version_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """409 while a named environment uses the version."""
    await prompt_templates.delete_version(db, caller, project_id, template_id, version_id)
    return EmptyResponse()


@router.post(
    "/id/{template_id}/versions/{version_id}/environments",
    response_model=EmptyResponse,
    summary="Update environment for prompt template version",
)
async def update_template_version_environments(
    project_id: str,
    template_id: str,
    version_id: str,
    body: UpdateTemplateVersionEnvironmentsRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> EmptyResponse:
    """Deploy the version to exactly these environments."""
    await prompt_templates.set_version_environments(
        db, caller, project_id, template_id, version_id, body.environments
    )
    return EmptyResponse()


@router.get(
    "/name/{name}",
    response_model=PlainPromptTemplate,
    summary="Get prompt template by name and environment",
)
async def get_by_name_and_environment(
    project_id: str,
    name: str,
    environment: Environment = None,
    format: Format = None,
    flavor_name: FlavorName = None,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PlainPromptTemplate:
    version = await prompt_templates.version_in_environment(
        db, caller, project_id, name, environment or LATEST
    )
    return plain_template(version, flavor_name)


@router.post(
    "/name/{name}",
    response_model=BoundPromptTemplate,
    summary="Get bound prompt template by name and environment",
)
async def get_bound_by_name_and_environment(
    project_id: str,
    name: str,
    variables: Variables,
    environment: Environment = None,
    format: Format = None,
    flavor_name: FlavorName = None,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> BoundPromptTemplate:
    version = await prompt_templates.version_in_environment(
        db, caller, project_id, name, environment or LATEST
    )
    return bound_template(version, version.render(variables), flavor_name)
