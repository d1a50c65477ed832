"""Datasets and their test cases over REST (Freeplay's routes, plus a few of ours)."""

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.auth import database, principal
from app.api.rest import rendering
from app.api.rest.models import (
    AddTestCasesOut,
    AddTestCasesRequest,
    AgentDatasetOut,
    CreateAgentDatasetRequest,
    CreatePromptDatasetRequest,
    DatasetCompletionCase,
    DatasetOut,
    DatasetTraceCase,
    PromptDatasetOut,
)
from app.db.engine import Database
from app.domain import datasets
from app.domain.datasets import Dataset, NewDataset, TestCaseType
from app.domain.keys import Principal

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["datasets"])


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


@router.post(
    "/datasets/id/{dataset_id}/test-cases",
    status_code=201,
    response_model=AddTestCasesOut,
    summary="Add test cases (all in one new dataset version)",
)
async def add_test_cases(
    project_id: str,
    dataset_id: str,
    body: AddTestCasesRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> AddTestCasesOut:
    added = await datasets.add_test_cases(db, caller, project_id, dataset_id, body.examples)
    return AddTestCasesOut(
        message=f"added {len(added.case_ids)} test cases",
        dataset_version=added.version.number,
        test_case_ids=list(added.case_ids),
    )


@router.get(
    "/datasets/id/{dataset_id}/test-cases",
    response_model=list[DatasetCompletionCase] | list[DatasetTraceCase],
    summary="List a dataset's test cases (a bare JSON array)",
)
async def list_test_cases(
    project_id: str,
    dataset_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    dataset, cases = await datasets.list_test_cases(db, caller, project_id, dataset_id)
    render = (
        rendering.dataset_completion_case
        if dataset.test_case_type is TestCaseType.COMPLETION
        else rendering.dataset_trace_case
    )
    body = rendering.json_array(render(case) for case in cases)
    return Response(body.encode(), media_type="application/json")
