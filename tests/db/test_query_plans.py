"""What the database does for the busiest reads does not grow with the data: a page of a
project's runs, newest first, walks an index in that order and stops (and finds each run's
latest completion the same way), whatever the number of runs, even while the planner's statistics predate every row (as here, and as after a
burst of new runs)."""

from app.db.engine import Database
from app.domain import datasets, projects, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR

RUNS = 40


async def explained(db: Database, project_id: str) -> str:
    """The plan of the first page of the project's runs, as the database gives it."""
    async with db.read() as conn:
        compiled = test_runs._PROJECT_RUNS_WITH_DETAILS.compile(dialect=conn.dialect)
        values = {**compiled.params, "project_id": project_id}
        sql = str(compiled).replace("__[POSTCOMPILE_offset]", "0")
        sql = sql.replace("__[POSTCOMPILE_limit]", "2")
        explain = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
        written = ("offset", "limit")  # into the text, above
        parameters = tuple(values[n] for n in compiled.positiontup or () if n not in written)
        rows = await conn.exec_driver_sql(explain + sql, parameters)
        return "\n".join(str(row[-1]) for row in rows)


async def test_a_page_of_runs_reads_them_in_index_order(db: Database) -> None:
    project = await projects.create_project(db, "Many runs")
    await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    for _ in range(RUNS):
        await test_runs.create_test_run(
            db, OPERATOR, project.id, test_runs.NewTestRun(dataset_name="qa")
        )

    plan = await explained(db, project.id)

    assert "ix_test_runs_project_id_created_at_id" in plan, plan
    assert "ix_recordings_test_run_id_kind_created_at_id" in plan, plan  # a run's latest
    # No sort: not of the project's runs, nor of a run's recordings.
    assert ("TEMP B-TREE FOR ORDER BY" if db.is_sqlite else "Sort") not in plan, plan
