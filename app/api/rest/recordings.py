"""The Freeplay SDK's recording calls: completions, traces, feedback and sessions.

Bodies are taken as the SDK sends them (every key, null when unset); the domain checks the
keys it uses and keeps the rest of the body with the recording.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from app.api.auth import database, principal
from app.api.rest.models import PROBLEMS, CompletionRecorded, TraceRecorded
from app.db.engine import Database
from app.domain import recordings
from app.domain.keys import Principal
from app.domain.recordings import RecordingKind

router = APIRouter(prefix="/api/v2/projects/{project_id}", tags=["recordings"], responses=PROBLEMS)

RecordingBody = Annotated[
    dict[str, Any],
    Body(
        description="As the Freeplay SDK sends it. With test_run_info {test_run_id, "
        "test_case_id} it is that case's result in that run; eval_results are client scores."
    ),
]


class Recorded(BaseModel):
    message: str


@router.post(
    "/sessions/{session_id}/completions",
    status_code=201,
    response_model=CompletionRecorded,
    summary="Record a completion",
)
async def record_completion(
    project_id: str,
    session_id: str,
    body: RecordingBody,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> CompletionRecorded:
    completion_id = await recordings.record_completion(db, caller, project_id, session_id, body)
    return CompletionRecorded(completion_id=completion_id)


@router.post(
    "/completions/{completion_id}",
    status_code=201,
    response_model=CompletionRecorded,
    summary="Add messages or eval results to a recorded completion",
)
async def update_completion(
    project_id: str,
    completion_id: str,
    body: RecordingBody,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> CompletionRecorded:
    updated = await recordings.update_recording(
        db,
        caller,
        project_id,
        completion_id,
        RecordingKind.COMPLETION,
        new_messages=body.get("new_messages"),
        eval_results=body.get("eval_results"),
    )
    return CompletionRecorded(completion_id=updated)


@router.post(
    "/sessions/{session_id}/traces/id/{trace_id}",
    status_code=201,
    response_model=TraceRecorded,
    summary="Record a trace",
)
async def record_trace(
    project_id: str,
    session_id: str,
    trace_id: str,
    body: RecordingBody,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> TraceRecorded:
    await recordings.record_trace(db, caller, project_id, session_id, trace_id, body)
    return TraceRecorded(trace_id=trace_id)


@router.patch(
    "/sessions/{session_id}/traces/id/{trace_id}",
    response_model=TraceRecorded,
    summary="Update a recorded trace",
)
async def update_trace(
    project_id: str,
    session_id: str,
    trace_id: str,
    body: RecordingBody,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> TraceRecorded:
    updated = await recordings.update_recording(
        db,
        caller,
        project_id,
        trace_id,
        RecordingKind.TRACE,
        output=body.get("output"),
        eval_results=body.get("eval_results"),
        feedback=body.get("feedback"),
        metadata=body.get("metadata"),
        info=body.get("test_run_info"),
    )
    return TraceRecorded(trace_id=updated)


Feedback = Annotated[
    dict[str, Any],
    Body(description="name: value. Names of human evaluations become their scores."),
]


@router.post(
    "/completion-feedback/id/{completion_id}",
    status_code=201,
    response_model=Recorded,
    summary="Feedback on a recorded completion",
)
async def completion_feedback(
    project_id: str,
    completion_id: str,
    feedback: Feedback,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Recorded:
    await recordings.update_recording(
        db, caller, project_id, completion_id, RecordingKind.COMPLETION, feedback=feedback
    )
    return Recorded(message="feedback recorded")


@router.post(
    "/trace-feedback/id/{trace_id}",
    status_code=201,
    response_model=Recorded,
    summary="Feedback on a recorded trace",
)
async def trace_feedback(
    project_id: str,
    trace_id: str,
    feedback: Feedback,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Recorded:
    await recordings.update_recording(
        db, caller, project_id, trace_id, RecordingKind.TRACE, feedback=feedback
    )
    return Recorded(message="feedback recorded")


Metadata = Annotated[dict[str, Any], Body(description="Keys to set; others stay.")]


@router.patch(
    "/sessions/id/{session_id}/metadata",
    response_model=Recorded,
    summary="Update a session's metadata",
)
async def session_metadata(
    project_id: str,
    session_id: str,
    metadata: Metadata,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Recorded:
    await recordings.update_session_metadata(db, caller, project_id, session_id, metadata)
    return Recorded(message="metadata updated")


@router.patch(
    "/sessions/{session_id}/traces/id/{trace_id}/metadata",
    response_model=Recorded,
    summary="Update a trace's metadata",
)
async def trace_metadata(
    project_id: str,
    session_id: str,
    trace_id: str,
    metadata: Metadata,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Recorded:
    await recordings.update_recording(
        db, caller, project_id, trace_id, RecordingKind.TRACE, metadata=metadata
    )
    return Recorded(message="metadata updated")


@router.delete(
    "/sessions/{session_id}",
    status_code=201,
    response_model=Recorded,
    summary="Delete a session and its recordings (201, as the SDK expects)",
)
async def delete_session(
    project_id: str,
    session_id: str,
    db: Database = Depends(database),
    caller: Principal = Depends(principal),
) -> Recorded:
    await recordings.delete_session(db, caller, project_id, session_id)
    return Recorded(message="session deleted")
