"""Top-level queries. Everything else is reached from a project."""

import asyncio

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import Connection
from app.api.graphql.types.comparison import TestRunComparison
from app.api.graphql.types.dataset import Dataset
from app.api.graphql.types.evaluation import Evaluation, Flavor
from app.api.graphql.types.model import Model
from app.api.graphql.types.node import Node
from app.api.graphql.types.offset_pages import offset_after, offset_connection
from app.api.graphql.types.project import Project
from app.api.graphql.types.result import TestCaseResult
from app.api.graphql.types.test_case import case_node
from app.api.graphql.types.test_run import TestRun
from app.domain import compare, datasets, evaluations, llm_models, projects, results, test_runs
from app.domain.errors import InvalidInput
from app.domain.pagination import page_limit

MODEL_CURSOR = "model"
ModelConnection = Connection[Model]


async def graphql_node(info: Info, found: object) -> Node | None:
    """The GraphQL object of what ``app.domain.nodes`` found."""
    ctx = info.context
    match found:
        case projects.Project():
            return Project.of(found)
        case datasets.Dataset():
            return Dataset.of(found)
        case test_runs.TestRun():
            return TestRun.of(found)
        case evaluations.Evaluation():
            return Evaluation.of(found)
        case evaluations.Flavor():
            return Flavor.of(found)
        case datasets.Revision():
            key = found.key
            return case_node(key.dataset_id, found.case, found.test_case_type, key.outputs)
        case results.Result():
            run = await ctx.nodes.load(found.test_run_id)
            assert isinstance(run, test_runs.TestRun)  # a result is seen with its run
            case = await ctx.cases.load((run.dataset_id, run.dataset_version, found.test_case_id))
            assert case is not None  # a result is only recorded for a case of its run
            return TestCaseResult.of(found, case, run)
    return None


@strawberry.type
class Query:
    @fields.field(
        description="Any object by its id: the uuid REST and GraphQL give it, or a test case "
        "revision's id. Null when nothing the API key may see has that id."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await graphql_node(info, await info.context.nodes.load(id))

    @fields.field(description="node(id:) for each id, in the order given.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        limit = info.context.settings.max_page_size
        if len(ids) > limit:
            raise InvalidInput.at(("ids",), f"ids may name at most {limit} objects")
        found = await info.context.nodes.load_many(ids)
        return list(await asyncio.gather(*(graphql_node(info, f) for f in found)))

    @fields.field(description="The projects the API key may see.")
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

    @fields.field(description="Two runs of one dataset, compared case by case.")
    async def compare_test_runs(
        self, info: Info, base_id: strawberry.ID, candidate_id: strawberry.ID
    ) -> TestRunComparison:
        comparison = await compare.compare_runs(
            info.context.db, info.context.principal, base_id, candidate_id
        )
        return TestRunComparison.of(comparison)

    @fields.field(description="The instance-wide model catalog, by provider and name.")
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
