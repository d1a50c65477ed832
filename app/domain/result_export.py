"""The export of a test run: every case in dataset order with its recorded results."""

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunResult
from app.db.tables import TestCase as TestCaseRow
from app.domain.datasets import CASE_COLUMNS, in_run_subset, visible_at
from app.domain.jsontext import loads, loads_or_none
from app.domain.results import RESULT_COLUMNS, Usage, scores_of
from app.domain.test_runs import TestRun


@dataclass(frozen=True)
class ExportRow:
    """One case of a run (one repetition of it, when several were recorded)."""

    test_case_id: str
    repetition: int | None
    inputs: Any
    expected_output: Any
    output: Any
    scores: dict[str, dict[str, Any]]  # source → name → value
    usage: Usage | None = None

    def as_dict(self) -> dict[str, Any]:
        usage = self.usage or Usage()
        return {
            "test_case_id": self.test_case_id,
            "repetition": self.repetition,
            "inputs": self.inputs,
            "expected_output": self.expected_output,
            "output": self.output,
            "scores": self.scores,
            "latency_ms": usage.latency_ms,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost": usage.cost,
        }


async def export_dicts(db: Database, run: TestRun) -> AsyncIterator[dict[str, Any]]:
    async for row in export_rows(db, run):
        yield row.as_dict()


async def export_rows(db: Database, run: TestRun, page: int = 500) -> AsyncIterator[ExportRow]:
    """Every case of the run in dataset order with its results, a page at a time."""
    after: int | None = None
    while True:
        async with db.read() as conn:
            query = (
                select(*CASE_COLUMNS)
                .where(TestCaseRow.dataset_id == run.dataset_id, visible_at(run.dataset_version))
                .order_by(TestCaseRow.position)
                .limit(page)
            )
            if run.subset_of is not None:
                query = query.where(in_run_subset(run.subset_of))
            if after is not None:
                query = query.where(TestCaseRow.position > after)
            cases = (await conn.execute(query)).all()
            results = (
                await conn.execute(
                    select(*RESULT_COLUMNS)
                    .where(
                        TestRunResult.test_run_id == run.id,
                        TestRunResult.test_case_id.in_([c.id for c in cases]),
                    )
                    .order_by(TestRunResult.position, TestRunResult.repetition)
                )
            ).all()
            scores = await scores_of(conn, [r.id for r in results])
        by_case: dict[str, list[Any]] = defaultdict(list)
        for result in results:
            by_case[result.test_case_id].append(result)
        for case in cases:
            expected = loads_or_none(case.output)
            recorded = by_case.get(case.id) or [None]
            for result in recorded:
                grouped: dict[str, dict[str, Any]] = {}
                for score in scores.get(result.id, []) if result else []:
                    grouped.setdefault(score.source.value, {})[score.name] = score.value
                yield ExportRow(
                    test_case_id=case.id,
                    repetition=None if result is None else result.repetition,
                    inputs=loads(case.inputs),
                    expected_output=expected,
                    output=None if result is None else loads_or_none(result.output),
                    scores=grouped,
                    usage=None
                    if result is None
                    else Usage(
                        result.latency_ms,
                        result.prompt_tokens,
                        result.completion_tokens,
                        result.cost,
                    ),
                )
        if len(cases) < page:
            return
        after = cases[-1].position


async def score_columns(db: Database, run: TestRun) -> list[tuple[str, str]]:
    """Every (source, evaluation name) scored in the run, in a stable order."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(ResultScore.source, ResultScore.name)
            .join(TestRunResult, TestRunResult.id == ResultScore.result_id)
            .where(TestRunResult.test_run_id == run.id)
            .distinct()
        )
        return sorted((source, name) for source, name in rows)
