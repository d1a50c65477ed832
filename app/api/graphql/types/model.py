"""The model catalog: models the server may call, and how to reach their providers."""

from datetime import datetime

import strawberry

from app.domain import llm_models


@strawberry.type(
    description="How to reach a model's provider. apiKeyEnv is the NAME of the server's "
    "environment variable that holds the key; keys themselves are never stored or shown."
)
class ProviderInfo:
    base_url: str | None
    api_key_env: str | None
    input_price_per_million_tokens: float | None
    output_price_per_million_tokens: float | None

    @classmethod
    def of(cls, info: llm_models.ProviderInfo | None) -> "ProviderInfo | None":
        if info is None:
            return None
        return cls(
            base_url=info.base_url,
            api_key_env=info.api_key_env,
            input_price_per_million_tokens=info.input_price_per_million_tokens,
            output_price_per_million_tokens=info.output_price_per_million_tokens,
        )


@strawberry.type(description="A model of the instance-wide catalog (Freeplay's custom models).")
class Model:
    id: strawberry.ID
    name: str
    display_name: str | None
    provider_name: str
    model_family: str
    model_version: str
    provider_info: ProviderInfo | None
    supports_tool_use: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, model: llm_models.Model) -> "Model":
        return cls(
            id=strawberry.ID(model.id),
            name=model.name,
            display_name=model.display_name,
            provider_name=model.provider_name,
            model_family=model.model_family,
            model_version=model.model_version,
            provider_info=ProviderInfo.of(model.provider_info),
            supports_tool_use=model.supports_tool_use,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )
