"""Test cases through Freeplay's prompt-dataset and agent-dataset routes: numbered pages,
bulk create and delete (at most 100 at a time), and one case by id.

Prompt cases read ``inputs``; agent cases are ``{input, output, metadata}`` going out and
``{inputs, outputs, metadata}`` coming in, as Freeplay's document has them.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.auth import database, principal, settings
from app.api.rest import rendering
from app.api.rest.models import (
    FREEPLAY_PAGE_SIZE,
    MAX_INT,
    PROBLEMS,
    AgentTestCaseOut,
    AgentTestCasePage,
    AgentTestCasesOut,
    BulkCreateAgentTestCasesRequest,
    BulkCreatePromptTestCasesRequest,
    BulkDeleteTestCasesRequest,
    DatasetCompletionCase,
    DatasetTraceCase,
    Empty,
    PageNumber,
    PageSize,
    PromptTestCaseOut,
    PromptTestCasePage,
    PromptTestCasesOut,
    UpdateAgentTestCaseRequest,
    UpdatePromptTestCaseRequest,
)
from app.api.rest.test_cases import case_array
from app.db.engine import Database
from app.domain import datasets, test_cases
from app.domain.datasets import StoredTestCase, TestCaseType
from app.domain.keys import Principal
from app.domain.pagination import page_limit
from app.settings import Settings

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["test cases"], responses=PROBLEMS)

PROMPT = TestCaseType.COMPLETION
AGENT = TestCaseType.TRACE

# Agent cases come in under Freeplay's names; the domain knows them by ours.
AGENT_KEYS = {"inputs": "input", "outputs": "output", "metadata": "custom_metadata"}


def _agent_example(case: dict[str, Any]) -> dict[str, Any]:
    return {AGENT_KEYS[key]: value for key, value in case.items()}


def _json(body: str, status: int = 200) -> Response:
    return Response(body.encode(), status_code=status, media_type="application/json")


def _render(out: rendering.Rendering, kind: TestCaseType) -> Callable[[StoredTestCase], str]:
    return out.prompt_case if kind is PROMPT else out.agent_case


async def _page(
    db: Database,
    config: Settings,
    caller: Principal,
    project_id: str,
    dataset_id: str,
    kind: TestCaseType,
    page: int,
    page_size: int,
) -> Response:
    size = page_limit(page_size, config, "page_size")
    _, found = await datasets.case_number_page(
        db, caller, project_id, dataset_id, page=page, page_size=size, kind=kind
    )
    out = rendering.chosen(db)
    items = out.array(found.items, _render(out, kind))
    has_next = "true" if found.has_next else "false"
    return _json(
        f'{{"data":{items},"pagination":{{"page":{page},"page_size":{size},'
        f'"has_next":{has_next}}}}}'
    )


async def _bulk_create(
    db: Database,
    caller: Principal,
    project_id: str,
    dataset_id: str,
    kind: TestCaseType,
    examples: list[Any],
) -> Response:
    _, made = await test_cases.bulk_add_test_cases(
        db, caller, project_id, dataset_id, examples, kind
    )
    out = rendering.chosen(db)
    return _json(f'{{"data":{out.array(made, _render(out, kind))}}}', 201)


async def _get_case(
    db: Database,
    caller: Principal,
    project_id: str,
    dataset_id: str,
    case_id: str,
    kind: TestCaseType,
) -> Response:
    _, case = await test_cases.get_test_case(db, caller, project_id, dataset_id, case_id, kind)
    return _json(_render(rendering.chosen(db), kind)(case))


async def _update_case(
    db: Database,
    caller: Principal,
    project_id: str,
    dataset_id: str,
    case_id: str,
    kind: TestCaseType,
    changes: dict[str, Any],
) -> Response:
    """Keys sent as null are left as they are; with nothing to change, the case as it is."""
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        return await _get_case(db, caller, project_id, dataset_id, case_id, kind)
    edited = await test_cases.update_test_case(
        db, caller, project_id, dataset_id, case_id, changes, kind
    )
    return _json(_render(rendering.chosen(db), kind)(edited.case))


# ---- prompt datasets ---------------------------------------------------------------------


@router.get(
    "/prompt-datasets/{dataset_id}/test-cases",
    response_model=PromptTestCasePage,
    summary="List a prompt dataset's test cases, a numbered page at a time",
)
async def list_prompt_test_cases(
    project_id: str,
    dataset_id: str,
    page: PageNumber = 1,
    page_size: PageSize = FREEPLAY_PAGE_SIZE,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> Response:
    return await _page(db, config, caller, project_id, dataset_id, PROMPT, page, page_size)


@router.post(
    "/prompt-datasets/{dataset_id}/test-cases/bulk",
    status_code=201,
    response_model=PromptTestCasesOut,
    summary="Add up to 100 test cases to a prompt dataset (one new version)",
)
async def bulk_create_prompt_test_cases(
    project_id: str,
    dataset_id: str,
    body: BulkCreatePromptTestCasesRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    examples = [case.model_dump() for case in body.data]
    return await _bulk_create(db, caller, project_id, dataset_id, PROMPT, examples)


@router.delete(
    "/prompt-datasets/{dataset_id}/test-cases/bulk",
    response_model=Empty,
    summary="Delete up to 100 test cases of a prompt dataset (one new version)",
)
async def bulk_delete_prompt_test_cases(
    project_id: str,
    dataset_id: str,
    body: BulkDeleteTestCasesRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Empty:
    await test_cases.delete_test_cases(
        db, caller, project_id, dataset_id, body.test_case_ids, PROMPT, test_cases.MAX_BULK
    )
    return Empty()


@router.get(
    "/prompt-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=PromptTestCaseOut,
    summary="A test case of a prompt dataset",
)
async def get_prompt_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    return await _get_case(db, caller, project_id, dataset_id, test_case_id, PROMPT)


@router.patch(
    "/prompt-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=PromptTestCaseOut,
    summary="Change a test case of a prompt dataset (a new version)",
)
async def update_prompt_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    body: UpdatePromptTestCaseRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    return await _update_case(db, caller, project_id, dataset_id, test_case_id, PROMPT, changes)


@router.delete(
    "/prompt-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=Empty,
    summary="Delete a test case of a prompt dataset (a new version)",
)
async def delete_prompt_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Empty:
    await test_cases.delete_test_cases(db, caller, project_id, dataset_id, [test_case_id], PROMPT)
    return Empty()


# ---- agent datasets ----------------------------------------------------------------------


@router.get(
    "/agent-datasets/{dataset_id}/test-cases",
    response_model=AgentTestCasePage,
    summary="List an agent dataset's test cases, a numbered page at a time",
)
async def list_agent_test_cases(
    project_id: str,
    dataset_id: str,
    page: PageNumber = 1,
    page_size: PageSize = FREEPLAY_PAGE_SIZE,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> Response:
    return await _page(db, config, caller, project_id, dataset_id, AGENT, page, page_size)


@router.post(
    "/agent-datasets/{dataset_id}/test-cases/bulk",
    status_code=201,
    response_model=AgentTestCasesOut,
    summary="Add up to 100 test cases to an agent dataset (one new version)",
)
async def bulk_create_agent_test_cases(
    project_id: str,
    dataset_id: str,
    body: BulkCreateAgentTestCasesRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    examples = [_agent_example(case.model_dump()) for case in body.data]
    return await _bulk_create(db, caller, project_id, dataset_id, AGENT, examples)


@router.delete(
    "/agent-datasets/{dataset_id}/test-cases/bulk",
    response_model=Empty,
    summary="Delete up to 100 test cases of an agent dataset (one new version)",
)
async def bulk_delete_agent_test_cases(
    project_id: str,
    dataset_id: str,
    body: BulkDeleteTestCasesRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Empty:
    await test_cases.delete_test_cases(
        db, caller, project_id, dataset_id, body.test_case_ids, AGENT, test_cases.MAX_BULK
    )
    return Empty()


@router.get(
    "/agent-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=AgentTestCaseOut,
    summary="A test case of an agent dataset",
)
async def get_agent_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    return await _get_case(db, caller, project_id, dataset_id, test_case_id, AGENT)


@router.patch(
    "/agent-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=AgentTestCaseOut,
    summary="Change a test case of an agent dataset (a new version)",
)
async def update_agent_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    body: UpdateAgentTestCaseRequest,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    changes = _agent_example(body.model_dump(exclude_unset=True))
    return await _update_case(db, caller, project_id, dataset_id, test_case_id, AGENT, changes)


@router.delete(
    "/agent-datasets/{dataset_id}/test-cases/{test_case_id}",
    response_model=Empty,
    summary="Delete a test case of an agent dataset (a new version)",
)
async def delete_agent_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Empty:
    await test_cases.delete_test_cases(db, caller, project_id, dataset_id, [test_case_id], AGENT)
    return Empty()


# ---- by dataset name ---------------------------------------------------------------------


@router.get(
    "/datasets/name/{dataset_name}/test-cases",
    response_model=list[DatasetCompletionCase] | list[DatasetTraceCase],
    summary="List a dataset's test cases by the dataset's name (a bare JSON array)",
)
async def list_test_cases_by_name(
    project_id: str,
    dataset_name: str,
    page: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="Without it, every case.")
    ] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> Response:
    dataset = await datasets.get_dataset_by_name(db, caller, project_id, dataset_name)
    return await case_array(db, config, caller, project_id, dataset.id, page, page_size, None)
