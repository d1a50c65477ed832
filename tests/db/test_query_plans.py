"""What the database does for the busiest reads does not grow with the data: a page of a
project's runs, newest first, reads the page's runs in the order of an index and stops (and
finds each run's latest completion the same way), however many runs the project has and
however stale the planner's statistics: here they are taken while the tables are empty, as
happens after a burst of new runs, when PostgreSQL once sorted every run of the project."""

import json
from typing import Any

from sqlalchemy import text

from app.db.engine import Database
from app.domain import datasets, projects, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR

RUNS = 40
MANY = 3_000  # on PostgreSQL: enough pages that reading them all costs more than the page
PAGE = 2
# Copies of a project's first run, a millisecond apart (PostgreSQL).
_COPY_RUNS = text(
    "INSERT INTO test_runs (id, project_id, dataset_id, dataset_version, name, description,"
    " flavor_id, include_outputs, status, case_count, done_count, case_filter, created_at)"
    " SELECT gen_random_uuid(), project_id, dataset_id, dataset_version, name, description,"
    " flavor_id, include_outputs, status, case_count, done_count, case_filter,"
    " created_at + n * interval '1 millisecond'"
    " FROM (SELECT * FROM test_runs WHERE project_id = :project_id LIMIT 1) AS run,"
    " generate_series(1, :copies) AS n"
)


async def explained(db: Database, project_id: str) -> Any:
    """The plan of the first page of the project's runs: SQLite's lines, or PostgreSQL's
    executed plan (EXPLAIN ANALYZE) as JSON."""
    async with db.read() as conn:
        compiled = test_runs._PROJECT_RUNS_WITH_DETAILS.compile(dialect=conn.dialect)
        values = {**compiled.params, "project_id": project_id}
        sql = str(compiled).replace("__[POSTCOMPILE_offset]", "0")
        sql = sql.replace("__[POSTCOMPILE_limit]", str(PAGE))
        written = ("offset", "limit")  # into the text, above
        parameters = tuple(values[n] for n in compiled.positiontup or () if n not in written)
        if db.is_sqlite:
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
            return "\n".join(str(row[-1]) for row in rows)
        rows = await conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters)
        plan = rows.scalar_one()
        return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict[str, Any], *, subplans: bool = True) -> list[dict[str, Any]]:
    """The plan's nodes; without ``subplans``, not those of the columns' subqueries."""
    children = [
        c for c in plan.get("Plans", ()) if subplans or c.get("Parent Relationship") != "SubPlan"
    ]
    return [plan, *(node for child in children for node in nodes(child, subplans=subplans))]


async def test_a_page_of_runs_reads_only_the_page(db: Database) -> None:
    async with db.write() as conn:  # statistics of empty tables
        await conn.execute(text("ANALYZE"))
    project = await projects.create_project(db, "Many runs")
    await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    for _ in range(RUNS):
        await test_runs.create_test_run(
            db, OPERATOR, project.id, test_runs.NewTestRun(dataset_name="qa")
        )
    if not db.is_sqlite:
        async with db.write() as conn:
            await conn.execute(_COPY_RUNS, {"project_id": project.id, "copies": MANY})

    plan = await explained(db, project.id)

    if db.is_sqlite:
        assert "ix_test_runs_project_id_created_at_id" in plan, plan
        assert "ix_recordings_test_run_id_kind_created_at_id" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # no sort, of runs or recordings
        return
    shown = [(n["Node Type"], n.get("Alias"), n.get("Actual Rows")) for n in nodes(plan)]
    runs = [n for n in nodes(plan) if n.get("Alias") == "test_runs"]
    assert runs, shown
    # The page and the one row that tells whether there is a next page, of thousands.
    assert all(n["Actual Rows"] <= PAGE + 1 for n in runs), shown
    # Nor a sort of the runs. (A run's recordings: SQLite's plan above says it; here the
    # table is empty and its statistics say so, and reading it whole is the cheapest plan.)
    assert not any(n["Node Type"] == "Sort" for n in nodes(plan, subplans=False)), shown
