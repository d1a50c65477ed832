"""Live updates of a test run to real clients: the graphql-ws client over a WebSocket and an
httpx stream of Server-Sent Events, on a real server, and across two replicas on PostgreSQL
(subscribed on one process, recorded on another)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.db.engine import Database
from app.domain import datasets, keys, projects, result_recording, test_cases, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR
from app.domain.test_runs import NewTestRun
from tests.e2e.test_replicas import replicas  # noqa: F401 (real `testruns serve` processes)
from tests.support import run_node

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
WATCH = "subscription Watch($id: ID!) { testRun(id: $id) { id status progress { done total } } }"


@dataclass
class Run:
    project_id: str
    key: str
    run_id: str
    case_ids: list[str]


async def make_run(db: Database, cases: int = 3, name: str = "Live") -> Run:
    project = await projects.create_project(db, name)
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("cases", TestCaseType.COMPLETION)
    )
    added = await test_cases.add_test_cases(
        db, OPERATOR, project.id, dataset.id, [{"inputs": {"i": i}} for i in range(cases)]
    )
    run = await test_runs.create_test_run(db, OPERATOR, project.id, NewTestRun("cases"))
    return Run(project.id, key, run.id, list(added.case_ids))


def watch(url: str, run: Run, **more: object) -> dict:
    options = {"url": url, "key": run.key, "runId": run.run_id, **more}
    return run_node("subscribe_run.mjs", orjson.dumps(options).decode(), timeout=60)


def assert_watched_to_completion(outcome: dict, run: Run) -> None:
    assert outcome["errors"] is None, outcome
    assert outcome["closed"] is None, outcome
    assert outcome["complete"] is True
    updates = [u["testRun"] for u in outcome["updates"]]
    total = len(run.case_ids)
    assert updates[0] == {
        "id": run.run_id,
        "status": "CREATED",
        "progress": {"done": 0, "total": total},
    }
    assert updates[-1]["status"] == "COMPLETED"
    assert updates[-1]["progress"] == {"done": total, "total": total}
    done = [u["progress"]["done"] for u in updates]
    assert done == sorted(done), "progress never goes back"
    assert [u["status"] for u in updates].count("COMPLETED") == 1, "nothing after COMPLETED"


async def test_graphql_ws_client_follows_a_run_to_completed_while_results_are_recorded(
    db: Database, live_url: str
) -> None:
    run = await make_run(db)

    outcome = watch(
        live_url,
        run,
        record={"url": live_url, "projectId": run.project_id, "caseIds": run.case_ids},
    )

    assert_watched_to_completion(outcome, run)


async def test_updates_reach_a_subscriber_on_another_replica(
    db: Database,
    replicas: list[str],  # noqa: F811
) -> None:
    run = await make_run(db, cases=4)
    subscribed_on, recorded_on = replicas[0], replicas[-1]

    outcome = watch(
        subscribed_on,
        run,
        record={"url": recorded_on, "projectId": run.project_id, "caseIds": run.case_ids},
    )

    assert_watched_to_completion(outcome, run)


def sse_events(lines: list[str]) -> list[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream, comments (heartbeats) left out."""
    events, event, data = [], None, []
    for line in lines:
        if line == "":
            if event is not None:
                events.append((event, "\n".join(data)))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    return events


async def test_server_sent_events_carry_each_update_then_complete(
    db: Database, live_url: str
) -> None:
    run = await make_run(db)
    headers = {"Authorization": f"Bearer {run.key}", "Accept": "text/event-stream"}
    body = {"query": WATCH, "variables": {"id": run.run_id}}
    lines: list[str] = []
    async with (
        httpx.AsyncClient(base_url=live_url, timeout=30) as http,
        http.stream("POST", "/graphql", json=body, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            lines.append(line)
            if line == "" and len(sse_events(lines)) == 1:  # the run as it is: record now
                for i, case_id in enumerate(run.case_ids):
                    response = await http.post(
                        f"/api/v2/projects/{run.project_id}/sessions/{uuid.uuid4()}/completions",
                        json={
                            "messages": [{"role": "assistant", "content": f"answer {i}"}],
                            "test_run_info": {"test_run_id": run.run_id, "test_case_id": case_id},
                        },
                        headers={"Authorization": f"Bearer {run.key}"},
                    )
                    assert response.status_code == 201, response.text

    events = sse_events(lines)
    assert [name for name, _ in events[:-1]] == ["next"] * (len(events) - 1)
    assert events[-1] == ("complete", "")
    updates = [orjson.loads(data)["data"]["testRun"] for _, data in events[:-1]]
    assert updates[0]["progress"] == {"done": 0, "total": 3}
    assert updates[-1]["status"] == "COMPLETED"
    assert updates[-1]["progress"] == {"done": 3, "total": 3}


async def test_server_sent_events_over_get_with_the_query_in_the_url(
    db: Database, live_url: str
) -> None:
    run = await make_run(db, cases=1)
    await complete(db, run)
    params = {"query": WATCH, "variables": orjson.dumps({"id": run.run_id}).decode()}
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        response = await http.get(
            "/graphql",
            params=params,
            headers={"Authorization": f"Bearer {run.key}", "Accept": "text/event-stream"},
        )
        anonymous = await http.get(
            "/graphql", params=params, headers={"Accept": "text/event-stream"}
        )

    events = sse_events(response.text.splitlines())
    assert [name for name, _ in events] == ["next", "complete"]
    assert orjson.loads(events[0][1])["data"]["testRun"]["status"] == "COMPLETED"
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def complete(db: Database, run: Run) -> None:
    await result_recording.complete_run(db, OPERATOR, run.run_id)


async def test_websocket_without_a_valid_key_is_closed_forbidden(
    db: Database, live_url: str
) -> None:
    run = await make_run(db, cases=1)

    no_key = watch(live_url, run, key=None)
    wrong_key = watch(live_url, run, connectionParams={"Authorization": "Bearer trk_nope"})
    not_bearer = watch(live_url, run, connectionParams={"Authorization": run.key})

    for outcome in (no_key, wrong_key, not_bearer):
        assert outcome["closed"] == {"code": 4403, "reason": "Forbidden"}, outcome
        assert outcome["updates"] == []


async def test_websocket_subscription_to_a_run_the_key_may_not_see_is_not_found(
    db: Database, live_url: str
) -> None:
    run = await make_run(db, cases=1)
    other = await make_run(db, cases=1, name="Other")

    theirs = watch(live_url, run, key=other.key)
    missing = watch(live_url, run, runId=str(uuid.uuid4()))

    for outcome in (theirs, missing):
        assert outcome["updates"] == []
        assert outcome["closed"] is None
        assert [e["extensions"]["code"] for e in outcome["errors"]] == ["NOT_FOUND"]


async def test_a_websocket_that_never_initialises_is_closed_and_a_ping_gets_a_pong(
    live_url_factory: Callable[..., str],
) -> None:
    url = live_url_factory(subscription_init_timeout_seconds=0.2).replace("http", "ws")

    async with connect(f"{url}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as idle:
        with pytest.raises(ConnectionClosed) as closed:
            await idle.recv()
    async with connect(f"{url}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as talking:
        await talking.send('{"type": "ping"}')
        pong = orjson.loads(await talking.recv())

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4408,
        "Connection initialisation timeout",
    )
    assert pong == {"type": "pong"}
