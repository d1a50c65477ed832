"""Projects: the unit of ownership. Every other aggregate belongs to one."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Project as ProjectRow
from app.domain.errors import InvalidInput, NotFound
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.keys import Principal


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    created_at: datetime


def _project(row: Row) -> Project:
    return Project(id=row.id, name=row.name, created_at=row.created_at)


async def create_project(db: Database, name: str) -> Project:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput.at(("name",), "name must be 1 to 200 characters")
    project = Project(id=new_id(), name=name, created_at=utcnow())
    async with db.write() as conn:
        await conn.execute(
            ProjectRow.__table__.insert().values(
                id=project.id, name=project.name, created_at=project.created_at
            )
        )
    return project


def claimed_project_id(principal: Principal, project_id: str) -> str:
    """The canonical id of a project the principal may see, if it exists (not checked
    here: a caller that finds nothing under it checks with ``visible_project_id``)."""
    pid = canonical_id(project_id)
    if pid is None or not principal.can_see(pid):
        raise NotFound(f"project {project_id} not found")
    return pid


_PROJECT_EXISTS = select(ProjectRow.id).where(ProjectRow.id == bindparam("project_id"))


async def visible_project_id(conn: AsyncConnection, principal: Principal, project_id: str) -> str:
    """The canonical id of a project the principal may see; NotFound otherwise, so a
    project the caller may not see answers exactly like one that does not exist."""
    pid = claimed_project_id(principal, project_id)
    if await conn.scalar(_PROJECT_EXISTS, {"project_id": pid}) is None:
        raise NotFound(f"project {project_id} not found")
    return pid


async def get_project(db: Database, principal: Principal, project_id: str) -> Project:
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = (await conn.execute(select(ProjectRow).where(ProjectRow.id == pid))).one()
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
