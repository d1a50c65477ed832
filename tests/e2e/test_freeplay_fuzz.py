"""Schemathesis with Freeplay's own published document, limited to the operations this service
implements, against a live server: whatever it generates (valid requests and invalid ones),
the answer is never a 5xx, and every success answer is the operation's documented success
status with a body its documented schema accepts. Freeplay's document lists no error
answers, so 4xx answers are not checked against it (ours are problem+json).
"""

import copy
from typing import Any

import anyio
import schemathesis

from app.db.engine import Database
from app.domain import keys
from tests.e2e.test_fuzz import EXAMPLES, fuzz
from tests.freeplay_scope import in_scope
from tests.freeplay_spec import assert_conforms, spec
from tests.support import Api, completion_example, trace_example


def in_scope_document() -> dict[str, Any]:
    """Freeplay's document with only the operations in scope."""
    document = copy.deepcopy(spec())
    wanted = {(op.path, op.method.lower()) for op in in_scope()}
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        kept = {key: value for key, value in item.items() if (path, key) in wanted}
        if kept:
            paths[path] = kept
    document["paths"] = paths
    return document


async def test_freeplays_document_finds_no_5xx_and_no_nonconforming_success(
    live_url: str, api: Api, db: Database
) -> None:
    prompt = await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    agent = await api.dataset_with_cases(
        "flows", [trace_example(i) for i in range(3)], kind="trace"
    )
    run_id = (await api.create_run("qa")).json()["test_run_id"]
    prompt_case = (await api.get(f"/prompt-datasets/{prompt['id']}/test-cases")).json()["data"][0]
    agent_case = (await api.get(f"/agent-datasets/{agent['id']}/test-cases")).json()["data"][0]
    _, admin_key = await keys.create_key(db, admin=True, project_ids=[])
    headers = {"Authorization": f"Bearer {admin_key}"}
    schema = schemathesis.openapi.from_dict(in_scope_document())

    @schema.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # Requests go to the data made above, so they reach the code behind the lookups.
        if not path_parameters:
            return path_parameters
        agent_route = "/agent-datasets/" in context.operation.path
        known = {
            "project_id": api.project_id,
            "dataset_id": agent["id"] if agent_route else prompt["id"],
            "dataset_name": "qa",
            "test_run_id": run_id,
            "test_case_id": agent_case["id"] if agent_route else prompt_case["id"],
        }
        return {key: known.get(key, value) for key, value in path_parameters.items()}

    successes: dict[str, int] = {}

    def check(case: Any) -> None:
        response = case.call(base_url=live_url, headers=headers)
        assert response.status_code < 500, f"{case.operation.label}: {response.text[:500]}"
        if 200 <= response.status_code < 300:
            operation_id = case.operation.definition.raw["operationId"]
            assert_conforms(operation_id, response)
            successes[operation_id] = successes.get(operation_id, 0) + 1

    operations, cases = await anyio.to_thread.run_sync(fuzz, schema, check)

    assert operations == len(in_scope()) == 34
    assert cases >= operations * min(EXAMPLES, 2)
    assert len(successes) >= 20  # most operations answered with success at least once
