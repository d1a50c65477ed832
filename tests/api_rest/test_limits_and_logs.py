"""Request limits, errors that never leak, and the access log."""

import logging
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import text

from app.db.engine import Database
from app.main import create_app
from app.settings import Settings
from tests.support import Api, assert_problem, completion_example, served_by


@pytest.fixture
async def small_api(api: Api, settings: Settings) -> AsyncIterator[Api]:
    """The same project and key, on an app that takes bodies of at most 2 kB."""
    app = create_app(settings.model_copy(update={"max_body_bytes": 2_000}))
    async with served_by(app, api) as served:
        yield served


async def test_a_declared_body_over_the_limit_is_413_before_it_is_read(small_api: Api) -> None:
    response = await small_api.post("/prompt-datasets", {"name": "x" * 5_000})

    assert_problem(response, 413, "payload_too_large")


async def test_a_streamed_body_over_the_limit_is_413(small_api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = await small_api.client.post(
        small_api.url("/prompt-datasets"),
        content=chunks(),
        headers={**small_api.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 413, "payload_too_large")
    assert (await small_api.get("/datasets")).json()["total"] == 0


async def test_unexpected_errors_reach_clients_only_as_internal_error_with_an_id(
    api: Api, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with db.write() as conn:  # break the database under the running app
        await conn.execute(text("ALTER TABLE flavors RENAME TO flavors_elsewhere"))
    try:
        with caplog.at_level(logging.ERROR, logger="testruns.errors"):
            rest = await api.get("/flavors")
            graphql = await api.graphql(
                "query($id: ID!) { project(id: $id) { flavors { name } } }", {"id": api.project_id}
            )
    finally:
        async with db.write() as conn:
            await conn.execute(text("ALTER TABLE flavors_elsewhere RENAME TO flavors"))

    body = assert_problem(rest, 500, "internal_error")
    request_id = rest.headers["x-request-id"]
    assert request_id in body["detail"]
    [error] = graphql["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["extensions"]["requestId"] in error["message"]
    for leaked in ("flavors", "sql", "Traceback", "relation", "table"):
        assert leaked not in rest.text.lower().replace("internal_error", "")
        assert leaked not in orjson.dumps([error["message"], error["extensions"]]).decode().lower()
    logged = [r for r in caplog.records if r.exc_info]
    assert any(request_id in r.getMessage() for r in logged)
    assert any(error["extensions"]["requestId"] in r.getMessage() for r in logged)


async def test_validation_errors_keep_their_useful_messages(api: Api) -> None:
    response = await api.post("/test-runs", {"dataset_name": 3})

    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"][0]["loc"] == ["dataset_name"]
    assert "string" in body["errors"][0]["msg"].lower()


async def test_one_json_access_line_per_request_without_keys_or_bodies(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="testruns.access"):
        created = await api.post(
            "/test-runs", {"dataset_name": "qa", "test_run_description": "secret-body-text"}
        )
        await api.graphql("query Mine { projects { id } }")
        await api.client.get("/healthz")

    lines = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "testruns.access"]
    assert len(lines) == 3
    rest, graphql, health = lines
    assert rest["route"] == "/api/v2/projects/{project_id}/test-runs"
    assert rest["project"] == api.project_id
    assert rest["status"] == 201
    assert rest["method"] == "POST"
    assert rest["request_id"] == created.headers["x-request-id"]
    assert rest["duration_ms"] >= 0
    assert graphql["operation"] == "query Mine"
    assert health["route"] == "/healthz"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert api.key not in logged
    assert api.key[:20] not in logged
    assert "secret-body-text" not in logged


async def test_a_request_id_sent_by_the_client_is_kept(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": "trace-123"})

    assert response.headers["x-request-id"] == "trace-123"
