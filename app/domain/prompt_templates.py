"""Prompt templates: a project's named prompts, each a list of immutable versions.

A version holds the template messages (Mustache text and at most one history placeholder),
the model and provider to call and its parameters. Environments (``production``,
``staging``, ...) each point at one version of a template; ``latest`` always means the newest
version and is never stored. Uploading a version identical to one already in a target
environment reuses it instead of making a duplicate, as Freeplay does.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import PromptTemplate as TemplateRow
from app.db.tables import PromptTemplateEnvironment as EnvironmentRow
from app.db.tables import PromptTemplateVersion as VersionRow
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import Principal
from app.domain.llm_models import ProviderInfo, model_named
from app.domain.pagination import Page
from app.domain.projects import visible_project_id
from app.domain.prompt_rendering import (
    ChatMessage,
    HistoryPlaceholder,
    MediaSlot,
    RenderedMessage,
    TemplateContent,
    check_template_text,
    render_messages,
)
from app.domain.text import check_name, check_text

LATEST = "latest"
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ROLES = ("system", "user", "assistant")
MEDIA_TYPES = ("audio", "video", "image", "file")
FORMAT_VERSION = 3
# Freeplay's name for the message format of each provider (its SDK formats by it); any other
# provider is taken to speak OpenAI's chat format, as the servers it is called through do.
FLAVORS = {
    "openai": "openai_chat",
    "azure": "azure_openai_chat",
    "anthropic": "anthropic_chat",
    "vertex": "gemini_chat",
    "gemini": "gemini_api_chat",
    "bedrock": "amazon_bedrock_converse",
}
DEFAULT_FLAVOR = "openai_chat"


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    project_id: str
    name: str
    latest_version_id: str | None
    version_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewTemplateVersion:
    """A version as a client uploads it. ``template_messages``, ``llm_parameters``,
    ``tool_schema`` and ``output_schema`` are JSON values, checked by the domain."""

    template_messages: Sequence[Any]
    model: str
    provider: str
    version_name: str | None = None
    version_description: str | None = None
    llm_parameters: object = None
    tool_schema: object = None
    output_schema: object = None
    environments: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TemplateVersion:
    id: str
    template_id: str
    template_name: str
    project_id: str
    number: int
    version_name: str | None
    version_description: str | None
    messages: tuple[TemplateContent, ...]
    model: str
    provider: str
    llm_parameters: dict[str, Any] | None
    tool_schema: list[Any] | None
    output_schema: dict[str, Any] | None
    # The environments it is deployed to, ``latest`` included when it is the newest.
    environments: tuple[str, ...]
    # The catalog's model of this provider and name, when there is one.
    model_id: str | None
    provider_info: ProviderInfo | None
    created_at: datetime

    @property
    def format_version(self) -> int:
        return FORMAT_VERSION

    @property
    def flavor(self) -> str:
        """Freeplay's name for the provider's message format, e.g. ``openai_chat``."""
        return FLAVORS.get(self.provider, DEFAULT_FLAVOR)

    def render(self, variables: object, history: object = None) -> list[RenderedMessage]:
        """This version's messages rendered (the variables and history a client sent are
        checked); see ``prompt_rendering.render_messages``."""
        return render_messages(self.messages, variables, history)


# ---- checks on what clients send -----------------------------------------------------------


def check_environment(name: Any, loc: tuple[str | int, ...]) -> str:
    if not isinstance(name, str) or not ENVIRONMENT_NAME.fullmatch(name):
        raise InvalidInput.at(
            loc, "an environment name is 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return name


def _check_environments(names: Sequence[Any], field: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(check_environment(n, (field, i)) for i, n in enumerate(names)))


def parse_template_messages(value: Any) -> tuple[TemplateContent, ...]:
    """Template messages as clients send them: ``{role, content, media_slots?}`` or
    ``{kind: "history"}``; InvalidInput naming the first bad one."""
    field = "template_messages"
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput.at((field,), "template_messages must be a non-empty list")
    parsed: list[TemplateContent] = []
    for index, item in enumerate(value):
        loc = (field, index)
        if not isinstance(item, dict):
            raise InvalidInput.at(loc, "a template message must be an object")
        if item.get("kind") == "history" and "role" not in item:
            if any(isinstance(p, HistoryPlaceholder) for p in parsed):
                raise InvalidInput.at(loc, "a template has at most one history placeholder")
            parsed.append(HistoryPlaceholder())
            continue
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise InvalidInput.at(
                (*loc, "role"), f"role must be one of {', '.join(ROLES)} (or kind: history)"
            )
        if not isinstance(content, str):
            raise InvalidInput.at((*loc, "content"), "content must be a string")
        check_text(content, (*loc, "content"))
        check_template_text(content, (*loc, "content"))
        slots = []
        for s_index, slot in enumerate(item.get("media_slots") or ()):
            if (
                not isinstance(slot, dict)
                or slot.get("type") not in MEDIA_TYPES
                or not isinstance(slot.get("placeholder_name"), str)
                or not slot["placeholder_name"]
            ):
                raise InvalidInput.at(
                    (*loc, "media_slots", s_index),
                    f"a media slot is {{type: {'|'.join(MEDIA_TYPES)}, placeholder_name}}",
                )
            slots.append(MediaSlot(slot["type"], slot["placeholder_name"]))
        parsed.append(ChatMessage(role, content, tuple(slots)))
    return tuple(parsed)


def _json_field(value: Any, field: str, kind: type) -> str | None:
    if value is None:
        return None
    if not isinstance(value, kind):
        raise InvalidInput.at(
            (field,), f"{field} must be {'an object' if kind is dict else 'a list'}"
        )
    text = dumps(value)
    if "\\u0000" in text:
        raise InvalidInput.at((field,), f"{field} may not contain the NUL character")
    return text


def _check_tool_schema(tools: Any) -> None:
    for index, tool in enumerate(tools or ()):
        if not (
            isinstance(tool, dict)
            and isinstance(tool.get("name"), str)
            and isinstance(tool.get("description"), str)
            and isinstance(tool.get("parameters"), dict)
        ):
            raise InvalidInput.at(
                ("tool_schema", index), "a tool is {name, description, parameters: object}"
            )


def _messages_json(messages: Sequence[TemplateContent]) -> str:
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, HistoryPlaceholder):
            out.append({"kind": "history"})
        else:
            item: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.media_slots:
                item["media_slots"] = [
                    {"type": s.type, "placeholder_name": s.placeholder_name} for s in m.media_slots
                ]
            out.append(item)
    return dumps(out)


def _messages(text: str) -> tuple[TemplateContent, ...]:
    return tuple(
        HistoryPlaceholder()
        if "kind" in m
        else ChatMessage(
            m["role"],
            m["content"],
            tuple(MediaSlot(s["type"], s["placeholder_name"]) for s in m.get("media_slots", ())),
        )
        for m in loads(text)
    )


def _version_values(new: NewTemplateVersion) -> dict[str, Any]:
    """The stored columns of a new version, every field checked."""
    messages = parse_template_messages(list(new.template_messages))
    check_name(new.model, "model")
    check_name(new.provider, "provider", 100)
    if new.version_name is not None:
        check_name(new.version_name, "version_name")
    if new.version_description is not None:
        check_text(new.version_description, ("version_description",))
    _check_tool_schema(new.tool_schema)
    return {
        "messages": _messages_json(messages),
        "model": new.model,
        "provider": new.provider,
        "version_name": new.version_name,
        "version_description": new.version_description,
        "llm_parameters": _json_field(new.llm_parameters, "llm_parameters", dict),
        "tool_schema": _json_field(new.tool_schema, "tool_schema", list),
        "output_schema": _json_field(new.output_schema, "output_schema", dict),
    }


# ---- reading -------------------------------------------------------------------------------


def _template(row: Row[*tuple[Any, ...]], latest_version_id: str | None) -> PromptTemplate:
    return PromptTemplate(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        latest_version_id=latest_version_id,
        version_count=row.version_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _live_versions() -> Any:
    return VersionRow.deleted_at.is_(None)


async def _latest_version_ids(conn: AsyncConnection, template_ids: list[str]) -> dict[str, str]:
    """The newest live version of each template."""
    if not template_ids:
        return {}
    newest = (
        select(VersionRow.template_id, func.max(VersionRow.number).label("number"))
        .where(VersionRow.template_id.in_(template_ids), _live_versions())
        .group_by(VersionRow.template_id)
        .subquery()
    )
    rows = await conn.execute(
        select(VersionRow.template_id, VersionRow.id).join(
            newest,
            (VersionRow.template_id == newest.c.template_id)
            & (VersionRow.number == newest.c.number),
        )
    )
    return {r.template_id: r.id for r in rows}


async def _template_row(
    conn: AsyncConnection, project_id: str, template_id: str
) -> Row[*tuple[Any, ...]]:
    tid = canonical_id(template_id)
    row = None
    if tid is not None:
        row = (
            await conn.execute(
                select(TemplateRow).where(
                    TemplateRow.id == tid,
                    TemplateRow.project_id == project_id,
                    TemplateRow.deleted_at.is_(None),
                )
            )
        ).first()
    if row is None:
        raise NotFound(f"prompt template {template_id} not found")
    return row


async def _template_row_named(
    conn: AsyncConnection, project_id: str, name: str
) -> Row[*tuple[Any, ...]] | None:
    return (
        await conn.execute(
            select(TemplateRow).where(
                TemplateRow.project_id == project_id,
                TemplateRow.name == name,
                TemplateRow.deleted_at.is_(None),
            )
        )
    ).first()


async def _versions(
    conn: AsyncConnection, rows: Sequence[Row[*tuple[Any, ...]]]
) -> list[TemplateVersion]:
    """Domain versions of version rows (joined with their template's name and project)."""
    if not rows:
        return []
    template_ids = list({r.template_id for r in rows})
    latest = await _latest_version_ids(conn, template_ids)
    envs: dict[str, list[str]] = {}
    for env in await conn.execute(
        select(EnvironmentRow.version_id, EnvironmentRow.environment)
        .where(EnvironmentRow.version_id.in_([r.id for r in rows]))
        .order_by(EnvironmentRow.environment)
    ):
        envs.setdefault(env.version_id, []).append(env.environment)
    catalog: dict[tuple[str, str], Any] = {}
    versions = []
    for r in rows:
        key = (r.provider, r.model)
        if key not in catalog:
            catalog[key] = await model_named(conn, r.provider, r.model)
        model = catalog[key]
        environments = envs.get(r.id, [])
        if latest.get(r.template_id) == r.id:
            environments = sorted([*environments, LATEST])
        versions.append(
            TemplateVersion(
                id=r.id,
                template_id=r.template_id,
                template_name=r.template_name,
                project_id=r.project_id,
                number=r.number,
                version_name=r.version_name,
                version_description=r.version_description,
                messages=_messages(r.messages),
                model=r.model,
                provider=r.provider,
                llm_parameters=loads_or_none(r.llm_parameters),
                tool_schema=loads_or_none(r.tool_schema),
                output_schema=loads_or_none(r.output_schema),
                environments=tuple(environments),
                model_id=None if model is None else model.id,
                provider_info=None if model is None else model.provider_info,
                created_at=r.created_at,
            )
        )
    return versions


def _select_versions(*where: Any) -> Any:
    return (
        select(
            VersionRow,
            TemplateRow.name.label("template_name"),
            TemplateRow.project_id.label("project_id"),
        )
        .join(TemplateRow, TemplateRow.id == VersionRow.template_id)
        .where(*where)
    )


async def _version_in(
    conn: AsyncConnection, project_id: str, version_id: str, template_id: str | None = None
) -> TemplateVersion:
    vid = canonical_id(version_id)
    rows: list[Row[*tuple[Any, ...]]] = []
    if vid is not None:
        where = [
            VersionRow.id == vid,
            TemplateRow.project_id == project_id,
            TemplateRow.deleted_at.is_(None),
            _live_versions(),
        ]
        if template_id is not None:
            where.append(VersionRow.template_id == template_id)
        rows = list(await conn.execute(_select_versions(*where)))
    if not rows:
        raise NotFound(f"prompt template version {version_id} not found")
    return (await _versions(conn, rows))[0]


async def get_template(
    db: Database, principal: Principal, project_id: str, template_id: str
) -> PromptTemplate:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _template_row(conn, pid, template_id)
        return _template(row, (await _latest_version_ids(conn, [row.id])).get(row.id))


async def get_template_named(
    db: Database, principal: Principal, project_id: str, name: str
) -> PromptTemplate:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _template_row_named(conn, pid, name)
        if row is None:
            raise NotFound(f"no prompt template named {name!r}")
        return _template(row, (await _latest_version_ids(conn, [row.id])).get(row.id))


async def list_templates(
    db: Database, principal: Principal, project_id: str, *, offset: int, limit: int
) -> Page[PromptTemplate]:
    """The project's templates by name, ``limit`` of them from ``offset``."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        live = (TemplateRow.project_id == pid, TemplateRow.deleted_at.is_(None))
        total = await conn.scalar(select(func.count()).select_from(TemplateRow).where(*live))
        rows = list(
            await conn.execute(
                select(TemplateRow)
                .where(*live)
                .order_by(TemplateRow.name, TemplateRow.id)
                .offset(offset)
                .limit(limit + 1)
            )
        )
        latest = await _latest_version_ids(conn, [r.id for r in rows[:limit]])
    templates = [_template(r, latest.get(r.id)) for r in rows[:limit]]
    return Page(items=templates, has_next=len(rows) > limit, total=total or 0)


async def get_version(
    db: Database,
    principal: Principal,
    project_id: str,
    version_id: str,
    template_id: str | None = None,
) -> TemplateVersion:
    """A template version of the project (of ``template_id`` when given) with its messages,
    model, provider, parameters, environments and the catalog's provider_info."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        tid = None
        if template_id is not None:
            tid = (await _template_row(conn, pid, template_id)).id
        return await _version_in(conn, pid, version_id, tid)


async def template_version(conn: AsyncConnection, version_id: str) -> TemplateVersion | None:
    """A version by id alone, even of a deleted template or a deleted version (for work a
    test run already holds); None if there is none."""
    vid = canonical_id(version_id)
    if vid is None:
        return None
    rows = list(await conn.execute(_select_versions(VersionRow.id == vid)))
    return (await _versions(conn, rows))[0] if rows else None


async def list_versions(
    db: Database,
    principal: Principal,
    project_id: str,
    template_id: str,
    *,
    offset: int,
    limit: int,
    from_version: str | None = None,
) -> Page[TemplateVersion]:
    """A template's live versions, newest first; from ``from_version`` (a version id or
    number) down when given."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        template = await _template_row(conn, pid, template_id)
        where = [VersionRow.template_id == template.id, _live_versions()]
        if from_version is not None:
            where.append(
                VersionRow.number <= await _version_number(conn, template.id, from_version)
            )
        total = await conn.scalar(select(func.count()).select_from(VersionRow).where(*where))
        rows = list(
            await conn.execute(
                _select_versions(*where)
                .order_by(VersionRow.number.desc())
                .offset(offset)
                .limit(limit + 1)
            )
        )
        versions = await _versions(conn, rows[:limit])
    return Page(items=versions, has_next=len(rows) > limit, total=total or 0)


async def _version_number(conn: AsyncConnection, template_id: str, ref: str) -> int:
    if ref.isdigit():
        return int(ref)
    vid = canonical_id(ref)
    number = None
    if vid is not None:
        number = await conn.scalar(
            select(VersionRow.number).where(
                VersionRow.id == vid, VersionRow.template_id == template_id
            )
        )
    if number is None:
        raise InvalidInput.at(("from_version",), f"no version {ref} of this template")
    return number


async def version_in_environment(
    db: Database, principal: Principal, project_id: str, name: str, environment: str = LATEST
) -> TemplateVersion:
    """The version of the template named ``name`` deployed to ``environment``."""
    check_environment(environment, ("environment",))
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _template_row_named(conn, pid, name)
        if row is None:
            raise NotFound(f"no prompt template named {name!r}")
        version_id = await _deployed_version_id(conn, row.id, environment)
        if version_id is None:
            raise NotFound(f"prompt template {name!r} has no version in {environment!r}")
        return await _version_in(conn, pid, version_id)


async def _deployed_version_id(
    conn: AsyncConnection, template_id: str, environment: str
) -> str | None:
    if environment == LATEST:
        return (await _latest_version_ids(conn, [template_id])).get(template_id)
    return await conn.scalar(
        select(EnvironmentRow.version_id).where(
            EnvironmentRow.template_id == template_id, EnvironmentRow.environment == environment
        )
    )


async def versions_in_environment(
    db: Database, principal: Principal, project_id: str, environment: str
) -> list[TemplateVersion]:
    """Every template's version deployed to ``environment``, by template name."""
    check_environment(environment, ("environment",))
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        templates = list(
            await conn.scalars(
                select(TemplateRow.id).where(
                    TemplateRow.project_id == pid, TemplateRow.deleted_at.is_(None)
                )
            )
        )
        if environment == LATEST:
            ids = list((await _latest_version_ids(conn, templates)).values())
        else:
            ids = list(
                await conn.scalars(
                    select(EnvironmentRow.version_id).where(
                        EnvironmentRow.template_id.in_(templates),
                        EnvironmentRow.environment == environment,
                    )
                )
            )
        rows = list(
            await conn.execute(
                _select_versions(VersionRow.id.in_(ids), _live_versions()).order_by(
                    TemplateRow.name
                )
            )
        )
        return await _versions(conn, rows)


# ---- writing -------------------------------------------------------------------------------


async def create_template(
    db: Database, principal: Principal, project_id: str, name: str, template_id: str | None = None
) -> PromptTemplate:
    """A template without versions; ``template_id`` lets the client choose its id."""
    check_name(name)
    tid = new_id() if template_id is None else canonical_id(template_id)
    if tid is None:
        raise InvalidInput.at(("id",), "id must be a uuid")
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        await _insert_template(conn, pid, tid, name)
        return _template(await _template_row(conn, pid, tid), None)


async def _insert_template(
    conn: AsyncConnection, project_id: str, template_id: str, name: str
) -> None:
    if await conn.scalar(select(TemplateRow.id).where(TemplateRow.id == template_id)):
        raise Conflict(f"a prompt template with id {template_id} already exists")
    now = utcnow()
    try:
        await conn.execute(
            TemplateRow.__table__.insert().values(
                id=template_id,
                project_id=project_id,
                name=name,
                version_count=0,
                created_at=now,
                updated_at=now,
            )
        )
    except IntegrityError as exc:
        raise Conflict(f"a prompt template named {name!r} already exists") from exc


async def rename_template(
    db: Database, principal: Principal, project_id: str, template_id: str, name: str
) -> PromptTemplate:
    check_name(name)
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _template_row(conn, pid, template_id)
        try:
            await conn.execute(
                update(TemplateRow)
                .where(TemplateRow.id == row.id)
                .values(name=name, updated_at=utcnow())
            )
        except IntegrityError as exc:
            raise Conflict(f"a prompt template named {name!r} already exists") from exc
        row = await _template_row(conn, pid, row.id)
        return _template(row, (await _latest_version_ids(conn, [row.id])).get(row.id))


async def delete_template(
    db: Database, principal: Principal, project_id: str, template_id: str
) -> None:
    """Archive a template and its versions (a soft delete: runs that used them keep them)."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _template_row(conn, pid, template_id)
        now = utcnow()
        await conn.execute(
            update(TemplateRow)
            .where(TemplateRow.id == row.id)
            .values(deleted_at=now, updated_at=now)
        )
        await conn.execute(delete(EnvironmentRow).where(EnvironmentRow.template_id == row.id))


async def create_version(
    db: Database,
    principal: Principal,
    project_id: str,
    new: NewTemplateVersion,
    *,
    template_id: str | None = None,
    template_name: str | None = None,
    create_template: bool = False,
) -> tuple[TemplateVersion, bool]:
    """Add a version to the template with this id or name (made first, for a name, with
    ``create_template``) and deploy it to ``new.environments`` (default: only ``latest``).

    A version identical in content, model, provider, parameters, name, description and
    schemas to one deployed in a target environment is reused instead: the targets are
    pointed at it. Returns the version and whether it was made.
    """
    values = _version_values(new)
    targets = _check_environments(
        new.environments if new.environments else (LATEST,), "environments"
    )
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        template: Row[*tuple[Any, ...]] | None
        if template_id is not None:
            template = await _template_row(conn, pid, template_id)
        else:
            assert template_name is not None
            check_name(template_name, "template_name")
            template = await _template_row_named(conn, pid, template_name)
            if template is None:
                if not create_template:
                    raise NotFound(
                        f"no prompt template named {template_name!r}; pass "
                        "create_template_if_not_exists=true to make it"
                    )
                await _insert_template(conn, pid, new_id(), template_name)
                template = await _template_row_named(conn, pid, template_name)
                assert template is not None
        # Hold the template's row first, so concurrent uploads see each other's versions.
        await conn.execute(
            update(TemplateRow).where(TemplateRow.id == template.id).values(updated_at=utcnow())
        )
        reused = await _identical_version(conn, template.id, values, targets)
        if reused is not None:
            version_id, made = reused, False
        else:
            number = (
                await conn.execute(
                    update(TemplateRow)
                    .where(TemplateRow.id == template.id)
                    .values(version_count=TemplateRow.version_count + 1, updated_at=utcnow())
                    .returning(TemplateRow.version_count)
                )
            ).scalar_one()
            version_id, made = new_id(), True
            await conn.execute(
                VersionRow.__table__.insert().values(
                    id=version_id,
                    template_id=template.id,
                    number=number,
                    created_at=utcnow(),
                    **values,
                )
            )
        await _deploy(conn, template.id, version_id, [t for t in targets if t != LATEST])
        return await _version_in(conn, pid, version_id), made


async def _identical_version(
    conn: AsyncConnection, template_id: str, values: dict[str, Any], targets: Sequence[str]
) -> str | None:
    candidates = {await _deployed_version_id(conn, template_id, t) for t in targets} - {None}
    if not candidates:
        return None
    rows = await conn.execute(
        select(VersionRow).where(VersionRow.id.in_(candidates), _live_versions())
    )
    for row in rows:
        same = all(
            _same(getattr(row, key), value)
            for key, value in values.items()
            if not (key == "version_name" and value is None)
        )
        if same:
            version_id: str = row.id
            return version_id
    return None


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, str) and isinstance(given, str) and stored[:1] in "[{":
        try:
            return bool(loads(stored) == loads(given))
        except ValueError:
            return stored == given
    return bool(stored == given)


async def _deploy(
    conn: AsyncConnection, template_id: str, version_id: str, environments: Sequence[str]
) -> None:
    now = utcnow()
    for environment in environments:
        await conn.execute(
            delete(EnvironmentRow).where(
                EnvironmentRow.template_id == template_id,
                EnvironmentRow.environment == environment,
            )
        )
        await conn.execute(
            EnvironmentRow.__table__.insert().values(
                template_id=template_id,
                environment=environment,
                version_id=version_id,
                updated_at=now,
            )
        )


async def set_version_environments(
    db: Database,
    principal: Principal,
    project_id: str,
    template_id: str,
    version_id: str,
    environments: Sequence[str],
) -> TemplateVersion:
    """Deploy the version to exactly these environments: each named one now points at it,
    and any other that pointed at it no longer does. ``latest`` may be named only for the
    newest version (it always means the newest)."""
    names = _check_environments(environments, "environments")
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        template = await _template_row(conn, pid, template_id)
        version = await _version_in(conn, pid, version_id, template.id)
        if LATEST in names and LATEST not in version.environments:
            raise InvalidInput.at(
                ("environments",), "latest always means the newest version; it cannot be moved"
            )
        stored = [n for n in names if n != LATEST]
        await conn.execute(
            delete(EnvironmentRow).where(
                EnvironmentRow.version_id == version.id, EnvironmentRow.environment.not_in(stored)
            )
        )
        await _deploy(conn, template.id, version.id, stored)
        return await _version_in(conn, pid, version.id)


async def delete_version(
    db: Database, principal: Principal, project_id: str, template_id: str, version_id: str
) -> None:
    """Delete a version no named environment uses (runs that used it keep it)."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        template = await _template_row(conn, pid, template_id)
        version = await _version_in(conn, pid, version_id, template.id)
        named = [e for e in version.environments if e != LATEST]
        if named:
            raise Conflict(
                f"version {version.number} is deployed to {', '.join(named)}; deploy another "
                "version there first"
            )
        await conn.execute(
            update(VersionRow).where(VersionRow.id == version.id).values(deleted_at=utcnow())
        )
