"""Projects: the root a frontend starts from."""

from dataclasses import asdict
from datetime import datetime

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.pagination import (
    Connection,
    connection,
    decode_cursor,
    encode_cursor,
    not_a_cursor,
    window,
)
from app.api.graphql.types.dataset import Dataset, DatasetConnection, TestCaseType
from app.api.graphql.types.evaluation import Evaluation, Flavor
from app.api.graphql.types.node import Node
from app.api.graphql.types.test_run import TestRun, TestRunStatus
from app.domain import datasets, evaluations, projects, test_runs

DATASET_CURSOR = "dataset"
RUN_CURSOR = "run"

TestRunConnection = Connection[TestRun]


def _run_cursor(run: test_runs.TestRun) -> str:
    return encode_cursor(RUN_CURSOR, f"{run.created_at.isoformat()}|{run.id}")


def _decode_run_cursor(cursor: str | None, name: str = "after") -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, RUN_CURSOR, name)
    if key is None:
        return None
    created_at, _, run_id = key.partition("|")
    try:
        return datetime.fromisoformat(created_at), run_id
    except ValueError:
        raise not_a_cursor(name) from None


@strawberry.type(description="Freeplay's project settings, kept and returned as given.")
class ProjectSettings:
    is_private: bool
    freeplay_spend_limit_usd: int | None
    data_retention_days: int | None
    enable_eval_insights: bool
    enable_review_insights: bool

    @classmethod
    def of(cls, settings: projects.ProjectSettings) -> "ProjectSettings":
        return cls(**asdict(settings))


@strawberry.type
class Project(Node):
    name: str
    created_at: datetime

    @classmethod
    def of(cls, project: projects.Project) -> "Project":
        return cls(id=strawberry.ID(project.id), name=project.name, created_at=project.created_at)

    @strawberry.field(
        description="The project's datasets, ordered by name; only those of `testCaseType` "
        "when given."
    )
    async def datasets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        test_case_type: TestCaseType | None = None,
    ) -> DatasetConnection:
        page = await datasets.list_datasets(
            info.context.db,
            info.context.principal,
            self.id,
            window=window(
                info.context.settings,
                first,
                decode_cursor(after, DATASET_CURSOR),
                last,
                decode_cursor(before, DATASET_CURSOR, "before"),
            ),
            kind=None if test_case_type is None else datasets.TestCaseType(test_case_type),
        )
        return connection(page, lambda d: encode_cursor(DATASET_CURSOR, d.name), Dataset.of)

    @strawberry.field(description="The project's dataset with this name.")
    async def dataset(self, info: Info, name: str) -> Dataset | None:
        return Dataset.of(
            await datasets.get_dataset_by_name(
                info.context.db, info.context.principal, self.id, name
            )
        )

    @strawberry.field(description="The project's test runs, newest first.")
    async def test_runs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        dataset_id: strawberry.ID | None = None,
        status: TestRunStatus | None = None,
    ) -> TestRunConnection:
        page = await test_runs.list_test_runs(
            info.context.db,
            info.context.principal,
            self.id,
            window=window(
                info.context.settings,
                first,
                _decode_run_cursor(after),
                last,
                _decode_run_cursor(before, "before"),
            ),
            dataset_id=dataset_id,
            status=status,
        )
        return connection(page, _run_cursor, TestRun.of)

    @strawberry.field
    async def evaluations(self, info: Info) -> list[Evaluation]:
        found = await evaluations.list_evaluations(info.context.db, info.context.principal, self.id)
        return [Evaluation.of(e) for e in found]

    @strawberry.field
    async def flavors(self, info: Info) -> list[Flavor]:
        found = await evaluations.list_flavors(info.context.db, info.context.principal, self.id)
        return [Flavor.of(f) for f in found]

    @strawberry.field(description="Freeplay's project settings.")
    async def settings(self, info: Info) -> ProjectSettings:
        found = await projects.get_project(info.context.db, info.context.principal, self.id)
        return ProjectSettings.of(found.settings)
