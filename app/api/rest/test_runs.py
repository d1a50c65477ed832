"""Test runs over REST, as Freeplay's API and SDK call them."""

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.auth import database, principal
from app.api.rest import rendering
from app.api.rest.models import CreateTestRunRequest, TestRunWithTestCasesInfo
from app.db.engine import Database
from app.domain import test_runs
from app.domain.datasets import TestCaseType
from app.domain.jsontext import dumps
from app.domain.keys import Principal

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["test runs"])


@router.post(
    "/test-runs",
    status_code=201,
    response_model=TestRunWithTestCasesInfo,
    summary="Create a test run",
)
async def create_test_run(
    project_id: str,
    body: CreateTestRunRequest,
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
        ),
    )
    cases = await test_runs.run_cases(db, run)
    if run.test_case_type is TestCaseType.COMPLETION:
        render, key, other = rendering.run_completion_case, "test_cases", "trace_test_cases"
    else:
        render, key, other = rendering.run_trace_case, "trace_test_cases", "test_cases"
    listed = rendering.json_array(render(case, run.include_outputs) for case in cases)
    body_text = (
        f'{{"test_run_id":"{run.id}","test_run_name":{dumps(run.name)},'
        f'"test_run_description":{dumps(run.description)},"{key}":{listed},"{other}":null}}'
    )
    return Response(body_text.encode(), status_code=201, media_type="application/json")
