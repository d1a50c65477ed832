"""Evaluation criteria: what a prompt template's outputs are judged on, as Freeplay has them.

A criterion targets a prompt template of its project and says whether a higher or a lower
score is better. Its content (question, the question put to a judging model, rubric, type,
judging model) is versioned; one version is deployed, and that one is used. Criteria can be
disabled without being deleted, and are shown in an order of the project's choosing.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Evaluation as EvaluationRow
from app.db.tables import EvaluationCriterion as CriterionRow
from app.db.tables import EvaluationCriterionVersion as VersionRow
from app.db.tables import PromptTemplate as TemplateRow
from app.db.tables import TestRunCriterion
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.evaluations import Direction, resolve_evaluation_ids
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import Principal
from app.domain.llm_models import Model, models_by_id
from app.domain.pagination import Page
from app.domain.projects import visible_project_id
from app.domain.text import check_name, check_text


class CriterionType(StrEnum):
    ONE_TO_FIVE = "1-5"
    ONE_TO_THREE = "1-3"
    ONE_TO_HUNDRED = "1-100"
    YES_NO = "yes-no"
    MULTI_SELECT = "multi-select"
    AUTO_CATEGORIZATION = "auto-categorization"
    TEXT = "text"

    @property
    def scale(self) -> tuple[int, int] | None:
        """The lowest and highest score of a numeric scale."""
        return {"1-5": (1, 5), "1-3": (1, 3), "1-100": (1, 100)}.get(self.value)


class TargetType(StrEnum):
    PROMPT = "prompt"


@dataclass(frozen=True)
class NewCriterionVersion:
    question: str
    type: CriterionType
    # Any JSON value a client sent: checked (an object of score: meaning) when saved.
    rubric: object = None
    llm_question: str | None = None
    llm_eval_enabled: bool = False
    # A catalog model that judges when llm_eval_enabled.
    model_id: str | None = None
    # The labels of a multi-select or auto-categorization criterion.
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCriterion:
    name: str
    target_id: str  # a prompt template of the project
    version: NewCriterionVersion
    direction: Direction = Direction.HIGHER
    is_enabled: bool = True


@dataclass(frozen=True)
class CriterionVersion:
    id: str
    criterion_id: str
    number: int
    type: CriterionType
    question: str
    llm_question: str | None
    rubric: dict[str, str]
    options: tuple[str, ...]
    model_id: str | None
    llm_eval_enabled: bool
    is_deployed: bool
    created_at: datetime


@dataclass(frozen=True)
class Criterion:
    id: str
    project_id: str
    name: str
    target_type: TargetType
    target_id: str
    target_name: str
    direction: Direction
    is_enabled: bool
    position: int
    latest_version_id: str | None
    deployed: CriterionVersion | None
    created_at: datetime
    updated_at: datetime

    @property
    def type(self) -> CriterionType | None:
        return None if self.deployed is None else self.deployed.type

    @property
    def llm_eval_enabled(self) -> bool:
        return self.deployed is not None and self.deployed.llm_eval_enabled


@dataclass(frozen=True)
class JudgeCriterion:
    """An enabled criterion whose deployed version a model judges, with that model."""

    criterion: Criterion
    version: CriterionVersion
    model: Model


# ---- checks --------------------------------------------------------------------------------


def _rubric_keys(kind: CriterionType, options: list[str]) -> set[str] | None:
    scale = kind.scale
    if scale is not None:
        return {str(n) for n in range(scale[0], scale[1] + 1)}
    if kind is CriterionType.YES_NO:
        return {"yes", "no"}
    if kind in (CriterionType.MULTI_SELECT, CriterionType.AUTO_CATEGORIZATION):
        return set(options)
    return None


async def _version_values(conn: AsyncConnection, new: NewCriterionVersion) -> dict[str, Any]:
    check_text(new.question, ("question",))
    if not new.question.strip():
        raise InvalidInput.at(("question",), "question may not be blank")
    if new.llm_question is not None:
        check_text(new.llm_question, ("llm_question",))
    kind = new.type
    options = list(dict.fromkeys(new.options))
    for index, option in enumerate(options):
        check_text(option, ("options", index))
        if not option.strip() or len(option) > 200:
            raise InvalidInput.at(("options", index), "an option is 1 to 200 characters")
    labelled = kind in (CriterionType.MULTI_SELECT, CriterionType.AUTO_CATEGORIZATION)
    if labelled and not options:
        raise InvalidInput.at(("options",), f"a {kind.value} criterion needs its options")
    if not labelled and options:
        raise InvalidInput.at(("options",), f"a {kind.value} criterion has no options")
    if new.rubric is not None and not isinstance(new.rubric, dict):
        raise InvalidInput.at(("rubric",), "rubric must be an object")
    rubric = dict(new.rubric or {})
    allowed = _rubric_keys(kind, options)
    for key, meaning in rubric.items():
        if not isinstance(meaning, str):
            raise InvalidInput.at(("rubric", key), "a rubric maps each score to its meaning")
        check_text(meaning, ("rubric", key))
        if allowed is not None and key not in allowed:
            raise InvalidInput.at(
                ("rubric", key),
                f"a {kind.value} rubric's keys are {', '.join(sorted(allowed))}; not {key!r}",
            )
    model_id = None
    if new.model_id is not None:
        model_id = canonical_id(new.model_id)
        if model_id is None or not await models_by_id(conn, [model_id]):
            raise InvalidInput.at(("model_id",), f"no model {new.model_id} in the catalog")
    if new.llm_eval_enabled:
        if model_id is None:
            raise InvalidInput.at(("model_id",), "a criterion a model judges needs model_id")
        if not (new.llm_question or new.question).strip():
            raise InvalidInput.at(("llm_question",), "llm_question may not be blank")
    return {
        "type": kind.value,
        "question": new.question,
        "llm_question": new.llm_question,
        "rubric": dumps(rubric),
        "options": dumps(options) if options else None,
        "model_id": model_id,
        "llm_eval_enabled": new.llm_eval_enabled,
    }


# ---- reading -------------------------------------------------------------------------------


def _version(row: Row[*tuple[Any, ...]], deployed_id: str | None) -> CriterionVersion:
    return CriterionVersion(
        id=row.id,
        criterion_id=row.criterion_id,
        number=row.number,
        type=CriterionType(row.type),
        question=row.question,
        llm_question=row.llm_question,
        rubric=loads(row.rubric),
        options=tuple(loads_or_none(row.options) or ()),
        model_id=row.model_id,
        llm_eval_enabled=row.llm_eval_enabled,
        is_deployed=row.id == deployed_id,
        created_at=row.created_at,
    )


_SELECT = select(CriterionRow, TemplateRow.name.label("target_name")).join(
    TemplateRow, TemplateRow.id == CriterionRow.target_id
)


async def _criteria(conn: AsyncConnection, rows: list[Row[*tuple[Any, ...]]]) -> list[Criterion]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    newest = dict(
        (
            await conn.execute(
                select(VersionRow.criterion_id, func.max(VersionRow.number))
                .where(VersionRow.criterion_id.in_(ids))
                .group_by(VersionRow.criterion_id)
            )
        ).all()
    )
    versions = await conn.execute(
        select(VersionRow).where(
            VersionRow.criterion_id.in_(ids),
            VersionRow.id.in_([r.deployed_version_id for r in rows if r.deployed_version_id])
            | VersionRow.number.in_(list(newest.values())),
        )
    )
    deployed: dict[str, CriterionVersion] = {}
    latest: dict[str, str] = {}
    by_id = {r.id: r for r in rows}
    for v in versions:
        owner = by_id[v.criterion_id]
        if v.id == owner.deployed_version_id:
            deployed[v.criterion_id] = _version(v, owner.deployed_version_id)
        if newest.get(v.criterion_id) == v.number:
            latest[v.criterion_id] = v.id
    return [
        Criterion(
            id=r.id,
            project_id=r.project_id,
            name=r.name,
            target_type=TargetType(r.target_type),
            target_id=r.target_id,
            target_name=r.target_name,
            direction=Direction(r.direction),
            is_enabled=r.is_enabled,
            position=r.position,
            latest_version_id=latest.get(r.id),
            deployed=deployed.get(r.id),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def _criterion_in(conn: AsyncConnection, project_id: str, criterion_id: str) -> Criterion:
    cid = canonical_id(criterion_id)
    rows = []
    if cid is not None:
        rows = list(
            await conn.execute(
                _SELECT.where(CriterionRow.id == cid, CriterionRow.project_id == project_id)
            )
        )
    if not rows:
        raise NotFound(f"evaluation criterion {criterion_id} not found")
    return (await _criteria(conn, rows))[0]


async def get_criterion(
    db: Database, principal: Principal, project_id: str, criterion_id: str
) -> Criterion:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        return await _criterion_in(conn, pid, criterion_id)


async def list_criteria(
    db: Database,
    principal: Principal,
    project_id: str,
    *,
    offset: int,
    limit: int,
    target_id: str | None = None,
) -> Page[Criterion]:
    """The project's criteria (of one prompt template when given) in display order."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        where = [CriterionRow.project_id == pid]
        if target_id is not None:
            tid = canonical_id(target_id)
            if tid is None:
                return Page(items=[], has_next=False, total=0)
            where.append(CriterionRow.target_id == tid)
        total = await conn.scalar(select(func.count()).select_from(CriterionRow).where(*where))
        rows = list(
            await conn.execute(
                _SELECT.where(*where)
                .order_by(CriterionRow.position, CriterionRow.id)
                .offset(offset)
                .limit(limit + 1)
            )
        )
        criteria = await _criteria(conn, rows[:limit])
    return Page(items=criteria, has_next=len(rows) > limit, total=total or 0)


