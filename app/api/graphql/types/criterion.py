"""Evaluation criteria and their versions."""

from datetime import datetime

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import Connection
from app.api.graphql.scalars import JSON
from app.api.graphql.types.evaluation import Direction
from app.api.graphql.types.model import Model
from app.domain import criteria, llm_models

# strawberry.enum gives the domain's enum its GraphQL name; the alias is the same class.
CriterionType = criteria.CriterionType
strawberry.enum(
    CriterionType,
    name="CriterionType",
    description="ONE_TO_FIVE is Freeplay's '1-5', YES_NO its 'yes-no', and so on.",
)
CriterionTargetType = criteria.TargetType
strawberry.enum(CriterionTargetType, name="CriterionTargetType")


@strawberry.type
class EvaluationCriterionVersion:
    id: strawberry.ID
    criterion_id: strawberry.ID
    number: int
    type: CriterionType
    question: str
    llm_question: str | None
    rubric: JSON = strawberry.field(description="Each score and what it means.")
    options: list[str] = strawberry.field(description="Labels of a multi-select or category one.")
    model_id: strawberry.ID | None
    llm_eval_enabled: bool
    is_deployed: bool
    created_at: datetime

    @classmethod
    def of(cls, version: criteria.CriterionVersion) -> "EvaluationCriterionVersion":
        return cls(
            id=strawberry.ID(version.id),
            criterion_id=strawberry.ID(version.criterion_id),
            number=version.number,
            type=version.type,
            question=version.question,
            llm_question=version.llm_question,
            rubric=JSON(version.rubric),
            options=list(version.options),
            model_id=None if version.model_id is None else strawberry.ID(version.model_id),
            llm_eval_enabled=version.llm_eval_enabled,
            is_deployed=version.is_deployed,
            created_at=version.created_at,
        )

    @fields.field(description="The catalog model that judges, when there is one.")
    async def model(self, info: Info) -> Model | None:
        if self.model_id is None:
            return None
        found = await llm_models.get_model(info.context.db, info.context.principal, self.model_id)
        return Model.of(found)


@strawberry.type(description="What a prompt template's outputs are judged on.")
class EvaluationCriterion:
    id: strawberry.ID
    project_id: strawberry.ID
    name: str
    target_type: CriterionTargetType
    target_id: strawberry.ID = strawberry.field(description="The prompt template judged.")
    target_name: str
    direction: Direction
    is_enabled: bool
    position: int = strawberry.field(description="Display order, 0 first.")
    latest_version_id: strawberry.ID | None
    deployed_version: EvaluationCriterionVersion | None = strawberry.field(
        description="The version in use."
    )
    type: CriterionType | None
    llm_eval_enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, criterion: criteria.Criterion) -> "EvaluationCriterion":
        return cls(
            id=strawberry.ID(criterion.id),
            project_id=strawberry.ID(criterion.project_id),
            name=criterion.name,
            target_type=criterion.target_type,
            target_id=strawberry.ID(criterion.target_id),
            target_name=criterion.target_name,
            direction=criterion.direction,
            is_enabled=criterion.is_enabled,
            position=criterion.position,
            latest_version_id=None
            if criterion.latest_version_id is None
            else strawberry.ID(criterion.latest_version_id),
            deployed_version=None
            if criterion.deployed is None
            else EvaluationCriterionVersion.of(criterion.deployed),
            type=criterion.type,
            llm_eval_enabled=criterion.llm_eval_enabled,
            created_at=criterion.created_at,
            updated_at=criterion.updated_at,
        )

    @fields.field(description="Every version, newest first.")
    async def versions(self, info: Info) -> list[EvaluationCriterionVersion]:
        _, page = await criteria.list_criterion_versions(
            info.context.db,
            info.context.principal,
            self.project_id,
            self.id,
            offset=0,
            limit=10_000,
        )
        return [EvaluationCriterionVersion.of(v) for v in page.items]


EvaluationCriterionConnection = Connection[EvaluationCriterion]
