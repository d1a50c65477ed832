"""Test runs."""

from datetime import datetime

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.pagination import decode_int_cursor
from app.api.graphql.types.dataset import CASE_CURSOR, Dataset, case_connection
from app.api.graphql.types.evaluation import Evaluation
from app.api.graphql.types.test_case import TestCaseConnection
from app.domain import datasets, evaluations, test_runs
from app.domain.pagination import page_limit

TestRunStatus = strawberry.enum(test_runs.TestRunStatus, name="TestRunStatus")


@strawberry.type
class TestRun:
    id: strawberry.ID
    name: str
    description: str
    status: TestRunStatus
    dataset_version: int = strawberry.field(description="The dataset version the run pins.")
    flavor_name: str | None
    include_outputs: bool
    test_case_count: int
    created_at: datetime
    _run: strawberry.Private[test_runs.TestRun]

    @classmethod
    def of(cls, run: test_runs.TestRun) -> "TestRun":
        return cls(
            id=strawberry.ID(run.id),
            name=run.name,
            description=run.description,
            status=run.status,
            dataset_version=run.dataset_version,
            flavor_name=run.flavor_name,
            include_outputs=run.include_outputs,
            test_case_count=run.case_count,
            created_at=run.created_at,
            _run=run,
        )

    @strawberry.field
    async def dataset(self, info: Info) -> Dataset:
        return Dataset.of(
            await datasets.find_dataset(
                info.context.db, info.context.principal, self._run.dataset_id, include_deleted=True
            )
        )

    @strawberry.field
    async def target_evaluations(self, info: Info) -> list[Evaluation]:
        if not self._run.target_evaluation_ids:
            return []
        found = await evaluations.get_evaluations(
            info.context.db, info.context.principal, list(self._run.target_evaluation_ids)
        )
        return [Evaluation.of(e) for e in found]

    @strawberry.field(description="The run's test cases: its pinned dataset version, in order.")
    async def test_cases(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> TestCaseConnection:
        page = await test_runs.run_case_page(
            info.context.db,
            self._run,
            after_position=decode_int_cursor(after, CASE_CURSOR),
            limit=page_limit(first, info.context.settings),
        )
        return case_connection(page, self._run.test_case_type, self._run.include_outputs)