async def criteria_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Criterion]:
    rows = list(await conn.execute(_SELECT.where(CriterionRow.id.in_(ids))))
    return {c.id: c for c in await _criteria(conn, rows)}


async def get_criteria(db: Database, principal: Principal, ids: list[str]) -> list[Criterion]:
    """The criteria with these ids that the principal may see, in the order asked."""
    async with db.read() as conn:
        found = await criteria_by_id(conn, ids)
    return [found[i] for i in ids if i in found and principal.can_see(found[i].project_id)]


async def _version_in(
    conn: AsyncConnection, criterion: Criterion, version_id: str
) -> CriterionVersion:
    vid = canonical_id(version_id)
    row = None
    if vid is not None:
        row = (
            await conn.execute(
                select(VersionRow).where(
                    VersionRow.id == vid, VersionRow.criterion_id == criterion.id
                )
            )
        ).first()
    if row is None:
        raise NotFound(f"evaluation criterion version {version_id} not found")
    return _version(row, None if criterion.deployed is None else criterion.deployed.id)


async def get_criterion_version(
    db: Database, principal: Principal, project_id: str, criterion_id: str, version_id: str
) -> tuple[Criterion, CriterionVersion]:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        return criterion, await _version_in(conn, criterion, version_id)


async def list_criterion_versions(
    db: Database,
    principal: Principal,
    project_id: str,
    criterion_id: str,
    *,
    offset: int,
    limit: int,
) -> tuple[Criterion, Page[CriterionVersion]]:
    """A criterion and its versions, newest first."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        where = VersionRow.criterion_id == criterion.id
        total = await conn.scalar(select(func.count()).select_from(VersionRow).where(where))
        rows = list(
            await conn.execute(
                select(VersionRow)
                .where(where)
                .order_by(VersionRow.number.desc())
                .offset(offset)
                .limit(limit + 1)
            )
        )
    deployed_id = None if criterion.deployed is None else criterion.deployed.id
    versions = [_version(r, deployed_id) for r in rows[:limit]]
    return criterion, Page(items=versions, has_next=len(rows) > limit, total=total or 0)


async def llm_judge_criteria(
    db: Database, principal: Principal, project_id: str, template_id: str
) -> list[JudgeCriterion]:
    """The enabled criteria of a prompt template whose deployed version a model judges
    (``llm_eval_enabled``), in display order, each with its deployed version and model."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        tid = canonical_id(template_id)
        if tid is None:
            return []
        rows = list(
            await conn.execute(
                _SELECT.where(
                    CriterionRow.project_id == pid,
                    CriterionRow.target_id == tid,
                    CriterionRow.is_enabled.is_(True),
                ).order_by(CriterionRow.position, CriterionRow.id)
            )
        )
        criteria = [
            c for c in await _criteria(conn, rows) if c.deployed and c.deployed.llm_eval_enabled
        ]
        models = await models_by_id(
            conn, [c.deployed.model_id for c in criteria if c.deployed and c.deployed.model_id]
        )
    return [
        JudgeCriterion(c, c.deployed, models[c.deployed.model_id])
        for c in criteria
        if c.deployed and c.deployed.model_id in models
    ]


