"""Per-request DataLoaders: lookups that many resolvers make are batched into one query."""

from collections import defaultdict
from collections.abc import Callable, Sequence

from strawberry.dataloader import DataLoader

from app.db.engine import Database
from app.domain import datasets, nodes, result_statistics
from app.domain.datasets import StoredTestCase
from app.domain.keys import Principal
from app.domain.test_runs import TestRun

CaseKey = tuple[str, int, str]  # dataset id, version, test case id


def case_loader(db: Database) -> DataLoader[CaseKey, StoredTestCase | None]:
    """Test cases by (dataset, version, id), one query per dataset version asked for."""

    async def load(keys: Sequence[CaseKey]) -> list[StoredTestCase | None]:
        wanted: dict[tuple[str, int], list[str]] = defaultdict(list)
        for dataset_id, version, case_id in keys:
            wanted[(dataset_id, version)].append(case_id)
        found: dict[CaseKey, StoredTestCase] = {}
        for (dataset_id, version), ids in wanted.items():
            for case_id, case in (await datasets.cases_by_id(db, dataset_id, version, ids)).items():
                found[(dataset_id, version, case_id)] = case
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def node_loader(
    db: Database, principal: Callable[[], Principal]
) -> DataLoader[str, nodes.Node | None]:
    """Any object by its id (see ``app.domain.nodes``): every id asked for in one tick of the
    event loop is found with one query per kind of object."""

    async def load(ids: Sequence[str]) -> list[nodes.Node | None]:
        found = await nodes.find_nodes(db, principal(), list(ids))
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def summary_loader(db: Database) -> DataLoader[TestRun, result_statistics.Summary]:
    """Summaries of the runs asked for in one tick (a page of runs), computed together."""

    async def load(runs: Sequence[TestRun]) -> list[result_statistics.Summary]:
        return await result_statistics.summarize_runs(db, list(runs))

    return DataLoader(load_fn=load, cache_key_fn=lambda run: run.id)
