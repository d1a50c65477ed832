"""Recording the results of a test run: writing, replacing and scoring them, and
completing the run. Each write locks its run, so a run's counters and status stay exact.
(``recordings`` is about Freeplay recordings of completions and traces, which may also
record a result here.)
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunCase, TestRunResult
from app.db.tables import TestCase as TestCaseRow
from app.db.tables import TestRun as TestRunRow
from app.domain.datasets import visible_at
from app.domain.errors import InvalidInput, NotFound
from app.domain.evaluations import (
    Evaluation,
    EvaluationSource,
    check_score,
    is_number,
    project_evaluations,
)
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps
from app.domain.keys import Principal
from app.domain.live import run_changed
from app.domain.results import NewResult, Result, Usage, load_result
from app.domain.scores import Score, ScoreSource
from app.domain.test_runs import TestRunStatus
from app.domain.text import check_name

MAX_CLIENT_VALUE = 1_000


@dataclass
class LockedRun:
    id: str
    project_id: str
    dataset_id: str
    dataset_version: int
    case_count: int
    done_count: int
    status: TestRunStatus
    subset: bool


async def lock_run(
    conn: AsyncConnection, principal: Principal, run_id: str, project_id: str | None = None
) -> LockedRun:
    """The run, locked for this write transaction (results of one run are written in turn,
    so its counters stay exact); NotFound if the principal may not see it. Its subscribers
    hear of the change when the transaction commits."""
    rid = canonical_id(run_id)
    row = None
    if rid is not None:
        row = (
            await conn.execute(
                update(TestRunRow)
                .where(TestRunRow.id == rid)
                .values(done_count=TestRunRow.done_count)
                .returning(
                    TestRunRow.id,
                    TestRunRow.project_id,
                    TestRunRow.dataset_id,
                    TestRunRow.dataset_version,
                    TestRunRow.case_count,
                    TestRunRow.done_count,
                    TestRunRow.status,
                    TestRunRow.case_filter,
                )
            )
        ).first()
    if (
        row is None
        or not principal.can_see(row.project_id)
        or (project_id is not None and canonical_id(project_id) != row.project_id)
    ):
        raise NotFound(f"test run {run_id} not found")
    run_changed(conn, row.id)
    return LockedRun(
        id=row.id,
        project_id=row.project_id,
        dataset_id=row.dataset_id,
        dataset_version=row.dataset_version,
        case_count=row.case_count,
        done_count=row.done_count,
        status=TestRunStatus(row.status),
        subset=row.case_filter is not None,
    )


async def _case_position(conn: AsyncConnection, run: LockedRun, case_id: str) -> tuple[str, int]:
    cid = canonical_id(case_id)
    position = None
    if cid is not None:
        query = select(TestCaseRow.position).where(
            TestCaseRow.dataset_id == run.dataset_id,
            TestCaseRow.id == cid,
            visible_at(run.dataset_version),
        )
        if run.subset:
            query = query.where(
                exists().where(TestRunCase.test_run_id == run.id, TestRunCase.test_case_id == cid)
            )
        position = await conn.scalar(query)
    if cid is None or position is None:
        raise InvalidInput.at(
            ("test_case_id",), f"test case {case_id} is not one of test run {run.id}'s cases"
        )
    return cid, position


def _client_scores(eval_results: object, loc: str) -> list[Score]:
    if not isinstance(eval_results, Mapping):
        raise InvalidInput.at((loc,), f"{loc} must be an object of name: value")
    scores = []
    for name, value in eval_results.items():
        check_name(name, loc)
        if not (
            isinstance(value, bool)
            or is_number(value)
            or (isinstance(value, str) and len(value) <= MAX_CLIENT_VALUE and "\x00" not in value)
        ):
            raise InvalidInput.at(
                (loc, name), f"{loc}.{name} must be true/false, a finite number or a short string"
            )
        scores.append(Score(ScoreSource.CLIENT, name, value))
    return scores


def _evaluation_scores(
    scores: Mapping[str, Any], evaluations: Mapping[str, Evaluation]
) -> list[Score]:
    checked = []
    for evaluation_id, value in scores.items():
        evaluation = evaluations.get(canonical_id(evaluation_id) or "")
        if evaluation is None:
            raise InvalidInput.at(
                ("scores", evaluation_id), f"{evaluation_id} is not an evaluation of this project"
            )
        check_score(evaluation, value, ("scores", evaluation_id))
        checked.append(
            Score(ScoreSource(evaluation.source.value), evaluation.name, value, evaluation.id)
        )
    return checked


def human_feedback_scores(
    feedback: Mapping[str, Any], evaluations: Mapping[str, Evaluation]
) -> list[Score]:
    """The feedback keys that name a human evaluation of the project, as its scores."""
    by_name = {e.name: e for e in evaluations.values() if e.source is EvaluationSource.HUMAN}
    scores = []
    for name, value in feedback.items():
        evaluation = by_name.get(name)
        if evaluation is not None:
            check_score(evaluation, value, ("feedback", name))
            scores.append(Score(ScoreSource.HUMAN, name, value, evaluation.id))
    return scores


async def _replace_scores(conn: AsyncConnection, result_id: str, scores: Iterable[Score]) -> None:
    """Write these scores on the result, replacing any of the same source and name."""
    for score in scores:
        await conn.execute(
            delete(ResultScore).where(
                ResultScore.result_id == result_id,
                ResultScore.source == score.source.value,
                ResultScore.name == score.name,
            )
        )
        await conn.execute(
            ResultScore.__table__.insert().values(
                result_id=result_id,
                source=score.source.value,
                name=score.name,
                evaluation_id=score.evaluation_id,
                value=dumps(score.value),
            )
        )


async def _set_status(conn: AsyncConnection, run: LockedRun, new_case: bool) -> None:
    if new_case:
        run.done_count += 1
    status = run.status
    if status is not TestRunStatus.COMPLETED:
        status = (
            TestRunStatus.COMPLETED if run.done_count >= run.case_count else TestRunStatus.RUNNING
        )
    values: dict[str, Any] = {"done_count": run.done_count, "status": status.value}
    if status is TestRunStatus.COMPLETED and run.status is not TestRunStatus.COMPLETED:
        values["completed_at"] = utcnow()
    run.status = status
    await conn.execute(update(TestRunRow).where(TestRunRow.id == run.id).values(values))


async def write_result(
    conn: AsyncConnection, run: LockedRun, new: NewResult, evaluations: Mapping[str, Evaluation]
) -> str:
    """Record (or replace) one result of a locked run; its id."""
    if not isinstance(new.repetition, int) or not 0 <= new.repetition < 10_000:
        raise InvalidInput.at(("repetition",), "repetition must be a whole number from 0 to 9999")
    case_id, position = await _case_position(conn, run, new.test_case_id)
    scores = _client_scores(new.eval_results, "eval_results") + _evaluation_scores(
        new.scores, evaluations
    )
    scores += [Score(ScoreSource.AUTO, name, value) for name, value in new.judged.items()]
    output = None if new.output is None else _output_json(new.output)
    usage = new.usage or Usage()
    metrics = {
        "latency_ms": usage.latency_ms,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost": usage.cost,
    }
    now = utcnow()
    existing = await conn.scalar(
        select(TestRunResult.id).where(
            TestRunResult.test_run_id == run.id,
            TestRunResult.test_case_id == case_id,
            TestRunResult.repetition == new.repetition,
        )
    )
    if existing is not None:
        # Latest wins: the new recording replaces the result and every score of it.
        await conn.execute(
            update(TestRunResult)
            .where(TestRunResult.id == existing)
            .values(output=output, recording_id=new.recording_id, updated_at=now, **metrics)
        )
        await conn.execute(delete(ResultScore).where(ResultScore.result_id == existing))
        result_id, new_case = existing, False
    else:
        new_case = not await conn.scalar(
            select(
                exists().where(
                    TestRunResult.test_run_id == run.id, TestRunResult.test_case_id == case_id
                )
            )
        )
        result_id = new_id()
        await conn.execute(
            TestRunResult.__table__.insert().values(
                id=result_id,
                test_run_id=run.id,
                test_case_id=case_id,
                position=position,
                repetition=new.repetition,
                output=output,
                recording_id=new.recording_id,
                created_at=now,
                updated_at=now,
                **metrics,
            )
        )
    await _replace_scores(conn, result_id, scores)
    await _set_status(conn, run, new_case)
    return result_id


def _output_json(output: Any) -> str:
    text = dumps(output)
    if "\\u0000" in text:
        raise InvalidInput.at(("output",), "output may not contain the NUL character")
    return text


async def record_result(
    db: Database,
    principal: Principal,
    run_id: str,
    new: NewResult,
    *,
    project_id: str | None = None,
) -> Result:
    """Record a case's result in a run (replacing an earlier one of the same repetition)."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id, project_id)
        evaluations = await project_evaluations(conn, run.project_id)
        result_id = await write_result(conn, run, new, evaluations)
        return await load_result(conn, result_id)


