"""Top-level queries. Everything else is reached from a project."""

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types.comparison import TestRunComparison
from app.api.graphql.types.dataset import Dataset
from app.api.graphql.types.project import Project
from app.api.graphql.types.test_run import TestRun
from app.domain import compare, datasets, projects, test_runs


@strawberry.type
class Query:
    @strawberry.field(description="The projects the API key may see.")
    async def projects(self, info: Info) -> list[Project]:
        found = await projects.list_projects(info.context.db, info.context.principal)
        return [Project.of(p) for p in found]

    @strawberry.field
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        return Project.of(await projects.get_project(info.context.db, info.context.principal, id))

    @strawberry.field
    async def dataset(self, info: Info, id: strawberry.ID) -> Dataset | None:
        return Dataset.of(await datasets.find_dataset(info.context.db, info.context.principal, id))

    @strawberry.field
    async def test_run(self, info: Info, id: strawberry.ID) -> TestRun | None:
        return TestRun.of(await test_runs.get_test_run(info.context.db, info.context.principal, id))

    @strawberry.field(description="Two runs of one dataset, compared case by case.")
    async def compare_test_runs(
        self, info: Info, base_id: strawberry.ID, candidate_id: strawberry.ID
    ) -> TestRunComparison:
        comparison = await compare.compare_runs(
            info.context.db, info.context.principal, base_id, candidate_id
        )
        return TestRunComparison.of(comparison)
