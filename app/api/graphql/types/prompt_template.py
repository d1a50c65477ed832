"""Prompt templates and their versions."""

from datetime import datetime
from typing import Annotated

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import Connection
from app.api.graphql.scalars import JSON, json_or_null
from app.api.graphql.types.model import Model, ProviderInfo
from app.api.graphql.types.offset_pages import offset_after, offset_connection
from app.domain import llm_models, prompt_templates
from app.domain.pagination import page_limit
from app.domain.prompt_rendering import ChatMessage, HistoryPlaceholder

VERSION_CURSOR = "template-version"


@strawberry.type
class MediaSlot:
    type: str
    placeholder_name: str


@strawberry.type(name="TemplateChatMessage", description="{{variable}} placeholders in content.")
class TemplateChatMessage:
    role: str
    content: str
    media_slots: list[MediaSlot]


@strawberry.type(name="HistoryPlaceholder", description="Where a test case's chat history goes.")
class HistoryPlaceholderType:
    kind: str = "history"


TemplateMessage = Annotated[
    TemplateChatMessage | HistoryPlaceholderType, strawberry.union("TemplateMessage")
]


@strawberry.type(description="A message as sent to a model.")
class RenderedMessage:
    role: str
    content: str


def _message(message: ChatMessage | HistoryPlaceholder) -> TemplateMessage:
    if isinstance(message, HistoryPlaceholder):
        return HistoryPlaceholderType()
    return TemplateChatMessage(
        role=message.role,
        content=message.content,
        media_slots=[
            MediaSlot(type=s.type, placeholder_name=s.placeholder_name) for s in message.media_slots
        ],
    )


@strawberry.type
class PromptTemplateVersion:
    id: strawberry.ID
    template_id: strawberry.ID
    template_name: str
    number: int
    version_name: str | None
    version_description: str | None
    messages: list[TemplateMessage]
    model: str
    provider: str
    flavor: str = strawberry.field(
        description="Freeplay's name for the provider's message format, e.g. openai_chat."
    )
    llm_parameters: JSON | None
    tool_schema: JSON | None
    output_schema: JSON | None
    environments: list[str] = strawberry.field(
        description='Where it is deployed; "latest" when it is the newest version.'
    )
    provider_info: ProviderInfo | None = strawberry.field(
        description="From the catalog's model of this provider and name, when there is one."
    )
    created_at: datetime
    _version: strawberry.Private[prompt_templates.TemplateVersion]

    @classmethod
    def of(cls, version: prompt_templates.TemplateVersion) -> "PromptTemplateVersion":
        return cls(
            id=strawberry.ID(version.id),
            template_id=strawberry.ID(version.template_id),
            template_name=version.template_name,
            number=version.number,
            version_name=version.version_name,
            version_description=version.version_description,
            messages=[_message(m) for m in version.messages],
            model=version.model,
            provider=version.provider,
            flavor=version.flavor,
            llm_parameters=json_or_null(version.llm_parameters),
            tool_schema=json_or_null(version.tool_schema),
            output_schema=json_or_null(version.output_schema),
            environments=list(version.environments),
            provider_info=ProviderInfo.of(version.provider_info),
            created_at=version.created_at,
            _version=version,
        )

    @fields.field(description="The catalog's model of this provider and name, if any.")
    async def catalog_model(self, info: Info) -> Model | None:
        if self._version.model_id is None:
            return None
        return Model.of(
            await llm_models.get_model(
                info.context.db, info.context.principal, self._version.model_id
            )
        )

    @fields.field(
        description="The messages with these variables filled in and this history in place of "
        "the history placeholder; MISSING_VARIABLES names any variable that is not given."
    )
    def render(self, variables: JSON, history: JSON | None = None) -> list[RenderedMessage]:
        rendered = self._version.render(variables, history)
        return [RenderedMessage(role=m.role, content=m.content) for m in rendered]


PromptTemplateVersionConnection = Connection[PromptTemplateVersion]


@strawberry.type
class PromptTemplate:
    id: strawberry.ID
    project_id: strawberry.ID
    name: str
    latest_version_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, template: prompt_templates.PromptTemplate) -> "PromptTemplate":
        return cls(
            id=strawberry.ID(template.id),
            project_id=strawberry.ID(template.project_id),
            name=template.name,
            latest_version_id=None
            if template.latest_version_id is None
            else strawberry.ID(template.latest_version_id),
            created_at=template.created_at,
            updated_at=template.updated_at,
        )

    @fields.field(description="The version deployed to an environment (default: the newest).")
    async def version(
        self, info: Info, environment: str = prompt_templates.LATEST
    ) -> PromptTemplateVersion | None:
        found = await prompt_templates.version_in_environment(
            info.context.db, info.context.principal, self.project_id, self.name, environment
        )
        return PromptTemplateVersion.of(found)

    @fields.field(description="The template's versions, newest first.")
    async def versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PromptTemplateVersionConnection:
        offset = offset_after(after, VERSION_CURSOR)
        page = await prompt_templates.list_versions(
            info.context.db,
            info.context.principal,
            self.project_id,
            self.id,
            offset=offset,
            limit=page_limit(first, info.context.settings),
        )
        return offset_connection(page, offset, VERSION_CURSOR, PromptTemplateVersion.of)


PromptTemplateConnection = Connection[PromptTemplate]
