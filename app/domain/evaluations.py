"""Evaluations (what a run is scored on) and flavors (named model/provider settings)."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Evaluation as EvaluationRow
from app.db.tables import Flavor as FlavorRow
from app.domain.errors import Conflict, InvalidInput
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import Principal
from app.domain.projects import visible_project_id


class EvaluationKind(StrEnum):
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    CATEGORY = "category"


class EvaluationSource(StrEnum):
    AUTO = "auto"
    HUMAN = "human"


@dataclass(frozen=True)
class NewEvaluation:
    name: str
    kind: EvaluationKind
    source: EvaluationSource = EvaluationSource.AUTO
    description: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    id: str
    project_id: str
    name: str
    description: str
    kind: EvaluationKind
    source: EvaluationSource
    categories: list[str]
    created_at: datetime


@dataclass(frozen=True)
class Flavor:
    id: str
    project_id: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


def _evaluation(row: Row[Any]) -> Evaluation:
    return Evaluation(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        kind=EvaluationKind(row.kind),
        source=EvaluationSource(row.source),
        categories=loads_or_none(row.categories) or [],
        created_at=row.created_at,
    )


def _flavor(row: Row[Any]) -> Flavor:
    return Flavor(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        settings=loads(row.settings),
        created_at=row.created_at,
    )


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 200:
        raise InvalidInput.at(("name",), "name must be 1 to 200 characters, not all blank")


async def create_evaluation(
    db: Database, principal: Principal, project_id: str, new: NewEvaluation
) -> Evaluation:
    _check_name(new.name)
    categories = list(dict.fromkeys(new.categories))
    if new.kind is EvaluationKind.CATEGORY and not categories:
        raise InvalidInput.at(("categories",), "a category evaluation needs its categories")
    if new.kind is not EvaluationKind.CATEGORY and categories:
        raise InvalidInput.at(("categories",), "only a category evaluation has categories")
    values = {
        "id": new_id(),
        "name": new.name,
        "description": new.description,
        "kind": new.kind.value,
        "source": new.source.value,
        "categories": dumps(categories) if categories else None,
        "created_at": utcnow(),
    }
    async with db.write() as conn:
        values["project_id"] = await visible_project_id(conn, principal, project_id)
        try:
            await conn.execute(EvaluationRow.__table__.insert().values(**values))
        except IntegrityError as exc:
            raise Conflict(f"an evaluation named {new.name!r} already exists") from exc
        row = await conn.execute(select(EvaluationRow).where(EvaluationRow.id == values["id"]))
        return _evaluation(row.one())


async def list_evaluations(db: Database, principal: Principal, project_id: str) -> list[Evaluation]:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        rows = await conn.execute(
            select(EvaluationRow)
            .where(EvaluationRow.project_id == pid)
            .order_by(EvaluationRow.created_at, EvaluationRow.id)
        )
        return [_evaluation(r) for r in rows]


async def evaluations_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Evaluation]:
    rows = await conn.execute(select(EvaluationRow).where(EvaluationRow.id.in_(ids)))
    return {r.id: _evaluation(r) for r in rows}


async def resolve_evaluation_ids(
    conn: AsyncConnection, project_id: str, ids: list[str], field_name: str
) -> list[str]:
    """Canonical ids of the project's evaluations named by ``ids``; InvalidInput otherwise."""
    canonical = []
    for index, value in enumerate(ids):
        cid = canonical_id(value)
        if cid is None:
            raise InvalidInput.at((field_name, index), f"{value!r} is not a valid uuid")
        canonical.append(cid)
    canonical = list(dict.fromkeys(canonical))
    known = set(
        (
            await conn.scalars(
                select(EvaluationRow.id).where(
                    EvaluationRow.project_id == project_id, EvaluationRow.id.in_(canonical)
                )
            )
        ).all()
    )
    unknown = [c for c in canonical if c not in known]
    if unknown:
        raise InvalidInput.at(
            (field_name,), f"not evaluations of this project: {', '.join(unknown)}"
        )
    return canonical


async def create_flavor(
    db: Database, principal: Principal, project_id: str, name: str, settings: dict[str, Any]
) -> Flavor:
    _check_name(name)
    if not isinstance(settings, dict):
        raise InvalidInput.at(("settings",), "settings must be a JSON object")
    values = {
        "id": new_id(),
        "name": name,
        "settings": dumps(settings),
        "created_at": utcnow(),
    }
    async with db.write() as conn:
        values["project_id"] = await visible_project_id(conn, principal, project_id)
        try:
            await conn.execute(FlavorRow.__table__.insert().values(**values))
        except IntegrityError as exc:
            raise Conflict(f"a flavor named {name!r} already exists") from exc
        row = await conn.execute(select(FlavorRow).where(FlavorRow.id == values["id"]))
        return _flavor(row.one())


async def list_flavors(db: Database, principal: Principal, project_id: str) -> list[Flavor]:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        rows = await conn.execute(
            select(FlavorRow)
            .where(FlavorRow.project_id == pid)
            .order_by(FlavorRow.created_at, FlavorRow.id)
        )
        return [_flavor(r) for r in rows]


async def flavor_id_named(conn: AsyncConnection, project_id: str, name: str) -> str:
    flavor_id = await conn.scalar(
        select(FlavorRow.id).where(FlavorRow.project_id == project_id, FlavorRow.name == name)
    )
    if flavor_id is None:
        raise InvalidInput.at(("flavor_name",), f"no flavor named {name!r} in this project")
    return flavor_id


async def get_evaluations(db: Database, principal: Principal, ids: list[str]) -> list[Evaluation]:
    """The evaluations with these ids that the principal may see, in the order asked."""
    async with db.read() as conn:
        found = await evaluations_by_id(conn, ids)
    return [found[i] for i in ids if i in found and principal.can_see(found[i].project_id)]
