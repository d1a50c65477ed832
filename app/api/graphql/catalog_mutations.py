"""Mutations of prompt templates, the model catalog and evaluation criteria: each one call
into the domain, as REST makes it."""

from typing import Any

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.errors import Loc, relocated
from app.api.graphql.scalars import JSON
from app.api.graphql.types.criterion import (
    CriterionType,
    EvaluationCriterion,
    EvaluationCriterionVersion,
)
from app.api.graphql.types.evaluation import Direction
from app.api.graphql.types.model import Model
from app.api.graphql.types.prompt_template import PromptTemplate, PromptTemplateVersion
from app.domain import criteria, evaluations, llm_models, prompt_templates
from app.domain.errors import InvalidInput

# A criterion version's fields arrive under `version` in these inputs.
VERSION_FIELDS = {"question", "type", "llm_question", "rubric", "llm_eval_enabled", "model_id"}


def _under_version(loc: Loc) -> Loc:
    return ("version", *loc) if loc[:1] and loc[0] in VERSION_FIELDS | {"options"} else loc


# ---- inputs --------------------------------------------------------------------------------


@strawberry.input
class MediaSlotInput:
    type: str = strawberry.field(description="audio, video, image or file")
    placeholder_name: str


@strawberry.input(
    description="A template message {role, content} (role: system, user or assistant), or "
    '{kind: "history"} for where a case\'s history goes.'
)
class TemplateMessageInput:
    role: str | None = None
    content: str | None = None
    media_slots: list[MediaSlotInput] | None = None
    kind: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.kind is not None:
            return {"kind": self.kind}
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.media_slots:
            message["media_slots"] = [
                {"type": s.type, "placeholder_name": s.placeholder_name} for s in self.media_slots
            ]
        return message


@strawberry.input
class CreatePromptTemplateInput:
    project_id: strawberry.ID
    name: str


@strawberry.input
class RenamePromptTemplateInput:
    project_id: strawberry.ID
    prompt_template_id: strawberry.ID
    name: str


@strawberry.input
class DeletePromptTemplateInput:
    project_id: strawberry.ID
    prompt_template_id: strawberry.ID


@strawberry.input(
    description="A version of the template with this id, or with this name (made first when "
    "createTemplate is true). An identical version already in a target environment is reused."
)
class CreatePromptTemplateVersionInput:
    project_id: strawberry.ID
    template_messages: list[TemplateMessageInput]
    model: str
    provider: str
    prompt_template_id: strawberry.ID | None = None
    prompt_template_name: str | None = None
    create_template: bool = False
    version_name: str | None = None
    version_description: str | None = None
    llm_parameters: JSON | None = None
    tool_schema: JSON | None = None
    output_schema: JSON | None = None
    environments: list[str] | None = strawberry.field(
        default=None, description='Deploy to these (default: only "latest").'
    )

    def to_domain(self) -> prompt_templates.NewTemplateVersion:
        return prompt_templates.NewTemplateVersion(
            template_messages=[m.as_json() for m in self.template_messages],
            model=self.model,
            provider=self.provider,
            version_name=self.version_name,
            version_description=self.version_description,
            llm_parameters=self.llm_parameters,
            tool_schema=self.tool_schema,
            output_schema=self.output_schema,
            environments=None if self.environments is None else tuple(self.environments),
        )


@strawberry.input(description="Deploy a version to exactly these environments.")
class SetPromptTemplateVersionEnvironmentsInput:
    project_id: strawberry.ID
    prompt_template_id: strawberry.ID
    version_id: strawberry.ID
    environments: list[str]


@strawberry.input
class DeletePromptTemplateVersionInput:
    project_id: strawberry.ID
    prompt_template_id: strawberry.ID
    version_id: strawberry.ID


@strawberry.input(
    description="apiKeyEnv is the NAME of the server's environment variable holding the key."
)
class ProviderInfoInput:
    base_url: str | None = None
    api_key_env: str | None = None
    input_price_per_million_tokens: float | None = None
    output_price_per_million_tokens: float | None = None


