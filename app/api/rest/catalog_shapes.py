"""Request and response shapes of prompt templates, models and evaluation criteria, as
Freeplay's API documents them (keys marked "ours" are additions)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictStr

from app.api.rest.models import Body, example
from app.domain import criteria, llm_models, prompt_templates
from app.domain.criteria import Criterion, CriterionType, CriterionVersion
from app.domain.llm_models import Model
from app.domain.pagination import Page
from app.domain.prompt_rendering import HistoryPlaceholder, RenderedMessage
from app.domain.prompt_templates import PromptTemplate, TemplateVersion

_TEMPLATE_ID = "0b8e1c4a-3f1d-4a8e-9a51-2f4a6b7c8d90"
_VERSION_ID = "7d2f9e61-5c3b-4e0a-8f17-1a2b3c4d5e6f"
_MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
_MESSAGES = [
    {"role": "system", "content": "You answer {{customer_name}}'s questions about {{product}}."},
    {"kind": "history"},
    {"role": "user", "content": "{{question}}"},
]


class PaginationInfo(BaseModel):
    page: int
    page_size: int
    has_next: bool


def pagination(page: int, size: int, found: Page[Any]) -> PaginationInfo:
    return PaginationInfo(page=page, page_size=size, has_next=found.has_next)


class EmptyResponse(BaseModel):
    pass


# ---- prompt templates ----------------------------------------------------------------------


class CreatePromptTemplateRequest(Body):
    name: StrictStr
    id: StrictStr | None = Field(default=None, description="Choose the template's id (a uuid).")


class CreatePromptTemplateResponse(BaseModel):
    id: str


class UpdatePromptTemplateRequest(Body):
    name: StrictStr


class PromptTemplateInfo(BaseModel):
    id: str
    name: str
    latest_template_version_id: str | None


class PromptTemplateListResponse(BaseModel):
    data: list[PromptTemplateInfo]
    pagination: PaginationInfo


class CreateTemplateVersionRequest(Body):
    model_config = example(
        {
            "template_messages": _MESSAGES,
            "model": "gpt-4o-mini",
            "provider": "openai",
            "version_name": "friendlier",
            "version_description": "Greets the customer by name",
            "llm_parameters": {"temperature": 0.2, "max_tokens": 400},
            "tool_schema": None,
            "output_schema": None,
            "environments": ["staging"],
        }
    )

    template_messages: list[dict[str, Any]] = Field(
        description='{role: system|user|assistant, content, media_slots?} or {kind: "history"}'
    )
    model: StrictStr
    provider: StrictStr
    version_name: StrictStr | None = None
    version_description: StrictStr | None = None
    llm_parameters: dict[str, Any] | None = None
    tool_schema: list[dict[str, Any]] | None = None
    output_schema: dict[str, Any] | None = None
    environments: list[StrictStr] | None = Field(
        default=None, description='Deploy to these (default: only "latest", the newest).'
    )

    def domain(self) -> prompt_templates.NewTemplateVersion:
        return prompt_templates.NewTemplateVersion(
            template_messages=self.template_messages,
            model=self.model,
            provider=self.provider,
            version_name=self.version_name,
            version_description=self.version_description,
            llm_parameters=self.llm_parameters,
            tool_schema=self.tool_schema,
            output_schema=self.output_schema,
            environments=None if self.environments is None else tuple(self.environments),
        )


class UpdateTemplateVersionEnvironmentsRequest(Body):
    environments: list[StrictStr]


class PromptTemplateMetadata(BaseModel):
    provider: str | None
    flavor: str | None
    model: str | None
    params: dict[str, Any] | None
    provider_info: dict[str, Any] | None = Field(
        description="From the model catalog: base_url, api_key_env (a variable's name), prices."
    )


class PromptTemplateVersion(BaseModel):
    prompt_template_id: str
    prompt_template_version_id: str
    prompt_template_name: str
    version_name: str | None
    version_description: str | None
    metadata: PromptTemplateMetadata
    format_version: int
    project_id: str
    version_number: int = Field(description="Ours: 1 for the first version, and so on.")
    environments: list[str] = Field(description="Ours: where this version is deployed.")


class PlainPromptTemplate(PromptTemplateVersion):
    model_config = example(
        {
            "prompt_template_id": _TEMPLATE_ID,
            "prompt_template_version_id": _VERSION_ID,
            "prompt_template_name": "support-reply",
            "version_name": "friendlier",
            "version_description": "Greets the customer by name",
            "metadata": {
                "provider": "openai",
                "flavor": "openai_chat",
                "model": "gpt-4o-mini",
                "params": {"temperature": 0.2, "max_tokens": 400},
                "provider_info": {
                    "base_url": "https://api.openai.com/v1",
                    "api_key_env": "OPENAI_API_KEY",
                    "input_price_per_million_tokens": "0.15",
                    "output_price_per_million_tokens": "0.6",
                },
            },
            "format_version": 3,
            "project_id": "4f6d2c1e-0a9b-4c8d-8e7f-6a5b4c3d2e1f",
            "content": _MESSAGES,
            "tool_schema": None,
            "output_schema": None,
            "version_number": 2,
            "environments": ["latest", "staging"],
        }
    )

    content: list[dict[str, Any]]
    tool_schema: list[dict[str, Any]] | None
    output_schema: dict[str, Any] | None


class RenderedMessageOut(BaseModel):
    role: str
    content: str


class BoundPromptTemplate(PromptTemplateVersion):
    messages: list[RenderedMessageOut] = Field(
        description="Ours: the messages with the body's variables filled in."
    )


class PromptTemplateVersionListResponse(BaseModel):
    data: list[PlainPromptTemplate]
    pagination: PaginationInfo


class PromptTemplatesByEnvironmentResponse(BaseModel):
    prompt_templates: list[PlainPromptTemplate]


def template_info(template: PromptTemplate) -> PromptTemplateInfo:
    return PromptTemplateInfo(
        id=template.id,
        name=template.name,
        latest_template_version_id=template.latest_version_id,
    )


def _version_fields(version: TemplateVersion, flavor_name: str | None = None) -> dict[str, Any]:
    return {
        "prompt_template_id": version.template_id,
        "prompt_template_version_id": version.id,
        "prompt_template_name": version.template_name,
        "version_name": version.version_name,
        "version_description": version.version_description,
        "metadata": PromptTemplateMetadata(
            provider=version.provider,
            flavor=flavor_name or version.flavor,
            model=version.model,
            params=version.llm_parameters,
            provider_info=None
            if version.provider_info is None
            else version.provider_info.as_dict(),
        ),
        "format_version": version.format_version,
        "project_id": version.project_id,
        "version_number": version.number,
        "environments": list(version.environments),
    }


def plain_template(version: TemplateVersion, flavor_name: str | None = None) -> PlainPromptTemplate:
    content: list[dict[str, Any]] = []
    for message in version.messages:
        if isinstance(message, HistoryPlaceholder):
            content.append({"kind": "history"})
            continue
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.media_slots:
            item["media_slots"] = [
                {"type": s.type, "placeholder_name": s.placeholder_name}
                for s in message.media_slots
            ]
        content.append(item)
    return PlainPromptTemplate(
        **_version_fields(version, flavor_name),
        content=content,
        tool_schema=version.tool_schema,
        output_schema=version.output_schema,
    )


def bound_template(
    version: TemplateVersion, messages: list[RenderedMessage], flavor_name: str | None = None
) -> BoundPromptTemplate:
    return BoundPromptTemplate(
        **_version_fields(version, flavor_name),
        messages=[RenderedMessageOut(role=m.role, content=m.content) for m in messages],
    )


# ---- models --------------------------------------------------------------------------------

_PROVIDER_INFO = {
    "base_url": "https://api.openai.com/v1",
    "api_key_env": "OPENAI_API_KEY",
    "input_price_per_million_tokens": "0.15",
    "output_price_per_million_tokens": "0.6",
}


class UpdateModelRequest(Body):
    model_config = example(
        {
            "name": "gpt-4o-mini",
            "provider_name": "openai",
            "model_family": "gpt-4o",
            "model_version": "2024-07-18",
            "display_name": "GPT-4o mini",
            "provider_info": _PROVIDER_INFO,
            "supports_tool_use": True,
        }
    )

    name: StrictStr
    provider_name: StrictStr
    model_family: StrictStr
    model_version: StrictStr
    display_name: StrictStr | None = None
    provider_info: dict[str, Any] | None = Field(
        default=None,
        description=(
            "{base_url, api_key_env, input_price_per_million_tokens, "
            "output_price_per_million_tokens}: api_key_env is the NAME of the server's "
            "environment variable that holds the key; key values are refused."
        ),
    )
    supports_tool_use: StrictBool = True

    def domain(self) -> llm_models.NewModel:
        return llm_models.NewModel(
            name=self.name,
            provider_name=self.provider_name,
            model_family=self.model_family,
            model_version=self.model_version,
            display_name=self.display_name,
            provider_info=None
            if self.provider_info is None
            else llm_models.parse_provider_info(self.provider_info),
            supports_tool_use=self.supports_tool_use,
        )


class ReplicateModelRequest(UpdateModelRequest):
    model_config = example(
        {
            "id": _MODEL_ID,
            "name": "gpt-4o-mini",
            "provider_name": "openai",
            "model_family": "gpt-4o",
            "model_version": "2024-07-18",
            "display_name": "GPT-4o mini",
            "provider_info": _PROVIDER_INFO,
            "supports_tool_use": True,
        }
    )

    id: StrictStr = Field(description="The model's id (a uuid): the same id updates it.")


class ModelReplicationInfo(BaseModel):
    id: str
    name: str
    display_name: str | None
    provider_name: str
    provider_info: dict[str, str] | None
    supports_tool_use: bool
    model_family: str
    model_version: str
    created_at: datetime


class ModelListResponse(BaseModel):
    data: list[ModelReplicationInfo]
    pagination: PaginationInfo


def model_info(model: Model) -> ModelReplicationInfo:
    return ModelReplicationInfo(
        id=model.id,
        name=model.name,
        display_name=model.display_name,
        provider_name=model.provider_name,
        provider_info=None if model.provider_info is None else model.provider_info.as_dict(),
        supports_tool_use=model.supports_tool_use,
        model_family=model.model_family,
        model_version=model.model_version,
        created_at=model.created_at,
    )


# ---- evaluation criteria -------------------------------------------------------------------

CriterionTypeName = Literal[
    "1-5", "1-3", "1-100", "yes-no", "multi-select", "auto-categorization", "text"
]


class CriterionVersionFields(Body):
    question: StrictStr
    type: CriterionTypeName
    llm_question: StrictStr | None = None
    rubric: dict[str, StrictStr] | None = Field(
        default=None, description='Each score (e.g. "1".."5", "yes"/"no") and what it means.'
    )
    llm_eval_enabled: StrictBool = False
    model_id: StrictStr | None = Field(
        default=None, description="The catalog model that judges when llm_eval_enabled."
    )
    options: list[StrictStr] | None = Field(
        default=None, description="The labels of a multi-select or auto-categorization one."
    )

    def version(self) -> criteria.NewCriterionVersion:
        return criteria.NewCriterionVersion(
            question=self.question,
            type=CriterionType(self.type),
            rubric=self.rubric,
            llm_question=self.llm_question,
            llm_eval_enabled=self.llm_eval_enabled,
            model_id=self.model_id,
            options=tuple(self.options or ()),
        )


class CreateCriterionRequest(CriterionVersionFields):
    """Ours (Freeplay makes criteria in its app): a criterion with its first version."""

    model_config = example(
        {
            "name": "helpfulness",
            "target_type": "prompt",
            "target_id": _TEMPLATE_ID,
            "direction": "higher",
            "question": "How helpful is the reply?",
            "llm_question": "Rate how well the reply solves the customer's problem.",
            "type": "1-5",
            "rubric": {"1": "Does not help", "5": "Solves the problem"},
            "llm_eval_enabled": True,
            "model_id": _MODEL_ID,
        }
    )

    name: StrictStr
    target_id: StrictStr = Field(description="A prompt template of the project.")
    target_type: Literal["prompt"] = "prompt"
    direction: Literal["higher", "lower"] = Field(
        default="higher", description="Ours: whether a higher or a lower score is better."
    )
    is_enabled: StrictBool = True


class CreateCriterionVersionRequest(CriterionVersionFields):
    """Ours: a new version, used once deployed (at once with deploy: true)."""

    deploy: StrictBool = False


class UpdateCriterionRequest(Body):
    """Ours: only the keys given change."""

    name: StrictStr | None = None
    direction: Literal["higher", "lower"] | None = None


class ReorderCriteriaRequest(Body):
    move_before_id: StrictStr | None = Field(
        default=None, description="Place it just before this criterion; null: last."
    )


class EvaluationCriteriaInfo(BaseModel):
    id: str
    name: str
    type: str
    target_type: Literal["prompt", "agent"]
    target_id: str
    latest_version_id: str | None
    is_enabled: bool
    llm_eval_enabled: bool
    direction: Literal["higher", "lower"] = Field(description="Ours: which scores are better.")
    position: int = Field(description="Ours: display order, 0 first.")


class EvaluationCriteriaListResponse(BaseModel):
    data: list[EvaluationCriteriaInfo]
    pagination: PaginationInfo


class EvaluationCriteriaTarget(BaseModel):
    target_type: Literal["prompt", "agent"]
    id: str
    name: str


class CategoryInfo(BaseModel):
    name: str
    description: str


class EvaluationCriteriaVersionInfo(BaseModel):
    id: str = Field(description="The criterion's id.")
    version_id: str
    name: str
    question: str
    llm_question: str | None
    llm_eval_enabled: bool
    type: CriterionTypeName
    rubric: dict[str, str]
    multi_select_labels: list[str]
    version_number: int
    is_deployed: bool
    created_at: int = Field(description="Seconds since the epoch.")
    sample_rate: float | None
    target: EvaluationCriteriaTarget
    created_by_user: None
    options: list[str] | None
    model_id: str | None
    position: float | None
    is_enabled: bool
    allow_multiple_categories: bool
    categories: list[CategoryInfo] | None
    direction: Literal["higher", "lower"] = Field(description="Ours: which scores are better.")


class EvaluationCriteriaVersionListResponse(BaseModel):
    data: list[EvaluationCriteriaVersionInfo]
    pagination: PaginationInfo


def criterion_info(criterion: Criterion) -> EvaluationCriteriaInfo:
    return EvaluationCriteriaInfo(
        id=criterion.id,
        name=criterion.name,
        type="" if criterion.type is None else criterion.type.value,
        target_type=criterion.target_type.value,
        target_id=criterion.target_id,
        latest_version_id=criterion.latest_version_id,
        is_enabled=criterion.is_enabled,
        llm_eval_enabled=criterion.llm_eval_enabled,
        direction=criterion.direction.value,
        position=criterion.position,
    )


def criterion_version_info(
    criterion: Criterion, version: CriterionVersion
) -> EvaluationCriteriaVersionInfo:
    labels = list(version.options)
    return EvaluationCriteriaVersionInfo(
        id=criterion.id,
        version_id=version.id,
        name=criterion.name,
        question=version.question,
        llm_question=version.llm_question,
        llm_eval_enabled=version.llm_eval_enabled,
        type=version.type.value,
        rubric=version.rubric,
        multi_select_labels=labels if version.type is CriterionType.MULTI_SELECT else [],
        version_number=version.number,
        is_deployed=version.is_deployed,
        created_at=int(version.created_at.timestamp()),
        sample_rate=None,
        target=EvaluationCriteriaTarget(
            target_type=criterion.target_type.value,
            id=criterion.target_id,
            name=criterion.target_name,
        ),
        created_by_user=None,
        options=labels or None,
        model_id=version.model_id,
        position=criterion.position,
        is_enabled=criterion.is_enabled,
        allow_multiple_categories=version.type is CriterionType.MULTI_SELECT,
        categories=[CategoryInfo(name=label, description="") for label in labels]
        if version.type is CriterionType.AUTO_CATEGORIZATION
        else None,
        direction=criterion.direction.value,
    )
