"""No N+1: a page of runs with their dataset, evaluations and summary costs the same few SQL
statements whatever the page's size; and what the loaders batch is never stale."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.support import Api, completion_example, create_evaluation, record

RUNS = """query($project: ID!, $first: Int!) { project(id: $project) {
  testRuns(first: $first) { edges { node {
    id name progress { done total }
    dataset { id name testCaseCount }
    targetEvaluations { id name kind }
    summary {
      autoEvaluation { name count passRate }
      clientEvaluation { name count mean }
    }
  } } }
} }"""


@contextmanager
def counted(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []
    engine = app.state.db.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_page_of_runs_costs_a_constant_number_of_statements(api: Api, app: FastAPI) -> None:
    for name in ("qa", "other"):
        await api.dataset_with_cases(name, [completion_example(i) for i in range(2)])
    evaluations = [(await create_evaluation(api, f"e{i}", "boolean"))["id"] for i in range(2)]
    for i in range(100):
        run = (
            await api.create_run(
                "qa" if i % 2 else "other", target_evaluation_ids=evaluations[: i % 3]
            )
        ).json()
        if i % 10 == 0:
            case_id = run["test_cases"][0]["id"]
            recorded = await record(api, run["test_run_id"], case_id, evalResults={"s": i})
            assert "errors" not in recorded, recorded

    async def statements_for(first: int) -> int:
        await api.graphql(RUNS, {"project": api.project_id, "first": first})  # warm caches
        with counted(app) as statements:
            body = await api.graphql(RUNS, {"project": api.project_id, "first": first})
        assert "errors" not in body, body
        edges = body["data"]["project"]["testRuns"]["edges"]
        assert len(edges) == first
        assert {e["node"]["dataset"]["name"] for e in edges} == {"qa", "other"}
        assert {len(e["node"]["targetEvaluations"]) for e in edges} == {0, 1, 2}
        return len(statements)

    few, many = await statements_for(3), await statements_for(100)

    assert few == many
    assert many <= 14  # key, project, page of runs and its count, datasets, evaluations, ...


async def test_each_mutation_of_an_operation_sees_what_the_ones_before_wrote(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    run = (await api.create_run("qa")).json()
    cases = [c["id"] for c in run["test_cases"]]
    summary = "testRun { summary { clientEvaluation { name count } } }"
    body = await api.graphql(
        f"""mutation($run: ID!, $a: ID!, $b: ID!) {{
          first: recordTestCaseResult(input: {{testRunId: $run, testCaseId: $a,
            evalResults: {{ok: true}}}}) {{ {summary} }}
          second: recordTestCaseResult(input: {{testRunId: $run, testCaseId: $b,
            evalResults: {{ok: false}}}}) {{ {summary} }}
        }}""",
        {"run": run["test_run_id"], "a": cases[0], "b": cases[1]},
    )

    assert "errors" not in body, body
    counts = [
        body["data"][key]["testRun"]["summary"]["clientEvaluation"][0]["count"]
        for key in ("first", "second")
    ]
    assert counts == [1, 2]