async def resolve_criterion_ids(conn: AsyncConnection, project_id: str, ids: list[str]) -> set[str]:
    """Which of these canonical ids are criteria of the project."""
    if not ids:
        return set()
    found = await conn.scalars(
        select(CriterionRow.id).where(
            CriterionRow.project_id == project_id, CriterionRow.id.in_(ids)
        )
    )
    return set(found.all())


async def score_directions(conn: AsyncConnection, project_id: str) -> dict[str, Direction]:
    """Which way is better for each score name of the project: its evaluations' names and
    its criteria's (a criterion wins when both share a name)."""
    found = {
        name: Direction(direction)
        for name, direction in await conn.execute(
            select(EvaluationRow.name, EvaluationRow.direction).where(
                EvaluationRow.project_id == project_id
            )
        )
    }
    for name, direction in await conn.execute(
        select(CriterionRow.name, CriterionRow.direction).where(
            CriterionRow.project_id == project_id
        )
    ):
        found[name] = Direction(direction)
    return found


async def resolve_target_ids(
    conn: AsyncConnection, project_id: str, ids: list[str], field_name: str
) -> tuple[list[str], list[str]]:
    """A test run's targets: the canonical ids of the project's evaluations and of its
    evaluation criteria named by ``ids``; InvalidInput when any is neither."""
    canonical = []
    for index, value in enumerate(ids):
        cid = canonical_id(value)
        if cid is None:
            raise InvalidInput.at((field_name, index), f"{value!r} is not a valid uuid")
        canonical.append(cid)
    canonical = list(dict.fromkeys(canonical))
    criteria = await resolve_criterion_ids(conn, project_id, canonical)
    evaluations = await resolve_evaluation_ids(
        conn, project_id, [c for c in canonical if c not in criteria], field_name
    )
    return evaluations, [c for c in canonical if c in criteria]


