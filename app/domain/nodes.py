"""Objects by id alone, whatever their kind: what GraphQL's ``node(id:)`` answers.

Projects, datasets, test runs, evaluations, flavors and results are named by their uuids
(globally unique, and the same strings REST uses); a test case's content at a version by its
revision id (``datasets.RevisionKey``). An object of a project the principal may not see is
left out, exactly like one that does not exist.
"""

from typing import Any

from sqlalchemy import literal, select, union_all

from app.db.engine import Database
from app.db.tables import Dataset as DatasetRow
from app.db.tables import Evaluation as EvaluationRow
from app.db.tables import Flavor as FlavorRow
from app.db.tables import Project as ProjectRow
from app.db.tables import TestRun as TestRunRow
from app.db.tables import TestRunResult
from app.domain import datasets, evaluations, projects, results, test_runs
from app.domain.ids import canonical_id
from app.domain.keys import Principal

Node = (
    projects.Project
    | datasets.Dataset
    | test_runs.TestRun
    | evaluations.Evaluation
    | evaluations.Flavor
    | results.Result
    | datasets.Revision
)

# Each kind of object named by a uuid: its table's query for (kind, id, project) and how to
# load a batch of them.
_KINDS: dict[str, tuple[Any, Any]] = {
    "project": (select(ProjectRow.id, ProjectRow.id.label("project_id")), projects.projects_by_id),
    "dataset": (select(DatasetRow.id, DatasetRow.project_id), datasets.datasets_by_id),
    "test_run": (select(TestRunRow.id, TestRunRow.project_id), test_runs.runs_by_id),
    "evaluation": (
        select(EvaluationRow.id, EvaluationRow.project_id),
        evaluations.evaluations_by_id,
    ),
    "flavor": (select(FlavorRow.id, FlavorRow.project_id), evaluations.flavors_by_id),
    "result": (
        select(TestRunResult.id, TestRunRow.project_id).join(
            TestRunRow, TestRunRow.id == TestRunResult.test_run_id
        ),
        results.results_by_id,
    ),
}


async def find_nodes(db: Database, principal: Principal, ids: list[str]) -> dict[str, Node]:
    """The objects these ids name that the principal may see, by the id as given."""
    uuids = {value: uid for value in ids if (uid := canonical_id(value)) is not None}
    keys = {
        value: key
        for value in ids
        if value not in uuids and (key := datasets.RevisionKey.parse(value)) is not None
    }
    found: dict[str, Node] = {}
    async with db.read() as conn:
        if uuids:
            wanted = list(set(uuids.values()))
            which = union_all(
                *(
                    query.add_columns(literal(kind).label("kind")).where(
                        query.selected_columns[0].in_(wanted)
                    )
                    for kind, (query, _) in _KINDS.items()
                )
            )
            by_kind: dict[str, list[str]] = {}
            for uid, project_id, kind in await conn.execute(which):
                if principal.can_see(project_id):
                    by_kind.setdefault(kind, []).append(uid)
            loaded: dict[str, Node] = {}
            for kind, kind_ids in by_kind.items():
                loaded.update(await _KINDS[kind][1](conn, kind_ids))
            found.update({value: loaded[uid] for value, uid in uuids.items() if uid in loaded})
        if keys:
            revisions = await datasets.revisions_by_key(conn, list(set(keys.values())))
            for value, key in keys.items():
                revision = revisions.get(key)
                if revision is not None and principal.can_see(revision.project_id):
                    found[value] = revision
    return found
