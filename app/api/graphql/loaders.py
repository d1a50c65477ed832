"""Per-request DataLoaders: lookups that many resolvers make are batched into one query."""

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from app.db.engine import Database
from app.domain import datasets
from app.domain.datasets import StoredTestCase

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
