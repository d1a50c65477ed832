"""Projects: the unit of ownership. Every other aggregate belongs to one."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Project as ProjectRow
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.keys import Principal
from app.domain.text import check_text


@dataclass(frozen=True)
class ProjectSettings:
    """Freeplay's project settings. None of them changes what this service does; they are
    kept and returned as given, with Freeplay's defaults."""

    is_private: bool = False
    freeplay_spend_limit_usd: int | None = None
    data_retention_days: int | None = None
    enable_eval_insights: bool = True
    enable_review_insights: bool = True


@dataclass(frozen=True)
class ProjectChanges:
    """A partial update; None leaves a field as it is."""

    name: str | None = None
    is_private: bool | None = None
    freeplay_spend_limit_usd: int | None = None
    data_retention_days: int | None = None
    enable_eval_insights: bool | None = None
    enable_review_insights: bool | None = None


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    created_at: datetime
    settings: ProjectSettings = ProjectSettings()


def _project(row: Row[*tuple[Any, ...]]) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        settings=ProjectSettings(
            is_private=row.is_private,
            freeplay_spend_limit_usd=row.freeplay_spend_limit_usd,
            data_retention_days=row.data_retention_days,
            enable_eval_insights=row.enable_eval_insights,
            enable_review_insights=row.enable_review_insights,
        ),
    )


# The largest values kept: what every column holds and a GraphQL Int can carry.
_LIMITS = {"freeplay_spend_limit_usd": 2**31 - 1, "data_retention_days": 2**31 - 1}


def _check_name(name: str) -> str:
    check_text(name, ("name",))
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput.at(("name",), "name must be 1 to 200 characters")
    return name


def _check_settings(values: dict[str, Any]) -> None:
    for field, largest in _LIMITS.items():
        value = values.get(field)
        if value is not None and not 0 <= value <= largest:
            raise InvalidInput.at((field,), f"{field} must be between 0 and {largest}")


def require_admin(principal: Principal, action: str) -> None:
    if not principal.is_admin:
        raise Forbidden(f"only an admin key may {action}")


async def create_project(
    db: Database,
    name: str,
    settings: ProjectSettings | None = None,
    project_id: str | None = None,
) -> Project:
    """A new project; with ``project_id``, under that id (a uuid no project has yet)."""
    name = _check_name(name)
    settings = settings or ProjectSettings()
    _check_settings(asdict(settings))
    pid = new_id() if project_id is None else canonical_id(project_id)
    if pid is None:
        raise InvalidInput.at(("id",), f"id must be a uuid; got {project_id!r}")
    project = Project(id=pid, name=name, created_at=utcnow(), settings=settings)
    async with db.write() as conn:
        if await conn.scalar(_PROJECT_EXISTS, {"project_id": pid}) is not None:
            raise Conflict(f"a project with id {pid} already exists")
        try:
            await conn.execute(
                ProjectRow.__table__.insert().values(
                    id=project.id,
                    name=project.name,
                    created_at=project.created_at,
                    **asdict(settings),
                )
            )
        except IntegrityError as exc:  # made at the same moment by another request
            raise Conflict(f"a project with id {pid} already exists") from exc
    return project


async def add_project(
    db: Database,
    principal: Principal,
    name: str,
    settings: ProjectSettings | None = None,
    project_id: str | None = None,
) -> Project:
    """A project made through the API: only admin keys may make one."""
    require_admin(principal, "create projects")
    return await create_project(db, name, settings, project_id)


async def update_project(
    db: Database, principal: Principal, project_id: str, changes: ProjectChanges
) -> Project:
    values = {key: value for key, value in asdict(changes).items() if value is not None}
    if "name" in values:
        values["name"] = _check_name(values["name"])
    _check_settings(values)
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        if values:
            await conn.execute(update(ProjectRow).where(ProjectRow.id == pid).values(values))
        row = (await conn.execute(select(ProjectRow).where(ProjectRow.id == pid))).one()
    return _project(row)


async def delete_project(db: Database, principal: Principal, project_id: str) -> None:
    """Delete a project and everything in it (datasets, runs, results, recordings). Only
    admin keys may; keys scoped to it lose it."""
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)  # 404 before 403
        require_admin(principal, "delete projects")
        await conn.execute(delete(ProjectRow).where(ProjectRow.id == pid))


def claimed_project_id(principal: Principal, project_id: str) -> str:
    """The canonical id of a project the principal may see, if it exists (not checked
    here: a caller that finds nothing under it checks with ``visible_project_id``)."""
    pid = canonical_id(project_id)
    if pid is None or not principal.can_see(pid):
        raise NotFound(f"project {project_id} not found")
    return pid


_PROJECT_EXISTS = select(ProjectRow.id).where(ProjectRow.id == bindparam("project_id"))
_PROJECT = select(ProjectRow).where(ProjectRow.id == bindparam("project_id"))


async def visible_project_id(conn: AsyncConnection, principal: Principal, project_id: str) -> str:
    """The canonical id of a project the principal may see; NotFound otherwise, so a
    project the caller may not see answers exactly like one that does not exist."""
    pid = claimed_project_id(principal, project_id)
    if await conn.scalar(_PROJECT_EXISTS, {"project_id": pid}) is None:
        raise NotFound(f"project {project_id} not found")
    return pid


async def get_project(db: Database, principal: Principal, project_id: str) -> Project:
    pid = claimed_project_id(principal, project_id)
    rows = await db.fetch(_PROJECT, {"project_id": pid})
    row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"project {project_id} not found")
    return _project(row)


async def list_projects(db: Database, principal: Principal) -> list[Project]:
    query = select(ProjectRow).order_by(ProjectRow.created_at, ProjectRow.id)
    if not principal.is_admin:
        query = query.where(ProjectRow.id.in_(principal.project_ids))
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return [_project(r) for r in rows]


async def projects_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Project]:
    rows = await conn.execute(select(ProjectRow).where(ProjectRow.id.in_(ids)))
    return {r.id: _project(r) for r in rows}


async def find_project_by_name(db: Database, name: str) -> Project | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(ProjectRow).where(ProjectRow.name == name).order_by(ProjectRow.created_at)
            )
        ).first()
    return None if row is None else _project(row)
