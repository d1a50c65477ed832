"""Prometheus metrics, served at ``/metrics`` when ``TESTRUNS_METRICS=1``.

Off by default: then prometheus_client is not even imported and every function here returns
at once, so code anywhere may call them. What other code reports:

- ``test_run_created()``: the domain, once a new run is committed;
- ``subscription_opened()`` / ``subscription_closed()``: a GraphQL subscription starts / ends;
- ``observe_request(...)``: the request middleware, once per HTTP request;
- ``watch_pool(engine)``: the app, for its database pool.

With ``--workers N`` each process counts on its own; when ``PROMETHEUS_MULTIPROC_DIR`` names
an empty directory, every worker writes its numbers there and ``/metrics`` sums them all.
"""

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import QueuePool, event
from sqlalchemy.ext.asyncio import AsyncEngine

# Request latencies in seconds: from a cached read (~1 ms) to a 100,000-case answer (~1 s).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class _Metrics:
    requests: Any
    runs_created: Any
    subscriptions: Any
    pool_checked_out: Any
    pool_size: Any


_metrics: _Metrics | None = None


def enable() -> None:
    """Create the metrics of this process (once; later calls change nothing)."""
    global _metrics
    if _metrics is not None:
        return
    from prometheus_client import Counter, Gauge, Histogram

    _metrics = _Metrics(
        requests=Histogram(
            "testruns_http_request_duration_seconds",
            "HTTP requests by route template and status, and how long they took.",
            ["method", "route", "status"],
            buckets=BUCKETS,
        ),
        runs_created=Counter("testruns_test_runs_created", "Test runs created."),
        subscriptions=Gauge(
            "testruns_graphql_subscriptions_open",
            "GraphQL subscriptions open now.",
            multiprocess_mode="livesum",
        ),
        pool_checked_out=Gauge(
            "testruns_db_pool_checked_out",
            "Database connections in use now.",
            multiprocess_mode="livesum",
        ),
        pool_size=Gauge(
            "testruns_db_pool_size",
            "Database connections the pool keeps (it may open as many again on PostgreSQL).",
            multiprocess_mode="livesum",
        ),
    )


def enabled() -> bool:
    return _metrics is not None


# The histogram's series by (method, route, status): `labels()` costs more than `observe()`.
_request_series: dict[tuple[str, str, int], Any] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    if _metrics is None:
        return
    series = _request_series.get((method, route, status))
    if series is None:
        series = _metrics.requests.labels(method, route, str(status))
        _request_series[(method, route, status)] = series
    series.observe(seconds)


def test_run_created() -> None:
    if _metrics is not None:
        _metrics.runs_created.inc()


def subscription_opened() -> None:
    if _metrics is not None:
        _metrics.subscriptions.inc()


def subscription_closed() -> None:
    if _metrics is not None:
        _metrics.subscriptions.dec()


def watch_pool(engine: AsyncEngine) -> None:
    """Count the engine's connections in use as the pool hands them out and takes them back."""
    if _metrics is None:
        return
    metrics = _metrics
    metrics.pool_size.inc(_pool_size(engine))
    event.listen(engine.sync_engine, "checkout", lambda *_: metrics.pool_checked_out.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: metrics.pool_checked_out.dec())


def _pool_size(engine: AsyncEngine) -> int:
    pool = engine.sync_engine.pool
    # Both engines (app/db/engine.py) use a queue pool, the kind of pool that has a size.
    return pool.size() if isinstance(pool, QueuePool) else 0


def unwatch_pool(engine: AsyncEngine) -> None:
    """The engine is being disposed of: its pool no longer counts."""
    if _metrics is not None:
        _metrics.pool_size.dec(_pool_size(engine))


def render() -> tuple[bytes, str]:
    """The exposition text of every metric (of every worker, in multi-process mode)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exiting() -> None:
    """In multi-process mode, drop this process's live gauges from the sums."""
    if _metrics is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
