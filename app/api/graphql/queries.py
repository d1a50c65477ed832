"""Top-level queries. Everything else is reached from a project."""

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.pagination import Connection
from app.api.graphql.types.comparison import TestRunComparison
from app.api.graphql.types.dataset import Dataset
from app.api.graphql.types.model import Model
from app.api.graphql.types.offset_pages import offset_after, offset_connection
from app.api.graphql.types.project import Project
from app.api.graphql.types.test_run import TestRun
from app.domain import compare, datasets, llm_models, projects, test_runs
from app.domain.pagination import page_limit

MODEL_CURSOR = "model"
ModelConnection = Connection[Model]


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

    @strawberry.field(description="The instance-wide model catalog, by provider and name.")
    async def models(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ModelConnection:
        offset = offset_after(after, MODEL_CURSOR)
        page = await llm_models.list_models(
            info.context.db,
            info.context.principal,
            offset=offset,
            limit=page_limit(first, info.context.settings),
        )
        return offset_connection(page, offset, MODEL_CURSOR, Model.of)

    @strawberry.field
    async def model(self, info: Info, id: strawberry.ID) -> Model | None:
        return Model.of(await llm_models.get_model(info.context.db, info.context.principal, id))
