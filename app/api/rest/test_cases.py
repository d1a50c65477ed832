"""A dataset's test cases over REST (the Freeplay SDK's routes, and editing of ours)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import Response

from app.api.auth import database, principal, settings
from app.api.rest import rendering
from app.api.rest.models import (
    MAX_INT,
    PROBLEMS,
    AddTestCasesOut,
    AddTestCasesRequest,
    DatasetCompletionCase,
    DatasetTraceCase,
    TestCaseVersionOut,
)
from app.db.engine import Database
from app.domain import datasets, test_cases
from app.domain.keys import Principal
from app.domain.pagination import page_limit
from app.settings import Settings

router = APIRouter(
    prefix="/api/v2/projects/{project_id}/datasets/id/{dataset_id}/test-cases",
    tags=["test cases"],
    responses=PROBLEMS,
)


@router.post(
    "",
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
    added = await test_cases.add_test_cases(db, caller, project_id, dataset_id, body.examples)
    return AddTestCasesOut(
        message=f"added {len(added.case_ids)} test cases",
        dataset_version=added.version.number,
        test_case_ids=list(added.case_ids),
    )


@router.get(
    "",
    response_model=list[DatasetCompletionCase] | list[DatasetTraceCase],
    summary="List a dataset's test cases (a bare JSON array)",
)
async def list_test_cases(
    project_id: str,
    dataset_id: str,
    page: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="Without it, every case.")
    ] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    version: Annotated[int | None, Query(ge=0, le=MAX_INT, description="A past version.")] = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> Response:
    """The cases of the latest (or a given) version in dataset order; all of them unless
    ``page`` is given."""
    return await case_array(db, config, caller, project_id, dataset_id, page, page_size, version)


async def case_array(
    db: Database,
    config: Settings,
    caller: Principal,
    project_id: str,
    dataset_id: str,
    page: int | None,
    page_size: int | None,
    version: int | None,
) -> Response:
    """A dataset's cases as a bare JSON array: every one, or the numbered page asked for."""
    out = rendering.chosen(db)
    if page is None and page_size is None:
        dataset = await datasets.get_dataset(db, caller, project_id, dataset_id)
        render = out.dataset_case(dataset.test_case_type)
        at = datasets.check_version(dataset, version)
        pages = datasets.version_pages(db, dataset.id, at, rendering.PAGE)
        return await out.response("[", pages, render, "]")
    limit = page_limit(page_size, config, "page_size")
    dataset, cases = await datasets.list_test_cases(
        db,
        caller,
        project_id,
        dataset_id,
        version=version,
        offset=((page or 1) - 1) * limit,
        limit=limit,
    )
    body = out.array(cases, out.dataset_case(dataset.test_case_type))
    return Response(body.encode(), media_type="application/json")


@router.patch(
    "/id/{test_case_id}",
    response_model=DatasetCompletionCase | DatasetTraceCase,
    summary="Change some keys of a test case (a new dataset version)",
)
async def update_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    changes: Annotated[
        dict[str, Any],
        Body(
            description="Example keys of the case's kind (completion: inputs, output, "
            "output_message, history, metadata, media_inputs; trace: input, output, "
            "custom_metadata). Only those given change."
        ),
    ],
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    edited = await test_cases.update_test_case(
        db, caller, project_id, dataset_id, test_case_id, changes
    )
    body = rendering.chosen(db).dataset_case(edited.dataset.test_case_type)(edited.case)
    return Response(body.encode(), media_type="application/json")


@router.delete(
    "/id/{test_case_id}",
    response_model=TestCaseVersionOut,
    summary="Delete a test case (a new dataset version)",
)
async def delete_test_case(
    project_id: str,
    dataset_id: str,
    test_case_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> TestCaseVersionOut:
    version = await test_cases.delete_test_cases(db, caller, project_id, dataset_id, [test_case_id])
    return TestCaseVersionOut(
        message=f"deleted test case {test_case_id}", dataset_version=version.number
    )
