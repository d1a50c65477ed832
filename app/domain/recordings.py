"""What the Freeplay SDK records: sessions, completions and traces, and feedback on them.

The SDK makes session, completion and trace ids itself, so a session comes into being with
the first recording that names it, and recording an id again updates that recording (a
retried request changes nothing). A recording that carries ``test_run_info`` is the result
of that test case in that run; its ``eval_results`` are client evaluations.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Recording as RecordingRow
from app.db.tables import Session as SessionRow
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.evaluations import is_number, project_evaluations
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads_or_none
from app.domain.keys import Principal
from app.domain.projects import visible_project_id
from app.domain.result_recording import LockedRun, lock_run, update_result, write_result
from app.domain.results import NewResult, Usage


class RecordingKind(StrEnum):
    COMPLETION = "completion"
    TRACE = "trace"


@dataclass(frozen=True)
class TestRunInfo:
    test_run_id: str
    test_case_id: str
    repetition: int = 0


def parse_test_run_info(value: Any) -> TestRunInfo | None:
    """``test_run_info`` of a request body: ``{test_run_id, test_case_id}``, and ours,
    ``repetition``, to keep several results of one case."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput.at(("test_run_info",), "test_run_info must be an object")
    run_id, case_id = value.get("test_run_id"), value.get("test_case_id")
    if not isinstance(run_id, str) or not isinstance(case_id, str):
        raise InvalidInput.at(
            ("test_run_info",), "test_run_info needs test_run_id and test_case_id strings"
        )
    repetition = value.get("repetition", 0)
    if repetition is None:
        repetition = 0
    if not isinstance(repetition, int) or isinstance(repetition, bool):
        raise InvalidInput.at(("test_run_info", "repetition"), "repetition must be a number")
    return TestRunInfo(run_id, case_id, repetition)


def _id(value: str, what: str) -> str:
    cid = canonical_id(value)
    if cid is None:
        raise InvalidInput.at((what,), f"{what} must be a uuid; got {value!r}")
    return cid


def completion_output(messages: Any) -> Any:
    """The model's answer: the last message, as its text when it is only text."""
    if not isinstance(messages, list) or not messages:
        raise InvalidInput.at(("messages",), "messages must be a non-empty list")
    last = messages[-1]
    if not isinstance(last, Mapping) or "content" not in last:
        raise InvalidInput.at(("messages", len(messages) - 1), "a message has role and content")
    content = last["content"]
    if isinstance(content, list) and all(
        isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    return content if isinstance(content, str) else dict(last)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_of(call_info: Any) -> Usage | None:
    """Latency and tokens a client's ``call_info`` tells (``start_time``/``end_time`` in
    seconds, ``usage.prompt_tokens``/``completion_tokens``); None when it tells neither."""
    if not isinstance(call_info, Mapping):
        return None
    start, end = call_info.get("start_time"), call_info.get("end_time")
    latency = None
    if is_number(start) and is_number(end) and end >= start:
        latency = (end - start) * 1000
    usage = call_info.get("usage")
    usage = usage if isinstance(usage, Mapping) else {}
    found = Usage(
        latency_ms=latency,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )
    return None if found == Usage() else found


def _object(value: Any, field: str) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, Mapping):
        raise InvalidInput.at((field,), f"{field} must be an object")
    return None if value is None else dict(value)


def _json(value: Any, field: str) -> str:
    text = dumps(value)
    if "\\u0000" in text:
        raise InvalidInput.at((field,), f"{field} may not contain the NUL character")
    return text


async def _session(conn: AsyncConnection, project_id: str, session_id: str, metadata: Any) -> None:
    found = await conn.scalar(select(SessionRow.project_id).where(SessionRow.id == session_id))
    if found is None:
        await conn.execute(
            SessionRow.__table__.insert().values(
                id=session_id,
                project_id=project_id,
                custom_metadata=None if metadata is None else _json(metadata, "session_info"),
                created_at=utcnow(),
            )
        )
    elif found != project_id:
        # Said as if it were missing: whether an id is used elsewhere is not this caller's.
        raise NotFound(f"session {session_id} not found")


