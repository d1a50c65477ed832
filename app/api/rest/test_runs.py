"""Test runs over REST, as Freeplay's API and SDK call them (plus a few routes of ours)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response, StreamingResponse

from app.api.auth import database, principal, settings
from app.api.rest import rendering
from app.api.rest.models import (
    MAX_INT,
    PROBLEMS,
    CaseRegressionOut,
    ComparisonOut,
    CreateTestRunRequest,
    EvaluationDeltaOut,
    ExecutedTestRunOut,
    ExecuteRequest,
    ExecutionOut,
    Progress,
    SummaryStatistics,
    TestCaseFilter,
    TestRunList,
    TestRunListItem,
    TestRunOut,
    TestRunResults,
    TestRunWithTestCasesInfo,
    UsageOut,
)
from app.db.engine import Database
from app.domain import (
    compare,
    execution,
    idempotency,
    result_export,
    result_recording,
    result_statistics,
    test_runs,
)
from app.domain.datasets import TestCaseType
from app.domain.execution import Execute, ExecutionState
from app.domain.jsontext import dumps
from app.domain.keys import Principal
from app.domain.pagination import Window, page_limit
from app.domain.test_runs import CaseFilter, FailedIn, RunDetails, TestRun, TestRunStatus
from app.files import result_lines
from app.settings import Settings

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["test runs"], responses=PROBLEMS)


def _case_filter(body: TestCaseFilter | None) -> CaseFilter | None:
    if body is None:
        return None
    failed = body.failed_in
    return CaseFilter(
        test_case_ids=None if body.test_case_ids is None else tuple(body.test_case_ids),
        metadata=body.metadata,
        failed_in=None
        if failed is None
        else FailedIn(failed.test_run_id, failed.evaluation, failed.below),
    )


def _execute(body: ExecuteRequest | None) -> Execute | None:
    if body is None:
        return None
    return Execute(
        prompt_template_version_id=body.prompt_template_version_id,
        repetitions=1 if body.repetitions is None else body.repetitions,
        concurrency=4 if body.concurrency is None else body.concurrency,
    )


def execution_out(state: ExecutionState | None) -> ExecutionOut | None:
    return None if state is None else ExecutionOut(**state.as_dict())


@router.post(
    "/test-runs",
    status_code=201,
    response_model=TestRunWithTestCasesInfo,
    summary="Create a test run",
)
async def create_test_run(
    project_id: str,
    body: CreateTestRunRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Repeat a request with the same key and body to get the same run "
            "back instead of a second one.",
            max_length=idempotency.MAX_KEY + 2,
            pattern=r"^[\x20-\x7e]+$",
        ),
    ] = None,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Response:
    """Snapshot the named dataset and return its test cases to run the model on."""
    run = await test_runs.create_test_run(
        db,
        caller,
        project_id,
        test_runs.NewTestRun(
            dataset_name=body.dataset_name,
            include_outputs=bool(body.include_outputs),
            name=body.test_run_name,
            description=body.test_run_description,
            flavor_name=body.flavor_name,
            target_evaluation_ids=tuple(body.target_evaluation_ids or ()),
            case_filter=_case_filter(body.test_case_filter),
            execute=_execute(body.execute),
        ),
        idempotency_key,
    )
    out = rendering.chosen(db)
    if run.test_case_type is TestCaseType.COMPLETION:
        render, key, other = out.run_completion_case, "test_cases", "trace_test_cases"
    else:
        render, key, other = out.run_trace_case, "trace_test_cases", "test_cases"
    head = (
        f'{{"test_run_id":"{run.id}","test_run_name":{dumps(run.name)},'
        f'"test_run_description":{dumps(run.description)},"{key}":['
    )
    tail = f'],"{other}":null}}'
    pages = test_runs.run_case_pages(db, run, rendering.PAGE)
    return await out.response(head, pages, lambda c: render(c, run.include_outputs), tail, 201)


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def run_out(run: TestRun, details: RunDetails) -> TestRunOut:
    return TestRunOut(**_run_fields(run, details))


def _run_fields(run: TestRun, details: RunDetails) -> dict[str, Any]:
    return {
        "id": run.id,
        "test_run_id": run.id,
        "name": run.name,
        "description": run.description,
        "status": run.status.value,
        "created_at": int(run.created_at.timestamp()),
        "completed_at": _epoch(run.completed_at),
        "prompt_name": details.prompt_name,
        "prompt_version": details.prompt_version,
        "model_name": details.model_name,
        "sessions_count": details.sessions_count,
        "dataset_id": run.dataset_id,
        "dataset_name": run.dataset_name,
        "dataset_version": run.dataset_version,
        "test_case_type": run.test_case_type.value,
        "test_case_count": run.case_count,
        "flavor_name": run.flavor_name,
        "include_outputs": run.include_outputs,
        "target_evaluation_ids": sorted([*run.target_evaluation_ids, *run.target_criterion_ids]),
        "test_case_filter": run.case_filter,
        "progress": Progress(done=run.done_count, total=run.case_count),
    }


async def _run_out(db: Database, run: TestRun) -> TestRunOut:
    return run_out(run, (await test_runs.run_details(db, [run.id]))[run.id])


NIL_ID = "00000000-0000-0000-0000-000000000000"


@router.get("/test-runs", response_model=TestRunList, summary="List test runs, newest first")
async def list_test_runs(
    project_id: str,
    page: Annotated[int, Query(ge=1, le=MAX_INT)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    dataset_id: str | None = None,
    status: TestRunStatus | None = None,
    db: Database = Depends(database),
    config: Settings = Depends(settings),
    caller: Principal = Depends(principal),
) -> Response:
    size = page_limit(page_size, config, "page_size")
    found, details = await test_runs.list_test_runs_with_details(
        db,
        caller,
        project_id,
        offset=(page - 1) * size,
        window=Window(size),
        dataset_id=dataset_id,
        status=status,
    )
    items = [
        TestRunListItem(**_run_fields(r, details[r.id]), test_case_id=NIL_ID) for r in found.items
    ]
    listed = TestRunList(test_runs=items, page=page, page_size=size, total=found.total)
    return Response(listed.model_dump_json(), media_type="application/json")


def _usage(usage: result_statistics.UsageStats | None) -> UsageOut | None:
    return None if usage is None or not usage.count else UsageOut(**usage.as_dict())


@router.get(
    "/test-runs/id/{test_run_id}/compare/{base_test_run_id}",
    response_model=ComparisonOut,
    summary="Compare a run with a base run of the same dataset (ours)",
)
async def compare_test_runs(
    project_id: str,
    test_run_id: str,
    base_test_run_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ComparisonOut:
    """Paired statistics per evaluation (this run minus the base run), and whether any
    regressed significantly."""
    candidate_test_run_id = test_run_id
    await test_runs.get_test_run(db, caller, base_test_run_id, project_id)
    await test_runs.get_test_run(db, caller, candidate_test_run_id, project_id)
    found = await compare.compare_runs(db, caller, base_test_run_id, candidate_test_run_id)
    return ComparisonOut(
        base_test_run_id=found.base.id,
        candidate_test_run_id=found.candidate.id,
        shared_cases=found.shared_cases,
        regressed=bool(found.regressed),
        evaluations=[
            EvaluationDeltaOut(
                name=e.name,
                source=e.source.value,
                kind=e.kind.value,
                direction=e.direction.value,
                pairs=e.pairs,
                base_mean=e.base_mean,
                candidate_mean=e.candidate_mean,
                mean_delta=e.mean_delta,
                ci_low=e.ci_low,
                ci_high=e.ci_high,
                wins=e.wins,
                ties=e.ties,
                losses=e.losses,
                p_value=e.p_value,
                regressed=e.regressed,
            )
            for e in found.evaluations
        ],
        regressions=[
            CaseRegressionOut(
                test_case_id=r.test_case_id,
                changes=[
                    {
                        "name": c.name,
                        "source": c.source.value,
                        "base": c.base,
                        "candidate": c.candidate,
                    }
                    for c in r.changes
                ],
            )
            for r in found.regressions[:100]
        ],
        base_usage=_usage(found.base_usage),
        candidate_usage=_usage(found.candidate_usage),
    )


@router.get(
    "/test-runs/id/{test_run_id}",
    response_model=TestRunResults,
    summary="A test run with its summary statistics",
)
async def get_test_run(
    project_id: str,
    test_run_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> TestRunResults:
    run = await test_runs.get_test_run(db, caller, test_run_id, project_id)
    summary = await result_statistics.summarize(db, run)
    return TestRunResults(
        **(await _run_out(db, run)).model_dump(),
        summary_statistics=SummaryStatistics(**summary.as_dict()),
        execution=execution_out(await execution.execution_state(db, run)),
    )


@router.post(
    "/test-runs/id/{test_run_id}/cancel",
    response_model=ExecutedTestRunOut,
    summary="Stop a test run the server executes (ours)",
)
async def cancel_test_run(
    project_id: str,
    test_run_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> ExecutedTestRunOut:
    """Cases not yet done are cancelled; the run is completed with the results it has."""
    await execution.cancel_execution(db, caller, test_run_id, project_id)
    run = await test_runs.get_test_run(db, caller, test_run_id, project_id)
    return ExecutedTestRunOut(
        **(await _run_out(db, run)).model_dump(),
        execution=execution_out(await execution.execution_state(db, run)),
    )


@router.post(
    "/test-runs/id/{test_run_id}/complete",
    response_model=TestRunOut,
    summary="Mark a test run completed (ours)",
)
async def complete_test_run(
    project_id: str,
    test_run_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> TestRunOut:
    await result_recording.complete_run(db, caller, test_run_id, project_id)
    return await _run_out(db, await test_runs.get_test_run(db, caller, test_run_id, project_id))


@router.get(
    "/test-runs/id/{test_run_id}/results",
    summary="Download a test run's results, one row per case (ours)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
async def export_results(
    project_id: str,
    test_run_id: str,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> StreamingResponse:
    """Inputs, expected output, recorded output and every score of each case, streamed."""
    run = await test_runs.get_test_run(db, caller, test_run_id, project_id)
    columns = await result_export.score_columns(db, run)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    filename = f"test-run-{run.id}.{format}"
    return StreamingResponse(
        result_lines(result_export.export_dicts(db, run), columns, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
