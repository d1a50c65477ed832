"""Idempotency-Key on creating test runs (REST header, GraphQL input field)."""

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, assert_problem, completion_example

CREATE = (
    """mutation($input: CreateTestRunInput!) { createTestRun(input: $input) { testRun { id } } }"""
)


async def runs_made(api: Api) -> int:
    return (await api.get("/test-runs")).json()["total"]


async def create(api: Api, key: str, **body: object) -> httpx.Response:
    return await api.post(
        "/test-runs",
        {"dataset_name": "qa", **body},
        headers={"Idempotency-Key": key},
    )


async def test_a_repeat_gets_the_first_response_and_makes_nothing(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])

    first = await create(api, "key-1", include_outputs=True)
    again = await create(api, "key-1", include_outputs=True)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await runs_made(api) == 1


async def test_the_quoted_form_of_the_key_is_the_same_key(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])

    plain = await create(api, "abc")
    quoted = await create(api, '"abc"')

    assert plain.json()["test_run_id"] == quoted.json()["test_run_id"]


async def test_the_same_key_with_another_body_is_422(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    await create(api, "key-1", test_run_name="first")

    reused = await create(api, "key-1", test_run_name="second")

    assert_problem(reused, 422, "idempotency_key_reused")
    assert await runs_made(api) == 1


async def test_twenty_concurrent_identical_requests_make_one_run(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(5)])

    answers = await asyncio.gather(*(create(api, "burst") for _ in range(20)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["test_run_id"] for a in answers}) == 1
    assert await runs_made(api) == 1


async def test_keys_belong_to_the_api_key_that_sent_them(api: Api, db: Database) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    _, second_key = await keys.create_key(db, admin=False, project_ids=[api.project_id])
    other = Api(api.client, second_key, api.project_id)

    mine = await create(api, "shared-key")
    theirs = await create(other, "shared-key")

    assert mine.json()["test_run_id"] != theirs.json()["test_run_id"]
    assert await runs_made(api) == 2


async def test_a_failed_request_does_not_use_up_its_key(api: Api) -> None:
    failed = await create(api, "early")
    await api.dataset_with_cases("qa", [completion_example(1)])
    retried = await create(api, "early")

    assert_problem(failed, 404, "not_found")
    assert retried.status_code == 201


async def test_keys_expire(api: Api, app: FastAPI) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    ttl = timedelta(seconds=app.state.db.settings.idempotency_ttl_seconds)
    start = app.state.db.clock()
    app.state.db.clock = lambda: start
    first = await create(api, "brief", test_run_name="one")
    app.state.db.clock = lambda: start + ttl - timedelta(seconds=1)
    repeat = await create(api, "brief", test_run_name="one")
    app.state.db.clock = lambda: start + ttl
    later = await create(api, "brief", test_run_name="two")

    assert first.status_code == repeat.status_code == later.status_code == 201
    assert repeat.json()["test_run_id"] == first.json()["test_run_id"]
    assert first.json()["test_run_id"] != later.json()["test_run_id"]


async def test_graphql_honours_idempotency_key(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    run_input = {"projectId": api.project_id, "datasetName": "qa", "idempotencyKey": "gql-1"}

    first = await api.graphql(CREATE, {"input": run_input})
    again = await api.graphql(CREATE, {"input": run_input})
    reused = await api.graphql(CREATE, {"input": {**run_input, "testRunName": "other"}})

    assert (
        first["data"]["createTestRun"]["testRun"]["id"]
        == again["data"]["createTestRun"]["testRun"]["id"]
    )
    assert reused["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await runs_made(api) == 1


async def test_an_unusable_key_is_422(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])

    assert_problem(await create(api, "x" * 300), 422, "invalid_input")
