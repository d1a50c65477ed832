"""Evaluations (what a run is scored on) and flavors (named model/provider settings)."""

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeGuard

from sqlalchemy import Row, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Evaluation as EvaluationRow
from app.db.tables import Flavor as FlavorRow
from app.db.tables import ResultScore, TestRun, TestRunEvaluation
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import Principal
from app.domain.projects import visible_project_id
from app.domain.text import check_name, check_text


class EvaluationKind(StrEnum):
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    CATEGORY = "category"


class EvaluationSource(StrEnum):
    AUTO = "auto"
    HUMAN = "human"


class Direction(StrEnum):
    """Which way a score is better: higher (the default; for a boolean, true) or lower."""

    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class NewEvaluation:
    name: str
    kind: EvaluationKind
    source: EvaluationSource = EvaluationSource.AUTO
    description: str = ""
    categories: tuple[str, ...] = ()
    direction: Direction = Direction.HIGHER


@dataclass(frozen=True)
class EvaluationChanges:
    """None leaves a field as it is. The kind and source of an evaluation never change."""

    name: str | None = None
    description: str | None = None
    categories: tuple[str, ...] | None = None
    direction: Direction | None = None


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
    direction: Direction = Direction.HIGHER


@dataclass(frozen=True)
class Flavor:
    id: str
    project_id: str
    name: str
    settings: dict[str, Any]
    created_at: datetime


def _evaluation(row: Row[*tuple[Any, ...]]) -> Evaluation:
    return Evaluation(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        kind=EvaluationKind(row.kind),
        source=EvaluationSource(row.source),
        categories=loads_or_none(row.categories) or [],
        created_at=row.created_at,
        direction=Direction(row.direction),
    )


def _flavor(row: Row[*tuple[Any, ...]]) -> Flavor:
    return Flavor(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        settings=loads(row.settings),
        created_at=row.created_at,
    )


def check_score(evaluation: Evaluation, value: Any, loc: tuple[str | int, ...]) -> str:
    """A score for ``evaluation`` as stored JSON; InvalidInput unless it fits the kind."""
    kind = evaluation.kind
    if kind is EvaluationKind.BOOLEAN and isinstance(value, bool):
        return dumps(value)
    if kind is EvaluationKind.NUMERIC and is_number(value):
        return dumps(value)
    if kind is EvaluationKind.CATEGORY and value in evaluation.categories:
        return dumps(value)
    expected = {
        EvaluationKind.BOOLEAN: "true or false",
        EvaluationKind.NUMERIC: "a finite number",
        EvaluationKind.CATEGORY: f"one of {', '.join(evaluation.categories)}",
    }[kind]
    raise InvalidInput.at(loc, f"a score of {evaluation.name!r} must be {expected}; got {value!r}")


def is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_categories(kind: EvaluationKind, categories: list[str]) -> None:
    for index, category in enumerate(categories):
        check_text(category, ("categories", index))
    if kind is EvaluationKind.CATEGORY and not categories:
        raise InvalidInput.at(("categories",), "a category evaluation needs its categories")
    if kind is not EvaluationKind.CATEGORY and categories:
        raise InvalidInput.at(("categories",), "only a category evaluation has categories")


async def create_evaluation(
    db: Database, principal: Principal, project_id: str, new: NewEvaluation
) -> Evaluation:
    check_name(new.name)
    check_text(new.description, ("description",))
    categories = list(dict.fromkeys(new.categories))
    _check_categories(new.kind, categories)
    evaluation_id = new_id()
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        try:
            await conn.execute(
                EvaluationRow.__table__.insert().values(
                    id=evaluation_id,
                    project_id=pid,
                    name=new.name,
                    description=new.description,
                    kind=new.kind.value,
                    source=new.source.value,
                    categories=dumps(categories) if categories else None,
                    direction=new.direction.value,
                    created_at=utcnow(),
                )
            )
        except IntegrityError as exc:
            raise Conflict(f"an evaluation named {new.name!r} already exists") from exc
        return await _evaluation_in(conn, pid, evaluation_id)


async def _evaluation_in(conn: AsyncConnection, project_id: str, evaluation_id: str) -> Evaluation:
    eid = canonical_id(evaluation_id)
    row = None
    if eid is not None:
        query = select(EvaluationRow).where(
            EvaluationRow.id == eid, EvaluationRow.project_id == project_id
        )
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    return _evaluation(row)


async def get_evaluation(
    db: Database, principal: Principal, project_id: str, evaluation_id: str
) -> Evaluation:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        return await _evaluation_in(conn, pid, evaluation_id)


async def find_evaluation(db: Database, principal: Principal, evaluation_id: str) -> Evaluation:
    """An evaluation by id alone, in whichever project the principal may see it."""
    eid = canonical_id(evaluation_id)
    async with db.read() as conn:
        found = await evaluations_by_id(conn, [eid] if eid else [])
    evaluation = found.get(eid or "")
    if evaluation is None or not principal.can_see(evaluation.project_id):
        raise NotFound(f"evaluation {evaluation_id} not found")
    return evaluation


