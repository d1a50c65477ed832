"""Datasets over REST: Freeplay's routes, plus a listing of ours."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.auth import database, principal, settings
from app.api.rest.models import (
    MAX_INT,
    PROBLEMS,
    AgentDatasetOut,
    CreateAgentDatasetRequest,
    CreatePromptDatasetRequest,
    DatasetList,
    DatasetOut,
    PromptDatasetOut,
    UpdateAgentDatasetRequest,
    UpdatePromptDatasetRequest,
)
from app.db.engine import Database
from app.domain import datasets
from app.domain.datasets import Dataset, DatasetChanges, NewDataset, TestCaseType
from app.domain.keys import Principal
from app.domain.pagination import Window, page_limit
from app.settings import Settings

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["datasets"], responses=PROBLEMS)

Force = Annotated[
    bool, Query(description="Delete even though test runs use it; they keep their cases.")
]


def dataset_out(dataset: Dataset) -> DatasetOut:
    return DatasetOut(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        test_case_type=dataset.test_case_type.value,
        version=dataset.version,
        test_case_count=dataset.case_count,
        input_names=dataset.input_names,
        media_input_names=dataset.media_input_names,
        support_history=dataset.support_history,
        compatible_agent_ids=dataset.compatible_agent_ids,
        created_at=dataset.created_at.isoformat(),
        updated_at=dataset.updated_at.isoformat(),
    )


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@router.post(
    "/prompt-datasets",
    status_code=201,
    response_model=PromptDatasetOut,
    summary="Create a completion (prompt) dataset",
)
async def create_prompt_dataset(
    project_id: str,
    body: CreatePromptDatasetRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> PromptDatasetOut:
    dataset = await datasets.create_dataset(
        db,
        caller,
        project_id,
        NewDataset(
            name=body.name,
            test_case_type=TestCaseType.COMPLETION,
            description=body.description or "",
            input_names=tuple(body.input_names or ()),
            media_input_names=tuple(body.media_input_names or ()),
            support_history=bool(body.support_history),
        ),
    )
    return PromptDatasetOut(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        input_names=dataset.input_names,
        media_input_names=dataset.media_input_names,
        support_history=dataset.support_history,
    )


@router.post(
    "/agent-datasets",
    status_code=201,
    response_model=AgentDatasetOut,
    summary="Create a trace (agent) dataset",
)
async def create_agent_dataset(
    project_id: str,
    body: CreateAgentDatasetRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> AgentDatasetOut:
    dataset = await datasets.create_dataset(
        db,
        caller,
        project_id,
        NewDataset(
            name=body.name,
            test_case_type=TestCaseType.TRACE,
            description=body.description or "",
            compatible_agent_ids=tuple(body.compatible_agent_ids or ()),
        ),
    )
    return AgentDatasetOut(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        compatible_agent_ids=dataset.compatible_agent_ids,
    )


@router.get("/prompt-datasets/{dataset_id}", response_model=DatasetOut, summary="A prompt dataset")
async def get_prompt_dataset(
    project_id: str,
    dataset_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> DatasetOut:
    return dataset_out(
        await datasets.get_dataset(db, caller, project_id, dataset_id, TestCaseType.COMPLETION)
    )


@router.get("/agent-datasets/{dataset_id}", response_model=DatasetOut, summary="An agent dataset")
async def get_agent_dataset(
    project_id: str,
    dataset_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> DatasetOut:
    return dataset_out(
        await datasets.get_dataset(db, caller, project_id, dataset_id, TestCaseType.TRACE)
    )


@router.patch(
    "/prompt-datasets/{dataset_id}",
    response_model=DatasetOut,
    summary="Rename or re-describe a prompt dataset",
)
async def update_prompt_dataset(
    project_id: str,
    dataset_id: str,
    body: UpdatePromptDatasetRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> DatasetOut:
    changes = DatasetChanges(
        name=body.name,
        description=body.description,
        input_names=_tuple(body.input_names),
        media_input_names=_tuple(body.media_input_names),
        support_history=body.support_history,
    )
    return dataset_out(
        await datasets.update_dataset(
            db, caller, project_id, dataset_id, changes, TestCaseType.COMPLETION
        )
    )


@router.patch(
    "/agent-datasets/{dataset_id}",
    response_model=DatasetOut,
    summary="Rename or re-describe an agent dataset",
)
async def update_agent_dataset(
    project_id: str,
    dataset_id: str,
    body: UpdateAgentDatasetRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> DatasetOut:
    changes = DatasetChanges(
        name=body.name,
        description=body.description,
        compatible_agent_ids=_tuple(body.compatible_agent_ids),
    )
    return dataset_out(
        await datasets.update_dataset(
            db, caller, project_id, dataset_id, changes, TestCaseType.TRACE
        )
    )


_DELETE_RESPONSES = {409: {"description": "Test runs use the dataset and force was not given."}}


@router.delete(
    "/prompt-datasets/{dataset_id}",
    status_code=204,
    summary="Delete a prompt dataset",
    responses=_DELETE_RESPONSES,
)
async def delete_prompt_dataset(
    project_id: str,
    dataset_id: str,
    force: Force = False,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    await datasets.delete_dataset(
        db, caller, project_id, dataset_id, force=force, kind=TestCaseType.COMPLETION
    )
    return Response(status_code=204)


@router.delete(
    "/agent-datasets/{dataset_id}",
    status_code=204,
    summary="Delete an agent dataset",
    responses=_DELETE_RESPONSES,
)
async def delete_agent_dataset(
    project_id: str,
    dataset_id: str,
    force: Force = False,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    await datasets.delete_dataset(
        db, caller, project_id, dataset_id, force=force, kind=TestCaseType.TRACE
    )
    return Response(status_code=204)


@router.get(
    "/datasets/name/{dataset_name}",
    response_model=DatasetOut,
    summary="Look up a dataset by name",
)
async def get_dataset_by_name(
    project_id: str,
    dataset_name: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> DatasetOut:
    return dataset_out(await datasets.get_dataset_by_name(db, caller, project_id, dataset_name))


@router.get("/datasets", response_model=DatasetList, summary="List the project's datasets")
async def list_datasets(
    project_id: str,
    page: Annotated[int, Query(ge=1, le=MAX_INT)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> DatasetList:
    """Both kinds, ordered by name, a numbered page at a time."""
    size = page_limit(page_size, config, "page_size")
    found = await datasets.list_datasets(
        db, caller, project_id, offset=(page - 1) * size, window=Window(size)
    )
    return DatasetList(
        datasets=[dataset_out(d) for d in found.items],
        page=page,
        page_size=size,
        total=found.total,
    )
