"""The testRun subscription over Server-Sent Events: who may subscribe, how many at once,
errors, and how a burst of changes is coalesced (with a clock the test moves)."""

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.db.notifications import Notifier
from app.settings import Settings
from tests.support import Api, completion_example, record

WATCH = "subscription($id: ID!) { testRun(id: $id) { id status progress { done total } } }"
PER_KEY = 2
PER_PROCESS = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        subscriptions_per_key=PER_KEY,
        subscriptions_per_process=PER_PROCESS,
    )


class ManualClock:
    """Time stands still until the test moves it."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.time + seconds, woken))
        await woken

    def advance(self, seconds: float) -> None:
        self.time += seconds
        for deadline, woken in list(self.sleepers):
            if deadline <= self.time:
                self.sleepers.remove((deadline, woken))
                woken.set_result(None)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (briefly, on the event loop) for something the server does concurrently."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting until {what}")


def parse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.split("\r\n\r\n"):
        fields = dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            for line in block.splitlines()
            if line and not line.startswith(":")
        )
        if "event" in fields:
            data = fields.get("data", "")
            events.append((fields["event"], orjson.loads(data) if data else None))
    return events


async def subscribe(
    client: httpx.AsyncClient, key: str | None, run_id: str
) -> tuple[httpx.Response, list[tuple[str, Any]]]:
    """One SSE subscription, read to its end."""
    headers = {"Accept": "text/event-stream"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    response = await client.post(
        "/graphql", json={"query": WATCH, "variables": {"id": run_id}}, headers=headers
    )
    events = parse_events(response.text) if response.status_code == 200 else []
    return response, events


async def new_run(api: Api, n: int = 3) -> tuple[str, list[str]]:
    if (await api.get("/datasets/name/qa")).status_code == 404:
        await api.dataset_with_cases("qa", [completion_example(i) for i in range(n)])
    run = (await api.create_run("qa")).json()
    return run["test_run_id"], [c["id"] for c in run["test_cases"]]


def notifier(app: FastAPI) -> Notifier:
    return app.state.db.notifier


async def complete(api: Api, run_id: str) -> None:
    body = await api.graphql(
        "mutation($input: CompleteTestRunInput!) { completeTestRun(input: $input) { testRun { status } } }",
        {"input": {"testRunId": run_id}},
    )
    assert "errors" not in body, body


def first_error(events: list[tuple[str, Any]]) -> dict[str, Any]:
    assert [name for name, _ in events] == ["next", "complete"], events
    payload = events[0][1]
    assert payload["data"] is None
    return payload["errors"][0]


async def test_a_completed_run_is_sent_once_and_the_stream_completes(api: Api) -> None:
    run_id, _ = await new_run(api)
    await complete(api, run_id)

    response, events = await subscribe(api.client, api.key, run_id)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events == [
        (
            "next",
            {
                "data": {
                    "testRun": {
                        "id": run_id,
                        "status": "COMPLETED",
                        "progress": {"done": 0, "total": 3},
                    }
                }
            },
        ),
        ("complete", None),
    ]


async def test_no_key_or_a_wrong_key_is_refused(api: Api) -> None:
    run_id, _ = await new_run(api)

    for key in (None, "trk_nope"):
        response, _ = await subscribe(api.client, key, run_id)

        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_another_projects_run_and_a_missing_run_are_not_found(
    api: Api, other_api: Api
) -> None:
    run_id, _ = await new_run(api)

    _, theirs = await subscribe(api.client, other_api.key, run_id)
    _, missing = await subscribe(api.client, api.key, str(uuid.uuid4()))
    _, garbage = await subscribe(api.client, api.key, "not-an-id")

    for events in (theirs, missing, garbage):
        assert first_error(events)["extensions"]["code"] == "NOT_FOUND"


async def open_subscriptions(
    app: FastAPI, client: httpx.AsyncClient, keys: list[str], run_id: str
) -> list[asyncio.Task[tuple[httpx.Response, list[tuple[str, Any]]]]]:
    """Subscriptions left open (the run is not completed); returns once all are counted."""
    expected = notifier(app).count + len(keys)
    tasks = [asyncio.create_task(subscribe(client, key, run_id)) for key in keys]
    await until(lambda: notifier(app).count == expected, f"{expected} subscriptions are open")
    return tasks


async def test_subscriptions_per_key_are_capped(app: FastAPI, api: Api, other_api: Api) -> None:
    run_id, _ = await new_run(api)
    theirs, _ = await new_run(other_api)
    await complete(other_api, theirs)
    tasks = await open_subscriptions(app, api.client, [api.key] * PER_KEY, run_id)

    _, refused = await subscribe(api.client, api.key, run_id)
    _, other_key = await subscribe(api.client, other_api.key, theirs)  # another key has room
    await complete(api, run_id)
    ended = await asyncio.gather(*tasks)

    error = first_error(refused)
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert f"limit of {PER_KEY}" in error["message"]
    assert other_key[0][1]["data"]["testRun"]["status"] == "COMPLETED"
    for _, events in ended:  # the open ones went on to the end
        assert events[-2][1]["data"]["testRun"]["status"] == "COMPLETED"
        assert events[-1] == ("complete", None)
    assert notifier(app).count == 0
    _, again = await subscribe(api.client, api.key, run_id)  # room again
    assert again[0][1]["data"]["testRun"]["status"] == "COMPLETED"


async def test_subscriptions_per_process_are_capped(app: FastAPI, api: Api, other_api: Api) -> None:
    run_id, _ = await new_run(api)
    theirs, _ = await new_run(other_api)
    tasks = await open_subscriptions(app, api.client, [api.key] * PER_KEY, run_id)
    tasks += await open_subscriptions(app, api.client, [other_api.key], theirs)

    _, refused = await subscribe(api.client, other_api.key, theirs)
    await complete(api, run_id)
    await complete(other_api, theirs)
    await asyncio.gather(*tasks)

    error = first_error(refused)
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert f"limit of {PER_PROCESS}" in error["message"]


async def test_a_burst_of_recordings_is_coalesced_into_one_update(app: FastAPI, api: Api) -> None:
    clock = ManualClock()
    notifier(app).clock = clock
    cases = 20
    run_id, case_ids = await new_run(api, cases)
    watching = asyncio.create_task(subscribe(api.client, api.key, run_id))
    await until(lambda: notifier(app).count == 1, "the subscription is open")

    for i, case_id in enumerate(case_ids):
        assert "errors" not in await record(api, run_id, case_id, output=f"answer {i}")
    await until(lambda: bool(clock.sleepers), "the subscription waits to send the next update")
    assert [deadline for deadline, _ in clock.sleepers] == [0.25]  # the interval after the first
    clock.advance(0.25)
    _, events = await watching

    updates = [payload["data"]["testRun"] for name, payload in events if name == "next"]
    assert len(updates) == 2  # the run as it was, then once after the burst of 20
    assert updates[-1] == {
        "id": run_id,
        "status": "COMPLETED",
        "progress": {"done": cases, "total": cases},
    }
    assert events[-1] == ("complete", None)
