"""Models the server may call, instance-wide as Freeplay's custom models are per account.

``provider_info`` says how to reach a model's provider: an OpenAI-compatible ``base_url``, the
*name* of the environment variable that holds the key (``api_key_env``), and optional prices
per million input and output tokens. Key values are never accepted, stored or shown: a body
that carries anything else in ``provider_info`` is refused. Any key reads the catalog; only an
admin key changes it, since a model says which server environment variable is sent where.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import EvaluationCriterionVersion as CriterionVersionRow
from app.db.tables import Model as ModelRow
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.domain.ids import canonical_id, utcnow
from app.domain.jsontext import dumps, loads_or_none
from app.domain.keys import Principal
from app.domain.pagination import Page
from app.domain.text import check_name

# Environment variable names as POSIX shells write them. A key value (``sk-...``) never fits.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
# The server's own settings (database URL with its password, ...) are never sent anywhere.
RESERVED_ENV_PREFIX = "TESTRUNS_"
PROVIDER_INFO_KEYS = (
    "base_url",
    "api_key_env",
    "input_price_per_million_tokens",
    "output_price_per_million_tokens",
)


@dataclass(frozen=True)
class ProviderInfo:
    """How to reach a model's provider. ``api_key_env`` names the variable; it is read from
    the server's environment only when the model is called."""

    base_url: str | None = None
    api_key_env: str | None = None
    input_price_per_million_tokens: float | None = None
    output_price_per_million_tokens: float | None = None

    def as_dict(self) -> dict[str, str]:
        """As Freeplay's API shows provider_info: string values, unset keys left out."""
        shown: dict[str, str] = {}
        for key in PROVIDER_INFO_KEYS:
            value = getattr(self, key)
            if value is not None:
                shown[key] = value if isinstance(value, str) else format(value, "g")
        return shown


@dataclass(frozen=True)
class NewModel:
    name: str
    provider_name: str
    model_family: str
    model_version: str
    display_name: str | None = None
    provider_info: ProviderInfo | None = None
    supports_tool_use: bool = True


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    display_name: str | None
    provider_name: str
    model_family: str
    model_version: str
    provider_info: ProviderInfo | None
    supports_tool_use: bool
    created_at: datetime
    updated_at: datetime


def parse_provider_info(
    value: Any, loc: tuple[str | int, ...] = ("provider_info",)
) -> ProviderInfo:
    """A provider_info object as clients send it; InvalidInput (never echoing a value) unless
    it holds only the known keys with well-formed values."""
    if not isinstance(value, dict):
        raise InvalidInput.at(loc, "provider_info must be an object")
    if set(value) - set(PROVIDER_INFO_KEYS):
        # The unknown keys are not named: a client may have put a secret there.
        raise InvalidInput.at(
            loc,
            f"provider_info takes only {', '.join(PROVIDER_INFO_KEYS)}; keys are never stored:"
            " name the environment variable that holds one in api_key_env",
        )
    base_url = value.get("base_url")
    if base_url is not None:
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput.at((*loc, "base_url"), "base_url must be an http(s) URL")
        if parts.username or parts.password:
            raise InvalidInput.at(
                (*loc, "base_url"), "base_url may not carry credentials; use api_key_env"
            )
        if len(base_url) > 2000:
            raise InvalidInput.at((*loc, "base_url"), "base_url is at most 2000 characters")
    env = value.get("api_key_env")
    if env is not None:
        if not isinstance(env, str) or not ENV_NAME.fullmatch(env):
            raise InvalidInput.at(
                (*loc, "api_key_env"),
                "api_key_env must be the name of an environment variable (A-Z, 0-9, _), not a key",
            )
        if env.startswith(RESERVED_ENV_PREFIX):
            raise InvalidInput.at(
                (*loc, "api_key_env"),
                f"api_key_env may not name the server's own {RESERVED_ENV_PREFIX}* settings",
            )
    prices = {key: _price(value.get(key), (*loc, key)) for key in PROVIDER_INFO_KEYS[2:]}
    return ProviderInfo(base_url=base_url, api_key_env=env, **prices)


def _price(value: Any, loc: tuple[str | int, ...]) -> float | None:
    """A price as a number or a decimal string (Freeplay's provider_info holds strings)."""
    if value is None:
        return None
    price = None
    if isinstance(value, str):
        try:
            price = float(value)
        except ValueError:
            price = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        price = float(value)
    if price is None or not math.isfinite(price) or price < 0:
        raise InvalidInput.at(loc, f"{loc[-1]} must be a number, 0 or more")
    return price


