"""Projects: the root a frontend starts from."""

from dataclasses import asdict
from datetime import datetime

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import (
    Connection,
    connection,
    decode_cursor,
    encode_cursor,
    not_a_cursor,
    window,
)
from app.api.graphql.types.criterion import EvaluationCriterion, EvaluationCriterionConnection
from app.api.graphql.types.dataset import Dataset, DatasetConnection, TestCaseType
from app.api.graphql.types.evaluation import Evaluation, Flavor
from app.api.graphql.types.node import Node
from app.api.graphql.types.offset_pages import offset_after, offset_connection
from app.api.graphql.types.prompt_template import PromptTemplate, PromptTemplateConnection
from app.api.graphql.types.test_run import TestRun, TestRunStatus
from app.domain import criteria, datasets, evaluations, projects, prompt_templates, test_runs
from app.domain.errors import InvalidInput
from app.domain.pagination import page_limit

DATASET_CURSOR = "dataset"
TEMPLATE_CURSOR = "prompt-template"
CRITERION_CURSOR = "criterion"
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

    @fields.field(
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

    @fields.field(description="The project's dataset with this name.")
    async def dataset(self, info: Info, name: str) -> Dataset | None:
        return Dataset.of(
            await datasets.get_dataset_by_name(
                info.context.db, info.context.principal, self.id, name
            )
        )

    @fields.field(description="The project's test runs, newest first.")
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

    @fields.field(description="The project's prompt templates, ordered by name.")
    async def prompt_templates(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PromptTemplateConnection:
        offset = offset_after(after, TEMPLATE_CURSOR)
        page = await prompt_templates.list_templates(
            info.context.db,
            info.context.principal,
            self.id,
            offset=offset,
            limit=page_limit(first, info.context.settings),
        )
        return offset_connection(page, offset, TEMPLATE_CURSOR, PromptTemplate.of)

    @fields.field(description="One of the project's prompt templates, by id or by name.")
    async def prompt_template(
        self, info: Info, id: strawberry.ID | None = None, name: str | None = None
    ) -> PromptTemplate | None:
        if (id is None) == (name is None):
            raise InvalidInput("give either id or name")
        ctx = info.context
        found = (
            await prompt_templates.get_template(ctx.db, ctx.principal, self.id, id)
            if id is not None
            else await prompt_templates.get_template_named(
                ctx.db, ctx.principal, self.id, name or ""
            )
        )
        return PromptTemplate.of(found)

    @fields.field(description="The project's evaluation criteria in display order.")
    async def evaluation_criteria(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        target_id: strawberry.ID | None = None,
    ) -> EvaluationCriterionConnection:
        offset = offset_after(after, CRITERION_CURSOR)
        page = await criteria.list_criteria(
            info.context.db,
            info.context.principal,
            self.id,
            offset=offset,
            limit=page_limit(first, info.context.settings),
            target_id=target_id,
        )
        return offset_connection(page, offset, CRITERION_CURSOR, EvaluationCriterion.of)

    @strawberry.field
    async def evaluation_criterion(
        self, info: Info, id: strawberry.ID
    ) -> EvaluationCriterion | None:
        found = await criteria.get_criterion(info.context.db, info.context.principal, self.id, id)
        return EvaluationCriterion.of(found)

    @fields.field(description="Freeplay's project settings.")
    async def settings(self, info: Info) -> ProjectSettings:
        found = await projects.get_project(info.context.db, info.context.principal, self.id)
        return ProjectSettings.of(found.settings)
