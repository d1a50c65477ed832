"""/metrics: off unless TESTRUNS_METRICS=1; then requests by route template and status with
their latencies, runs created, the database pool and open subscriptions, in Prometheus' format."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from app.db.engine import Database
from app.domain import keys, projects
from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client, completion_example

CREATE_RUN = """mutation ($input: CreateTestRunInput!) {
  createTestRun(input: $input) { testRun { id } }
}"""


@pytest.fixture
async def metered(settings: Settings, db: Database) -> AsyncIterator[Api]:
    """A project's client of an app serving /metrics."""
    app = create_app(settings.model_copy(update={"metrics": True}))
    project = await projects.create_project(db, "Metered")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    async with asgi_client(app) as client:
        yield Api(client, key, project.id)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_count(samples: dict, route: str, status: str, method: str = "GET") -> float:
    labels = (("method", method), ("route", route), ("status", status))
    return samples.get(("testruns_http_request_duration_seconds_count", labels), 0.0)


async def test_metrics_are_not_served_unless_turned_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 404


async def test_requests_are_counted_by_route_template_and_status(metered: Api) -> None:
    before = await scrape(metered.client)
    missing = f"/test-runs/id/{uuid.uuid4()}"
    for _ in range(3):
        assert (await metered.get(missing)).status_code == 404
    assert (await metered.client.get("/healthz")).status_code == 200
    assert (await metered.client.get("/vendor/no-such-file.js")).status_code == 404
    after = await scrape(metered.client)

    route = "/api/v2/projects/{project_id}/test-runs/id/{test_run_id}"
    assert requests_count(after, route, "404") - requests_count(before, route, "404") == 3
    assert requests_count(after, "/healthz", "200") - requests_count(before, "/healthz", "200") == 1
    assert (
        requests_count(after, "/vendor/{path}", "404")
        - requests_count(before, "/vendor/{path}", "404")
        == 1
    )
    # Latencies are a histogram per series, whose +Inf bucket holds every request.
    labels = (("le", "+Inf"), ("method", "GET"), ("route", route), ("status", "404"))
    assert after[("testruns_http_request_duration_seconds_bucket", labels)] == requests_count(
        after, route, "404"
    )
    assert after[("testruns_http_request_duration_seconds_sum", labels[1:])] > 0
    # Never a raw path: ids would make a series per run.
    assert not any(metered.project_id in str(labels) for _, labels in after)


async def test_runs_created_count_new_runs_from_both_apis_not_idempotent_repeats(
    metered: Api,
) -> None:
    await metered.dataset_with_cases("questions", [completion_example(i) for i in range(3)])
    before = await scrape(metered.client)

    once = {"Idempotency-Key": "run-1"}
    assert (
        await metered.post("/test-runs", {"dataset_name": "questions"}, once)
    ).status_code == 201
    assert (
        await metered.post("/test-runs", {"dataset_name": "questions"}, once)
    ).status_code == 201
    body = await metered.graphql(
        CREATE_RUN, {"input": {"projectId": metered.project_id, "datasetName": "questions"}}
    )
    assert body["data"]["createTestRun"]["testRun"]["id"]
    assert (await metered.create_run("no-such-dataset")).status_code == 404
    after = await scrape(metered.client)

    created = ("testruns_test_runs_created_total", ())
    assert after[created] - before[created] == 2


async def test_pool_connections_in_use_return_to_zero(metered: Api) -> None:
    for _ in range(5):
        assert (await metered.get("/test-runs")).status_code == 200
    samples = await scrape(metered.client)
    assert samples[("testruns_db_pool_checked_out", ())] == 0
    assert samples[("testruns_db_pool_size", ())] >= Settings().db_pool_size


async def test_open_subscriptions_gauge_follows_opened_and_closed(metered: Api) -> None:
    gauge = ("testruns_graphql_subscriptions_open", ())
    before = (await scrape(metered.client))[gauge]
    metrics.subscription_opened()
    metrics.subscription_opened()
    metrics.subscription_closed()
    assert (await scrape(metered.client))[gauge] == before + 1
    metrics.subscription_closed()
    assert (await scrape(metered.client))[gauge] == before