# ---- writing -------------------------------------------------------------------------------


async def _target(conn: AsyncConnection, project_id: str, target_id: str) -> str:
    tid = canonical_id(target_id)
    found = None
    if tid is not None:
        found = await conn.scalar(
            select(TemplateRow.id).where(
                TemplateRow.id == tid,
                TemplateRow.project_id == project_id,
                TemplateRow.deleted_at.is_(None),
            )
        )
    if found is None:
        raise InvalidInput.at(("target_id",), f"no prompt template {target_id} in this project")
    return found


async def _add_version(conn: AsyncConnection, criterion_id: str, values: dict[str, Any]) -> str:
    number = (
        await conn.execute(
            update(CriterionRow)
            .where(CriterionRow.id == criterion_id)
            .values(version_count=CriterionRow.version_count + 1, updated_at=utcnow())
            .returning(CriterionRow.version_count)
        )
    ).scalar_one()
    version_id = new_id()
    await conn.execute(
        VersionRow.__table__.insert().values(
            id=version_id, criterion_id=criterion_id, number=number, created_at=utcnow(), **values
        )
    )
    return version_id


async def create_criterion(
    db: Database, principal: Principal, project_id: str, new: NewCriterion
) -> Criterion:
    """A criterion of a prompt template with its first version, deployed; last in order."""
    check_name(new.name)
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        target = await _target(conn, pid, new.target_id)
        values = await _version_values(conn, new.version)
        position = await conn.scalar(
            select(func.coalesce(func.max(CriterionRow.position) + 1, 0)).where(
                CriterionRow.project_id == pid
            )
        )
        criterion_id, now = new_id(), utcnow()
        try:
            await conn.execute(
                CriterionRow.__table__.insert().values(
                    id=criterion_id,
                    project_id=pid,
                    name=new.name,
                    target_type=TargetType.PROMPT.value,
                    target_id=target,
                    direction=new.direction.value,
                    is_enabled=new.is_enabled,
                    position=position,
                    version_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        except IntegrityError as exc:
            raise Conflict(f"an evaluation criterion named {new.name!r} already exists") from exc
        version_id = await _add_version(conn, criterion_id, values)
        await conn.execute(
            update(CriterionRow)
            .where(CriterionRow.id == criterion_id)
            .values(deployed_version_id=version_id)
        )
        return await _criterion_in(conn, pid, criterion_id)


async def update_criterion(
    db: Database,
    principal: Principal,
    project_id: str,
    criterion_id: str,
    *,
    name: str | None = None,
    direction: Direction | None = None,
) -> Criterion:
    values: dict[str, Any] = {}
    if name is not None:
        check_name(name)
        values["name"] = name
    if direction is not None:
        values["direction"] = direction.value
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        if values:
            try:
                await conn.execute(
                    update(CriterionRow)
                    .where(CriterionRow.id == criterion.id)
                    .values(updated_at=utcnow(), **values)
                )
            except IntegrityError as exc:
                raise Conflict(f"an evaluation criterion named {name!r} already exists") from exc
        return await _criterion_in(conn, pid, criterion.id)


async def create_criterion_version(
    db: Database,
    principal: Principal,
    project_id: str,
    criterion_id: str,
    new: NewCriterionVersion,
    *,
    deploy: bool = False,
) -> tuple[Criterion, CriterionVersion]:
    """A new version of a criterion; it is used only once deployed (here with ``deploy``)."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        values = await _version_values(conn, new)
        version_id = await _add_version(conn, criterion.id, values)
        if deploy:
            await conn.execute(
                update(CriterionRow)
                .where(CriterionRow.id == criterion.id)
                .values(deployed_version_id=version_id)
            )
        criterion = await _criterion_in(conn, pid, criterion.id)
        return criterion, await _version_in(conn, criterion, version_id)


async def deploy_criterion_version(
    db: Database, principal: Principal, project_id: str, criterion_id: str, version_id: str
) -> Criterion:
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        version = await _version_in(conn, criterion, version_id)
        await conn.execute(
            update(CriterionRow)
            .where(CriterionRow.id == criterion.id)
            .values(deployed_version_id=version.id, updated_at=utcnow())
        )
        return await _criterion_in(conn, pid, criterion.id)


async def delete_criterion_version(
    db: Database, principal: Principal, project_id: str, criterion_id: str, version_id: str
) -> None:
    """Delete a version that is not the deployed one."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        version = await _version_in(conn, criterion, version_id)
        if version.is_deployed:
            raise Conflict(
                f"version {version.number} is the deployed one; deploy another version first"
            )
        await conn.execute(delete(VersionRow).where(VersionRow.id == version.id))


async def set_criterion_enabled(
    db: Database, principal: Principal, project_id: str, criterion_id: str, enabled: bool
) -> Criterion:
    """Enable or disable a criterion: a disabled one is kept but not used."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        await conn.execute(
            update(CriterionRow)
            .where(CriterionRow.id == criterion.id)
            .values(is_enabled=enabled, updated_at=utcnow())
        )
        return await _criterion_in(conn, pid, criterion.id)


async def reorder_criterion(
    db: Database,
    principal: Principal,
    project_id: str,
    criterion_id: str,
    move_before_id: str | None,
) -> Criterion:
    """Move a criterion just before another of the project's, or last with None."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        before = None
        if move_before_id is not None:
            bid = canonical_id(move_before_id)
            ids = await resolve_criterion_ids(conn, pid, [bid] if bid else [])
            if not ids:
                raise InvalidInput.at(
                    ("move_before_id",), f"no evaluation criterion {move_before_id} here"
                )
            before = ids.pop()
            if before == criterion.id:
                raise InvalidInput.at(("move_before_id",), "a criterion cannot move before itself")
        order = list(
            await conn.scalars(
                select(CriterionRow.id)
                .where(CriterionRow.project_id == pid, CriterionRow.id != criterion.id)
                .order_by(CriterionRow.position, CriterionRow.id)
            )
        )
        order.insert(len(order) if before is None else order.index(before), criterion.id)
        for position, cid in enumerate(order):
            await conn.execute(
                update(CriterionRow).where(CriterionRow.id == cid).values(position=position)
            )
        return await _criterion_in(conn, pid, criterion.id)


async def delete_criterion(
    db: Database, principal: Principal, project_id: str, criterion_id: str
) -> None:
    """Delete a criterion and its versions, unless a test run is scored on it."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        criterion = await _criterion_in(conn, pid, criterion_id)
        if await conn.scalar(select(exists().where(TestRunCriterion.criterion_id == criterion.id))):
            raise Conflict(f"evaluation criterion {criterion.name!r} is used by test runs; keep it")
        await conn.execute(delete(CriterionRow).where(CriterionRow.id == criterion.id))