def _model(row: Row[*tuple[Any, ...]]) -> Model:
    info = loads_or_none(row.provider_info)
    return Model(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        provider_name=row.provider_name,
        model_family=row.model_family,
        model_version=row.model_version,
        provider_info=None if info is None else parse_provider_info(info),
        supports_tool_use=row.supports_tool_use,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check(new: NewModel) -> dict[str, Any]:
    check_name(new.name)
    check_name(new.provider_name, "provider_name", 100)
    check_name(new.model_family, "model_family")
    check_name(new.model_version, "model_version")
    if new.display_name is not None:
        check_name(new.display_name, "display_name")
    return {
        "name": new.name,
        "display_name": new.display_name,
        "provider_name": new.provider_name,
        "model_family": new.model_family,
        "model_version": new.model_version,
        "provider_info": None if new.provider_info is None else dumps(new.provider_info.as_dict()),
        "supports_tool_use": new.supports_tool_use,
    }


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an admin key may change the model catalog")


def _model_id(model_id: str) -> str:
    mid = canonical_id(model_id)
    if mid is None:
        raise NotFound(f"model {model_id} not found")
    return mid


async def _model_in(conn: AsyncConnection, model_id: str) -> Model:
    row = (await conn.execute(select(ModelRow).where(ModelRow.id == _model_id(model_id)))).first()
    if row is None:
        raise NotFound(f"model {model_id} not found")
    return _model(row)


def _taken(new: NewModel, exc: IntegrityError) -> Conflict:
    message = f"a model named {new.name!r} of provider {new.provider_name!r} already exists"
    return Conflict(message)


async def upsert_model(db: Database, principal: Principal, model_id: str, new: NewModel) -> Model:
    """Create the model with this (client-chosen) id, or replace it if it exists."""
    _require_admin(principal)
    mid = canonical_id(model_id)
    if mid is None:
        raise InvalidInput.at(("id",), "id must be a uuid")
    values = _check(new)
    now = utcnow()
    async with db.write() as conn:
        exists_ = await conn.scalar(select(ModelRow.id).where(ModelRow.id == mid))
        try:
            if exists_ is None:
                await conn.execute(
                    ModelRow.__table__.insert().values(
                        id=mid, created_at=now, updated_at=now, **values
                    )
                )
            else:
                await conn.execute(
                    update(ModelRow).where(ModelRow.id == mid).values(updated_at=now, **values)
                )
        except IntegrityError as exc:
            raise _taken(new, exc) from exc
        return await _model_in(conn, mid)


async def update_model(db: Database, principal: Principal, model_id: str, new: NewModel) -> Model:
    """Replace an existing model's fields; NotFound if there is none with this id."""
    _require_admin(principal)
    values = _check(new)
    async with db.write() as conn:
        model = await _model_in(conn, model_id)
        try:
            await conn.execute(
                update(ModelRow)
                .where(ModelRow.id == model.id)
                .values(updated_at=utcnow(), **values)
            )
        except IntegrityError as exc:
            raise _taken(new, exc) from exc
        return await _model_in(conn, model.id)


async def delete_model(db: Database, principal: Principal, model_id: str) -> None:
    """Delete a model no evaluation criterion version judges with."""
    _require_admin(principal)
    async with db.write() as conn:
        model = await _model_in(conn, model_id)
        if await conn.scalar(select(exists().where(CriterionVersionRow.model_id == model.id))):
            raise Conflict(f"model {model.name!r} judges evaluation criteria; keep it")
        await conn.execute(delete(ModelRow).where(ModelRow.id == model.id))


async def get_model(db: Database, principal: Principal, model_id: str) -> Model:
    """A model by id (any key may read the catalog)."""
    async with db.read() as conn:
        return await _model_in(conn, model_id)


async def list_models(
    db: Database, principal: Principal, *, offset: int, limit: int
) -> Page[Model]:
    """The catalog ordered by provider and name, ``limit`` models from ``offset``."""
    async with db.read() as conn:
        total = await conn.scalar(select(func.count()).select_from(ModelRow)) or 0
        rows = await conn.execute(
            select(ModelRow)
            .order_by(ModelRow.provider_name, ModelRow.name, ModelRow.id)
            .offset(offset)
            .limit(limit + 1)
        )
        models = [_model(r) for r in rows]
    return Page(items=models[:limit], has_next=len(models) > limit, total=total)


async def model_named(conn: AsyncConnection, provider: str, name: str) -> Model | None:
    """The catalog's model of this provider with this name, if any."""
    row = (
        await conn.execute(
            select(ModelRow).where(ModelRow.provider_name == provider, ModelRow.name == name)
        )
    ).first()
    return None if row is None else _model(row)


async def models_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Model]:
    rows = await conn.execute(select(ModelRow).where(ModelRow.id.in_(ids)))
    return {r.id: _model(r) for r in rows}


async def find_model(db: Database, provider: str, name: str) -> Model | None:
    """The catalog's model of this provider with this name, if any (for callers of models)."""
    async with db.read() as conn:
        return await model_named(conn, provider, name)