@strawberry.input(description="Create the model with this id, or replace it (admin keys only).")
class UpsertModelInput:
    id: strawberry.ID
    name: str
    provider_name: str
    model_family: str
    model_version: str
    display_name: str | None = None
    provider_info: ProviderInfoInput | None = None
    supports_tool_use: bool = True

    def to_domain(self) -> llm_models.NewModel:
        info = self.provider_info
        return llm_models.NewModel(
            name=self.name,
            provider_name=self.provider_name,
            model_family=self.model_family,
            model_version=self.model_version,
            display_name=self.display_name,
            provider_info=None
            if info is None
            else llm_models.parse_provider_info(
                {k: v for k, v in vars(info).items() if v is not None}
            ),
            supports_tool_use=self.supports_tool_use,
        )


@strawberry.input
class DeleteModelInput:
    id: strawberry.ID


@strawberry.input
class CriterionVersionInput:
    question: str
    type: CriterionType
    llm_question: str | None = None
    rubric: JSON | None = strawberry.field(
        default=None, description='Each score ("1".."5", "yes"/"no", a label) and its meaning.'
    )
    llm_eval_enabled: bool = False
    model_id: strawberry.ID | None = None
    options: list[str] | None = None

    def to_domain(self) -> criteria.NewCriterionVersion:
        return criteria.NewCriterionVersion(
            question=self.question,
            type=criteria.CriterionType(self.type),
            rubric=self.rubric,
            llm_question=self.llm_question,
            llm_eval_enabled=self.llm_eval_enabled,
            model_id=self.model_id,
            options=tuple(self.options or ()),
        )


@strawberry.input(description="A criterion of a prompt template with its first version.")
class CreateEvaluationCriterionInput:
    project_id: strawberry.ID
    name: str
    target_id: strawberry.ID = strawberry.field(description="A prompt template of the project.")
    version: CriterionVersionInput
    direction: Direction = evaluations.Direction.HIGHER
    is_enabled: bool = True


@strawberry.input(description="Only the fields given change.")
class UpdateEvaluationCriterionInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID
    name: str | None = None
    direction: Direction | None = None


@strawberry.input
class EvaluationCriterionInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID


@strawberry.input
class SetEvaluationCriterionEnabledInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID
    enabled: bool


@strawberry.input
class ReorderEvaluationCriterionInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID
    move_before_id: strawberry.ID | None = strawberry.field(
        default=None, description="Place it just before this criterion; null: last."
    )


@strawberry.input
class CreateEvaluationCriterionVersionInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID
    version: CriterionVersionInput
    deploy: bool = False


@strawberry.input
class EvaluationCriterionVersionInput:
    project_id: strawberry.ID
    criterion_id: strawberry.ID
    version_id: strawberry.ID


# ---- payloads ------------------------------------------------------------------------------


@strawberry.type
class CreatePromptTemplatePayload:
    prompt_template: PromptTemplate


@strawberry.type
class RenamePromptTemplatePayload:
    prompt_template: PromptTemplate


@strawberry.type
class DeletePromptTemplatePayload:
    deleted_prompt_template_id: strawberry.ID


@strawberry.type
class CreatePromptTemplateVersionPayload:
    version: PromptTemplateVersion
    created: bool = strawberry.field(description="False when an identical version was reused.")


@strawberry.type
class SetPromptTemplateVersionEnvironmentsPayload:
    version: PromptTemplateVersion


@strawberry.type
class DeletePromptTemplateVersionPayload:
    deleted_version_id: strawberry.ID


@strawberry.type
class UpsertModelPayload:
    model: Model


@strawberry.type
class DeleteModelPayload:
    deleted_model_id: strawberry.ID


@strawberry.type
class CreateEvaluationCriterionPayload:
    criterion: EvaluationCriterion


@strawberry.type
class UpdateEvaluationCriterionPayload:
    criterion: EvaluationCriterion


@strawberry.type
class DeleteEvaluationCriterionPayload:
    deleted_criterion_id: strawberry.ID


@strawberry.type
class SetEvaluationCriterionEnabledPayload:
    criterion: EvaluationCriterion


@strawberry.type
class ReorderEvaluationCriterionPayload:
    criterion: EvaluationCriterion


@strawberry.type
class CreateEvaluationCriterionVersionPayload:
    criterion: EvaluationCriterion
    version: EvaluationCriterionVersion