async def update_evaluation(
    db: Database,
    principal: Principal,
    project_id: str,
    evaluation_id: str,
    changes: EvaluationChanges,
) -> Evaluation:
    if changes.name is not None:
        check_name(changes.name)
    if changes.description is not None:
        check_text(changes.description, ("description",))
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        evaluation = await _evaluation_in(conn, pid, evaluation_id)
        values: dict[str, Any] = {}
        if changes.name is not None:
            values["name"] = changes.name
        if changes.description is not None:
            values["description"] = changes.description
        if changes.direction is not None:
            values["direction"] = changes.direction.value
        if changes.categories is not None:
            categories = list(dict.fromkeys(changes.categories))
            _check_categories(evaluation.kind, categories)
            values["categories"] = dumps(categories) if categories else None
        if values:
            try:
                await conn.execute(
                    update(EvaluationRow).where(EvaluationRow.id == evaluation.id).values(values)
                )
            except IntegrityError as exc:
                raise Conflict(f"an evaluation named {changes.name!r} already exists") from exc
        return await _evaluation_in(conn, pid, evaluation.id)


async def delete_evaluation(
    db: Database, principal: Principal, project_id: str, evaluation_id: str
) -> None:
    """Delete an evaluation no test run targets and no result was scored on."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        evaluation = await _evaluation_in(conn, pid, evaluation_id)
        used = await conn.scalar(
            select(
                exists().where(TestRunEvaluation.evaluation_id == evaluation.id)
                | exists().where(ResultScore.evaluation_id == evaluation.id)
            )
        )
        if used:
            raise Conflict(f"evaluation {evaluation.name!r} is used by test runs; keep it")
        await conn.execute(delete(EvaluationRow).where(EvaluationRow.id == evaluation.id))


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


async def flavors_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Flavor]:
    rows = await conn.execute(select(FlavorRow).where(FlavorRow.id.in_(ids)))
    return {r.id: _flavor(r) for r in rows}


async def project_evaluations(conn: AsyncConnection, project_id: str) -> dict[str, Evaluation]:
    rows = await conn.execute(select(EvaluationRow).where(EvaluationRow.project_id == project_id))
    return {r.id: _evaluation(r) for r in rows}


async def projects_evaluations(
    conn: AsyncConnection, project_ids: list[str]
) -> dict[str, Evaluation]:
    """The evaluations of all these projects, by id."""
    rows = await conn.execute(
        select(EvaluationRow).where(EvaluationRow.project_id.in_(project_ids))
    )
    return {r.id: _evaluation(r) for r in rows}


async def get_evaluations(db: Database, principal: Principal, ids: list[str]) -> list[Evaluation]:
    """The evaluations with these ids that the principal may see, in the order asked."""
    async with db.read() as conn:
        found = await evaluations_by_id(conn, ids)
    return [found[i] for i in ids if i in found and principal.can_see(found[i].project_id)]


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
    if not canonical:
        return []
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
            (field_name,),
            f"not evaluations or evaluation criteria of this project: {', '.join(unknown)}",
        )
    return canonical


# ---- flavors -----------------------------------------------------------------------------


def _check_settings(settings: Any) -> str:
    if not isinstance(settings, dict):
        raise InvalidInput.at(("settings",), "settings must be a JSON object")
    text = dumps(settings)
    if "\\u0000" in text:
        raise InvalidInput.at(("settings",), "settings may not contain the NUL character")
    return text


async def create_flavor(
    db: Database, principal: Principal, project_id: str, name: str, settings: Any
) -> Flavor:
    check_name(name)
    flavor_id = new_id()
    values = {"id": flavor_id, "name": name, "settings": _check_settings(settings)}
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        try:
            await conn.execute(
                FlavorRow.__table__.insert().values(**values, project_id=pid, created_at=utcnow())
            )
        except IntegrityError as exc:
            raise Conflict(f"a flavor named {name!r} already exists") from exc
        return await _flavor_in(conn, pid, flavor_id)


async def _flavor_in(conn: AsyncConnection, project_id: str, flavor_id: str) -> Flavor:
    fid = canonical_id(flavor_id)
    row = None
    if fid is not None:
        query = select(FlavorRow).where(FlavorRow.id == fid, FlavorRow.project_id == project_id)
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"flavor {flavor_id} not found")
    return _flavor(row)


async def get_flavor(db: Database, principal: Principal, project_id: str, flavor_id: str) -> Flavor:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        return await _flavor_in(conn, pid, flavor_id)


async def update_flavor(
    db: Database,
    principal: Principal,
    project_id: str,
    flavor_id: str,
    *,
    name: str | None = None,
    settings: Any = None,
) -> Flavor:
    values: dict[str, Any] = {}
    if name is not None:
        check_name(name)
        values["name"] = name
    if settings is not None:
        values["settings"] = _check_settings(settings)
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        flavor = await _flavor_in(conn, pid, flavor_id)
        if values:
            try:
                await conn.execute(
                    update(FlavorRow).where(FlavorRow.id == flavor.id).values(values)
                )
            except IntegrityError as exc:
                raise Conflict(f"a flavor named {name!r} already exists") from exc
        return await _flavor_in(conn, pid, flavor.id)


async def delete_flavor(
    db: Database, principal: Principal, project_id: str, flavor_id: str
) -> None:
    """Delete a flavor no test run was made with."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        flavor = await _flavor_in(conn, pid, flavor_id)
        if await conn.scalar(select(exists().where(TestRun.flavor_id == flavor.id))):
            raise Conflict(f"flavor {flavor.name!r} is used by test runs; keep it")
        await conn.execute(delete(FlavorRow).where(FlavorRow.id == flavor.id))


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
