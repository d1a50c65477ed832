"""/metrics of `testruns serve --workers 2` with PROMETHEUS_MULTIPROC_DIR: every worker's
requests and pool in one answer, whichever worker answers the scrape."""

import shutil
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.processes import serving


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_workers_share_one_view_of_the_metrics(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "testruns.db"
    shutil.copy(sqlite_template, database)
    (tmp_path / "metrics").mkdir()
    env = {
        "TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "TESTRUNS_METRICS": "1",
        "TESTRUNS_DB_POOL_SIZE": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    with serving(env, tmp_path, "--workers", "2") as (_, url):
        # Both workers are up when both pools count (3 connections each).
        deadline = time.monotonic() + 60
        while samples(url).get(("testruns_db_pool_size", ())) != 6:
            assert time.monotonic() < deadline, "the second worker did not start"
            time.sleep(0.1)
        for _ in range(20):
            with httpx.Client() as client:  # a new connection each: both workers answer
                assert client.get(f"{url}/healthz").status_code == 200
        labels = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
        for _ in range(5):  # the same sums whichever worker is asked
            seen = samples(url)
            assert seen[("testruns_http_request_duration_seconds_count", labels)] == 20
            assert seen[("testruns_db_pool_checked_out", ())] == 0