async def _save(
    conn: AsyncConnection,
    project_id: str,
    session_id: str,
    recording_id: str,
    kind: RecordingKind,
    body: Mapping[str, Any],
    info: TestRunInfo | None,
) -> None:
    """Insert a recording, or replace the one with the same id (a retried request)."""
    existing = (
        await conn.execute(
            select(RecordingRow.project_id, RecordingRow.kind).where(
                RecordingRow.id == recording_id
            )
        )
    ).first()
    values = {
        "body": _json(dict(body), "body"),
        "metadata": None
        if body.get("custom_metadata") is None
        else _json(body["custom_metadata"], "custom_metadata"),
        "test_run_id": None if info is None else canonical_id(info.test_run_id),
        "test_case_id": None if info is None else canonical_id(info.test_case_id),
        "repetition": None if info is None else info.repetition,
        "updated_at": utcnow(),
    }
    if existing is None:
        await conn.execute(
            RecordingRow.__table__.insert().values(
                id=recording_id,
                project_id=project_id,
                session_id=session_id,
                kind=kind.value,
                created_at=values["updated_at"],
                **values,
            )
        )
    elif existing.project_id != project_id:
        raise NotFound(f"{kind.value} {recording_id} not found")
    elif existing.kind != kind.value:
        raise Conflict(f"{recording_id} is already the id of a {existing.kind}")
    else:
        await conn.execute(
            update(RecordingRow).where(RecordingRow.id == recording_id).values(values)
        )


async def _record(
    db: Database,
    principal: Principal,
    project_id: str,
    session_id: str,
    recording_id: str,
    kind: RecordingKind,
    body: Mapping[str, Any],
    output: Any,
    metadata: Any,
) -> None:
    info = parse_test_run_info(body.get("test_run_info"))
    eval_results = _object(body.get("eval_results"), "eval_results") or {}
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        run = None
        if info is not None:
            # Lock the run first, as every writer of results does, so writers queue in one order.
            run = await lock_run(conn, principal, info.test_run_id, pid)
        await _session(conn, pid, session_id, metadata)
        await _save(conn, pid, session_id, recording_id, kind, body, info)
        if run is not None and info is not None:
            await write_result(
                conn,
                run,
                NewResult(
                    test_case_id=info.test_case_id,
                    repetition=info.repetition,
                    output=output,
                    eval_results=eval_results,
                    recording_id=recording_id,
                    usage=usage_of(body.get("call_info")),
                ),
                await project_evaluations(conn, pid),
            )


async def record_completion(
    db: Database, principal: Principal, project_id: str, session_id: str, body: Mapping[str, Any]
) -> str:
    """Record a completion (the SDK's ``recordings.create``); its completion id."""
    sid = _id(session_id, "session_id")
    completion_id = body.get("completion_id")
    cid = new_id() if completion_id is None else _id(str(completion_id), "completion_id")
    output = completion_output(body.get("messages"))
    session_info = _object(body.get("session_info"), "session_info") or {}
    await _record(
        db,
        principal,
        project_id,
        sid,
        cid,
        RecordingKind.COMPLETION,
        body,
        output,
        session_info.get("custom_metadata"),
    )
    return cid


async def record_trace(
    db: Database,
    principal: Principal,
    project_id: str,
    session_id: str,
    trace_id: str,
    body: Mapping[str, Any],
) -> None:
    """Record a trace (the SDK's ``trace.record_output``)."""
    if body.get("input") is None:
        raise InvalidInput.at(("input",), "input is required")
    await _record(
        db,
        principal,
        project_id,
        _id(session_id, "session_id"),
        _id(trace_id, "trace_id"),
        RecordingKind.TRACE,
        body,
        body.get("output"),
        None,
    )


async def _recording(
    conn: AsyncConnection, project_id: str, recording_id: str, kind: RecordingKind
) -> Any:
    rid = canonical_id(recording_id)
    row = None
    if rid is not None:
        row = (
            await conn.execute(
                select(RecordingRow).where(
                    RecordingRow.id == rid,
                    RecordingRow.project_id == project_id,
                    RecordingRow.kind == kind.value,
                )
            )
        ).first()
    if row is None:
        raise NotFound(f"{kind.value} {recording_id} not found")
    return row