async def update_result(
    conn: AsyncConnection,
    run: LockedRun,
    test_case_id: str,
    repetition: int,
    *,
    output: Any = None,
    eval_results: Mapping[str, Any] | None = None,
    feedback: Mapping[str, Any] | None = None,
) -> str | None:
    """Merge a later update (new output, more eval results, human feedback) into an
    existing result; None when the case has no such result yet."""
    case_id, _ = await _case_position(conn, run, test_case_id)
    result_id = await conn.scalar(
        select(TestRunResult.id).where(
            TestRunResult.test_run_id == run.id,
            TestRunResult.test_case_id == case_id,
            TestRunResult.repetition == repetition,
        )
    )
    if result_id is None:
        return None
    scores = _client_scores(eval_results or {}, "eval_results")
    if feedback:
        scores += human_feedback_scores(feedback, await project_evaluations(conn, run.project_id))
    values: dict[str, Any] = {"updated_at": utcnow()}
    if output is not None:
        values["output"] = _output_json(output)
    await conn.execute(update(TestRunResult).where(TestRunResult.id == result_id).values(values))
    await _replace_scores(conn, result_id, scores)
    return result_id


async def score_result(
    db: Database,
    principal: Principal,
    run_id: str,
    test_case_id: str,
    repetition: int,
    evaluation_id: str,
    value: Any,
) -> Result:
    """Add (or replace) one auto or human score on a result that was already recorded."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id)
        case_id, _ = await _case_position(conn, run, test_case_id)
        result_id = await conn.scalar(
            select(TestRunResult.id).where(
                TestRunResult.test_run_id == run.id,
                TestRunResult.test_case_id == case_id,
                TestRunResult.repetition == repetition,
            )
        )
        if result_id is None:
            raise InvalidInput.at(
                ("test_case_id",),
                f"no result is recorded for test case {test_case_id} (repetition {repetition})",
            )
        scores = _evaluation_scores(
            {evaluation_id: value}, await project_evaluations(conn, run.project_id)
        )
        await _replace_scores(conn, result_id, scores)
        await conn.execute(
            update(TestRunResult).where(TestRunResult.id == result_id).values(updated_at=utcnow())
        )
        return await load_result(conn, result_id)


async def complete_run(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> None:
    """Mark a run completed, whether or not every case has a result."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id, project_id)
        if run.status is not TestRunStatus.COMPLETED:
            await conn.execute(
                update(TestRunRow)
                .where(TestRunRow.id == run.id)
                .values(status=TestRunStatus.COMPLETED.value, completed_at=utcnow())
            )