@strawberry.type
class DeployEvaluationCriterionVersionPayload:
    criterion: EvaluationCriterion


@strawberry.type
class DeleteEvaluationCriterionVersionPayload:
    deleted_version_id: strawberry.ID


# ---- mutations -----------------------------------------------------------------------------


@strawberry.type
class CatalogMutation:
    @strawberry.mutation
    async def create_prompt_template(
        self, info: Info, input: CreatePromptTemplateInput
    ) -> CreatePromptTemplatePayload:
        ctx = info.context
        made = await prompt_templates.create_template(
            ctx.db, ctx.principal, input.project_id, input.name
        )
        return CreatePromptTemplatePayload(prompt_template=PromptTemplate.of(made))

    @strawberry.mutation
    async def rename_prompt_template(
        self, info: Info, input: RenamePromptTemplateInput
    ) -> RenamePromptTemplatePayload:
        ctx = info.context
        renamed = await prompt_templates.rename_template(
            ctx.db, ctx.principal, input.project_id, input.prompt_template_id, input.name
        )
        return RenamePromptTemplatePayload(prompt_template=PromptTemplate.of(renamed))

    @fields.mutation(description="Archive a template and its versions.")
    async def delete_prompt_template(
        self, info: Info, input: DeletePromptTemplateInput
    ) -> DeletePromptTemplatePayload:
        ctx = info.context
        await prompt_templates.delete_template(
            ctx.db, ctx.principal, input.project_id, input.prompt_template_id
        )
        return DeletePromptTemplatePayload(deleted_prompt_template_id=input.prompt_template_id)

    @strawberry.mutation
    async def create_prompt_template_version(
        self, info: Info, input: CreatePromptTemplateVersionInput
    ) -> CreatePromptTemplateVersionPayload:
        if (input.prompt_template_id is None) == (input.prompt_template_name is None):
            raise InvalidInput("give either promptTemplateId or promptTemplateName")
        ctx = info.context
        version, created = await prompt_templates.create_version(
            ctx.db,
            ctx.principal,
            input.project_id,
            input.to_domain(),
            template_id=input.prompt_template_id,
            template_name=input.prompt_template_name,
            create_template=input.create_template,
        )
        return CreatePromptTemplateVersionPayload(
            version=PromptTemplateVersion.of(version), created=created
        )

    @strawberry.mutation
    async def set_prompt_template_version_environments(
        self, info: Info, input: SetPromptTemplateVersionEnvironmentsInput
    ) -> SetPromptTemplateVersionEnvironmentsPayload:
        ctx = info.context
        version = await prompt_templates.set_version_environments(
            ctx.db,
            ctx.principal,
            input.project_id,
            input.prompt_template_id,
            input.version_id,
            input.environments,
        )
        return SetPromptTemplateVersionEnvironmentsPayload(
            version=PromptTemplateVersion.of(version)
        )

    @fields.mutation(description="CONFLICT while a named environment uses the version.")
    async def delete_prompt_template_version(
        self, info: Info, input: DeletePromptTemplateVersionInput
    ) -> DeletePromptTemplateVersionPayload:
        ctx = info.context
        await prompt_templates.delete_version(
            ctx.db, ctx.principal, input.project_id, input.prompt_template_id, input.version_id
        )
        return DeletePromptTemplateVersionPayload(deleted_version_id=input.version_id)

    @fields.mutation(description="Admin keys only (FORBIDDEN otherwise).")
    async def upsert_model(self, info: Info, input: UpsertModelInput) -> UpsertModelPayload:
        ctx = info.context
        model = await llm_models.upsert_model(ctx.db, ctx.principal, input.id, input.to_domain())
        return UpsertModelPayload(model=Model.of(model))

    @fields.mutation(description="Admin keys only; CONFLICT while criteria judge with it.")
    async def delete_model(self, info: Info, input: DeleteModelInput) -> DeleteModelPayload:
        await llm_models.delete_model(info.context.db, info.context.principal, input.id)
        return DeleteModelPayload(deleted_model_id=input.id)

    @fields.mutation(description="Its first version is deployed; it is placed last.")
    async def create_evaluation_criterion(
        self, info: Info, input: CreateEvaluationCriterionInput
    ) -> CreateEvaluationCriterionPayload:
        ctx = info.context
        new = criteria.NewCriterion(
            name=input.name,
            target_id=input.target_id,
            version=input.version.to_domain(),
            direction=evaluations.Direction(input.direction),
            is_enabled=input.is_enabled,
        )
        with relocated(_under_version):
            made = await criteria.create_criterion(ctx.db, ctx.principal, input.project_id, new)
        return CreateEvaluationCriterionPayload(criterion=EvaluationCriterion.of(made))

    @strawberry.mutation
    async def update_evaluation_criterion(
        self, info: Info, input: UpdateEvaluationCriterionInput
    ) -> UpdateEvaluationCriterionPayload:
        ctx = info.context
        updated = await criteria.update_criterion(
            ctx.db,
            ctx.principal,
            input.project_id,
            input.criterion_id,
            name=input.name,
            direction=None if input.direction is None else evaluations.Direction(input.direction),
        )
        return UpdateEvaluationCriterionPayload(criterion=EvaluationCriterion.of(updated))

    @fields.mutation(description="CONFLICT while a test run is to be scored on it.")
    async def delete_evaluation_criterion(
        self, info: Info, input: EvaluationCriterionInput
    ) -> DeleteEvaluationCriterionPayload:
        ctx = info.context
        await criteria.delete_criterion(ctx.db, ctx.principal, input.project_id, input.criterion_id)
        return DeleteEvaluationCriterionPayload(deleted_criterion_id=input.criterion_id)

    @fields.mutation(description="A disabled criterion is kept but not used.")
    async def set_evaluation_criterion_enabled(
        self, info: Info, input: SetEvaluationCriterionEnabledInput
    ) -> SetEvaluationCriterionEnabledPayload:
        ctx = info.context
        updated = await criteria.set_criterion_enabled(
            ctx.db, ctx.principal, input.project_id, input.criterion_id, input.enabled
        )
        return SetEvaluationCriterionEnabledPayload(criterion=EvaluationCriterion.of(updated))

    @strawberry.mutation
    async def reorder_evaluation_criterion(
        self, info: Info, input: ReorderEvaluationCriterionInput
    ) -> ReorderEvaluationCriterionPayload:
        ctx = info.context
        moved = await criteria.reorder_criterion(
            ctx.db, ctx.principal, input.project_id, input.criterion_id, input.move_before_id
        )
        return ReorderEvaluationCriterionPayload(criterion=EvaluationCriterion.of(moved))

    @fields.mutation(description="Used once deployed (at once with deploy: true).")
    async def create_evaluation_criterion_version(
        self, info: Info, input: CreateEvaluationCriterionVersionInput
    ) -> CreateEvaluationCriterionVersionPayload:
        ctx = info.context
        with relocated(_under_version):
            criterion, version = await criteria.create_criterion_version(
                ctx.db,
                ctx.principal,
                input.project_id,
                input.criterion_id,
                input.version.to_domain(),
                deploy=input.deploy,
            )
        return CreateEvaluationCriterionVersionPayload(
            criterion=EvaluationCriterion.of(criterion),
            version=EvaluationCriterionVersion.of(version),
        )

    @strawberry.mutation
    async def deploy_evaluation_criterion_version(
        self, info: Info, input: EvaluationCriterionVersionInput
    ) -> DeployEvaluationCriterionVersionPayload:
        ctx = info.context
        criterion = await criteria.deploy_criterion_version(
            ctx.db, ctx.principal, input.project_id, input.criterion_id, input.version_id
        )
        return DeployEvaluationCriterionVersionPayload(criterion=EvaluationCriterion.of(criterion))

    @fields.mutation(description="CONFLICT for the deployed version.")
    async def delete_evaluation_criterion_version(
        self, info: Info, input: EvaluationCriterionVersionInput
    ) -> DeleteEvaluationCriterionVersionPayload:
        ctx = info.context
        await criteria.delete_criterion_version(
            ctx.db, ctx.principal, input.project_id, input.criterion_id, input.version_id
        )
        return DeleteEvaluationCriterionVersionPayload(deleted_version_id=input.version_id)