async def update_recording(
    db: Database,
    principal: Principal,
    project_id: str,
    recording_id: str,
    kind: RecordingKind,
    *,
    output: Any = None,
    eval_results: Any = None,
    feedback: Any = None,
    metadata: Any = None,
    info: Any = None,
    new_messages: Any = None,
) -> str:
    """A later word on a recording: a new output (or, for a completion, new messages whose
    last is the new answer), more eval results, feedback, metadata, or the test run it
    belongs to. Whatever concerns its test run result updates that result too. Saying
    nothing (every one of them null) is invalid input."""
    said = {
        "output": output,
        "new_messages": new_messages,
        "metadata": metadata,
        "feedback": feedback,
        "eval_results": eval_results,
        "test_run_info": info,
    }
    if all(value is None for value in said.values()):
        keys = [
            k
            for k in said
            if k != ("output" if kind is RecordingKind.COMPLETION else "new_messages")
        ]
        raise InvalidInput(f"give at least one of {', '.join(keys)}")
    eval_results = _object(eval_results, "eval_results")
    feedback = _object(feedback, "feedback")
    metadata = _object(metadata, "metadata")
    given_info = parse_test_run_info(info)
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = await _recording(conn, pid, recording_id, kind)
        run_id = given_info.test_run_id if given_info else row.test_run_id
        run = None if run_id is None else await lock_run(conn, principal, run_id, pid)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if new_messages is not None:
            output = completion_output(new_messages)
            body = loads_or_none(row.body) or {}
            body["messages"] = [*(body.get("messages") or []), *new_messages]
            values["body"] = _json(body, "new_messages")
        if metadata is not None:
            merged = {**(loads_or_none(row.metadata) or {}), **metadata}
            values["metadata"] = _json(merged, "metadata")
        if feedback is not None:
            merged = {**(loads_or_none(row.feedback) or {}), **feedback}
            values["feedback"] = _json(merged, "feedback")
        if given_info is not None:
            values.update(
                test_run_id=canonical_id(given_info.test_run_id),
                test_case_id=canonical_id(given_info.test_case_id),
                repetition=given_info.repetition,
            )
        await conn.execute(update(RecordingRow).where(RecordingRow.id == row.id).values(values))
        if run is not None:
            case_id = given_info.test_case_id if given_info else row.test_case_id
            repetition = given_info.repetition if given_info else row.repetition or 0
            updated = await update_result(
                conn,
                run,
                case_id,
                repetition,
                output=output,
                eval_results=eval_results,
                feedback=feedback,
            )
            if updated is None:
                await write_result(
                    conn,
                    run,
                    NewResult(
                        test_case_id=case_id,
                        repetition=repetition,
                        output=output,
                        eval_results=eval_results or {},
                        recording_id=row.id,
                    ),
                    await project_evaluations(conn, pid),
                )
        updated_id: str = row.id
        return updated_id


async def update_session_metadata(
    db: Database, principal: Principal, project_id: str, session_id: str, metadata: Any
) -> None:
    metadata = _object(metadata, "metadata") or {}
    sid = _id(session_id, "session_id")
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        row = (
            await conn.execute(
                select(SessionRow.custom_metadata).where(
                    SessionRow.id == sid, SessionRow.project_id == pid
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"session {session_id} not found")
        merged = {**(loads_or_none(row.custom_metadata) or {}), **metadata}
        await conn.execute(
            update(SessionRow)
            .where(SessionRow.id == sid)
            .values(custom_metadata=_json(merged, "metadata"))
        )


async def delete_session(
    db: Database, principal: Principal, project_id: str, session_id: str
) -> None:
    """Delete a session and its recordings; test run results they made stay."""
    sid = _id(session_id, "session_id")
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        deleted = await conn.execute(
            delete(SessionRow).where(SessionRow.id == sid, SessionRow.project_id == pid)
        )
        if deleted.rowcount == 0:
            raise NotFound(f"session {session_id} not found")


async def record_run_completion(
    conn: AsyncConnection,
    run: LockedRun,
    info: TestRunInfo,
    body: Mapping[str, Any],
    *,
    output: Any,
    judged: Mapping[str, Any],
    usage: Usage,
) -> str:
    """Record a completion the server made itself for a case of an executed run, in a write
    transaction holding ``run``: a recording in the run's session (whose id is the run's)
    and the case's result, exactly as a client's recording would make them. Its id is
    derived from the run, case and repetition, so doing it again replaces it."""
    recording_id = str(uuid.uuid5(uuid.UUID(run.id), f"{info.test_case_id}/{info.repetition}"))
    await _session(conn, run.project_id, run.id, None)
    await _save(conn, run.project_id, run.id, recording_id, RecordingKind.COMPLETION, body, info)
    await write_result(
        conn,
        run,
        NewResult(
            test_case_id=info.test_case_id,
            repetition=info.repetition,
            output=output,
            recording_id=recording_id,
            judged=judged,
            usage=usage,
        ),
        {},
    )
    return recording_id
