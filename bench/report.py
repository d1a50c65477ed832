"""The report: a table on stdout, the targets with PASS/FAIL, results.json and a chart."""

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.imports import ImportRun
from bench.measure import Concurrency, Memory, Series, Workers
from bench.subscribers import Subscribers


@dataclass(frozen=True)
class Target:
    name: str
    measured: float | None
    limit: float
    unit: str
    at_least: bool = False
    backend: str = ""  # the database it was measured on

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": None if self.measured is None else round(self.measured, 3),
            "limit": self.limit,
            "unit": self.unit,
            "comparison": ">=" if self.at_least else "<=",
            "verdict": self.verdict,
            "backend": self.backend,
        }


class Results:
    """Every series, found by surface and dataset size."""

    def __init__(self) -> None:
        self.series: list[Series] = []

    def extend(self, series: list[Series]) -> None:
        self.series.extend(series)

    def get(self, surface: str, n: int) -> Series | None:
        return next((s for s in self.series if s.surface == surface and s.n == n), None)

    def median(self, surface: str, n: int) -> float | None:
        found = self.get(surface, n)
        return None if found is None else found.median_ms

    def ratio(self, surface: str, n: int, other: str, other_n: int) -> float | None:
        top, bottom = self.median(surface, n), self.median(other, other_n)
        return None if top is None or bottom is None else top / bottom

    def sizes(self, surface: str) -> list[int]:
        return sorted(s.n for s in self.series if s.surface == surface)


# `testruns import` of the large realistic file over its floor (bench/import_floor.py): on
# SQLite parse and executemany one after the other; on PostgreSQL parse and a raw COPY.
IMPORT_FLOOR_LIMITS = {"sqlite": 1.1, "postgres": 1.5}


def targets(
    results: Results,
    concurrency: Concurrency,
    memory: Memory,
    imports: list[ImportRun],
    live: Subscribers,
    import_floor_limit: float = IMPORT_FLOOR_LIMITS["sqlite"],
) -> list[Target]:
    big = max(results.sizes("rest"))
    pages = results.sizes("page_read")[1:]
    small_file, large_file = imports[:2]
    return [
        Target(
            "REST 10,000 cases vs floor", results.ratio("rest", 10_000, "floor", 10_000), 1.3, "x"
        ),
        Target(
            "REST 100,000 cases vs floor",
            results.ratio("rest", 100_000, "floor", 100_000),
            1.5,
            "x",
        ),
        Target(
            "GraphQL id+values 1,000 cases vs REST 1,000",
            results.ratio("graphql_id_values", 1_000, "rest", 1_000),
            2.0,
            "x",
        ),
        Target(
            f"creation alone: {big:,} vs 100 cases",
            results.ratio("create_only", big, "create_only", 100),
            1.2,
            "x",
        ),
        Target(
            f"memory: a {memory.n:,}-case REST answer adds to RSS",
            memory.peak_over_rss_mb,
            250,
            "MB",
        ),
        Target(
            f"add one case: {big:,}-case vs 100-case dataset",
            results.ratio("add_one", big, "add_one", 100),
            2.0,
            "x",
        ),
        *(
            Target(
                f"dataset page read: {n:,}-case (deep page) vs 100-case first page",
                results.ratio("page_read", n, "page_read", 100),
                2.0,
                "x",
            )
            for n in pages
        ),
        Target(
            f"import of {large_file.n:,} realistic (~1 KB) cases from JSONL, whole process,"
            " vs its floor",
            large_file.floor_ratio,
            import_floor_limit,
            "x",
        ),
        Target(
            f"importer peak memory: {large_file.n:,}- vs {small_file.n:,}-case file",
            large_file.peak_rss_kb / small_file.peak_rss_kb,
            1.25,
            "x",
        ),
        Target(
            f"live updates: {live.n:,} open WebSocket subscribers add to RSS",
            live.added_mb,
            100,
            "MB",
        ),
        Target(
            f"live updates: one run update reaches all {live.n:,} subscribers, p99",
            live.p99_ms if live.missed == 0 else None,
            1000,
            "ms",
        ),
    ]


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(
    results: Results,
    concurrency: Concurrency,
    memory: Memory,
    body_bytes: dict[int, int],
    imports: list[ImportRun],
    live: Subscribers,
) -> str:
    header = (
        "cases",
        "repeats",
        "floor ms",
        "REST ms",
        "REST/floor",
        "GQL id+values ms",
        "GQL/REST",
        "GQL all fields ms",
        "create alone ms",
    )
    rows = [header]
    for n in results.sizes("rest"):
        rest = results.get("rest", n)
        rows.append(
            (
                f"{n:,}",
                str(len(rest.times_ms)) if rest else "-",
                _ms(results.median("floor", n)),
                _ms(results.median("rest", n)),
                _x(results.ratio("rest", n, "floor", n)),
                _ms(results.median("graphql_id_values", n)),
                _x(results.ratio("graphql_id_values", n, "rest", n)),
                _ms(results.median("graphql_all_fields", n)),
                _ms(results.median("create_only", n)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for series in results.series:
        if series.surface in ("graphql_walk", "page_read", "add_one"):
            what = {
                "graphql_walk": "GraphQL createTestRun + walk all pages",
                "page_read": "GraphQL dataset page read",
                "add_one": "REST add one case",
            }[series.surface]
            detail = f" ({series.detail})" if series.detail else ""
            lines.append(
                f"{what}{detail}, {series.n:,}-case dataset: {_ms(series.median_ms)} ms"
                f" (median of {len(series.times_ms)})"
            )
    lines.append(
        f"Concurrency: {concurrency.clients} clients x {concurrency.seconds:.1f} s, REST runs of"
        f" {concurrency.n} cases: {concurrency.throughput:,.0f} runs/s,"
        f" p50 {_ms(concurrency.p50_ms)} ms, p99 {_ms(concurrency.p99_ms)} ms,"
        f" {concurrency.runs:,} runs, {concurrency.errors} errors"
    )
    before, after = memory.before_kb, memory.after_kb
    lines.append(
        f"Memory: {memory.n:,}-case REST answer of {body_bytes[memory.n] / 2**20:,.0f} MB:"
        f" VmHWM {before['VmHWM'] / 1024:,.0f} -> {after['VmHWM'] / 1024:,.0f} MB"
        f" (+{memory.hwm_increase_mb:,.0f} MB); peak {memory.peak_over_rss_mb:,.0f} MB above"
        f" VmRSS before ({before['VmRSS'] / 1024:,.0f} MB); VmRSS after"
        f" {after['VmRSS'] / 1024:,.0f} MB"
    )
    for run in imports:
        kind = "small" if run.small else "realistic"
        lines.append(
            f"Import: testruns import of {run.n:,} {kind} cases ({run.file_bytes / 2**20:,.0f} MB"
            f" JSONL): {run.seconds:.2f} s, {run.rate:,.0f} cases/s ({run.wall_seconds:.2f} s"
            f" with start-up; floor {run.floor_seconds or 0:.2f} s, {_x(run.floor_ratio)});"
            f" importer peak RSS {run.peak_rss_kb / 1024:,.0f} MB"
        )
    lines.append(
        f"Live updates: {live.n:,} WebSocket subscribers to one run added"
        f" {live.added_mb:,.1f} MB to the server's RSS ({live.rss_before_kb / 1024:,.0f} ->"
        f" {live.rss_after_kb / 1024:,.0f} MB); an update reached them in p50"
        f" {_ms(live.p50_ms)} ms, p99 {_ms(live.p99_ms)} ms ({live.rounds} update(s),"
        f" {live.missed} missed)"
    )
    return "\n".join(lines)


def target_lines(found: list[Target]) -> str:
    lines = ["Targets:"]
    for target in found:
        sign = ">=" if target.at_least else "<="
        measured = (
            "not measured" if target.measured is None else f"{target.measured:,.2f} {target.unit}"
        )
        lines.append(
            f"  {target.verdict:4}  {target.name}: {measured}"
            f" (target {sign} {target.limit:g} {target.unit})"
        )
    failed = [t for t in found if t.passed is False]
    lines.append(
        f"{len(failed)} of {len(found)} targets FAILED: " + "; ".join(t.name for t in failed)
        if failed
        else "All measured targets pass."
    )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain")),
    }


def chart(by_backend: dict[str, Results], path: Path) -> None:
    """Time against cases, log-log: one panel per database, one line per surface and the
    floor."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    count = len(by_backend)
    figure, panels = pyplot.subplots(
        1, count, figsize=(9 * count, 6), dpi=120, sharey=True, squeeze=False
    )
    lines = (
        ("floor", "floor (database read + orjson)", "k--"),
        ("rest", "REST create test run", "o-"),
        ("graphql_id_values", "GraphQL createTestRun, id values", "s-"),
        ("graphql_all_fields", "GraphQL createTestRun, all fields", "^-"),
        ("create_only", "creation alone (GraphQL, testRun { id })", "d-"),
        ("graphql_walk", "GraphQL create + walk pages of 1,000 (id values)", "*"),
    )
    for axes, (label, results) in zip(panels[0], by_backend.items(), strict=True):
        for surface, name, style in lines:
            sizes = results.sizes(surface)
            if sizes:
                medians = [results.median(surface, n) for n in sizes]
                axes.plot(sizes, medians, style, label=name, markersize=8)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("test cases in the run")
        axes.set_ylabel("median time (ms)")
        axes.set_title(f"{label}: creating a test run, time vs cases")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle("testrun-gateway")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def request_targets(
    results: Results, concurrency: Concurrency, ceiling: Concurrency, workers: Workers
) -> list[Target]:
    """Small requests against ``/healthz`` with the same client, and throughput against the
    same clients on ``/healthz``: the server's own ceiling on this machine."""
    return [
        Target(
            "small read (GET test-runs?page_size=1) vs /healthz",
            results.ratio("small_read", 1, "healthz", 0),
            3.0,
            "x",
        ),
        Target(
            "GraphQL project { id name } vs /healthz",
            results.ratio("graphql_project", 1, "healthz", 0),
            3.0,
            "x",
        ),
        Target(
            f"REST create of a {concurrency.n}-case run vs /healthz",
            results.ratio("rest_small_create", concurrency.n, "healthz", 0),
            4.0,
            "x",
        ),
        Target(
            f"concurrency: {concurrency.clients} clients, runs/s vs /healthz requests/s",
            concurrency.throughput / ceiling.throughput * 100 if concurrency.errors == 0 else None,
            35,
            "%",
            at_least=True,
        ),
        Target(
            f"concurrency: {concurrency.clients} clients, p99 vs p50",
            concurrency.p99_ms / concurrency.p50_ms,
            3.0,
            "x",
        ),
        Target(
            f"serve --workers {workers.workers}, {workers.load.clients} clients"
            " creating runs: errors and lost writes",
            workers.load.errors + abs(workers.lost),
            0,
            "failures",
        ),
    ]


def request_lines(results: Results, ceiling: Concurrency, workers: Workers) -> str:
    """The small requests' medians and the throughput ceiling, for the table."""
    names = {
        "healthz": "/healthz",
        "small_read": "GET test-runs?page_size=1",
        "graphql_project": "GraphQL project { id name }",
        "rest_small_create": "REST create",
    }
    parts = [
        f"{name}{f' ({s.n} cases)' if surface == 'rest_small_create' else ''} {s.median_ms:,.2f} ms"
        for surface, name in names.items()
        if (s := next((x for x in results.series if x.surface == surface), None))
    ]
    healthz = results.get("healthz", 0)
    rounds = len(healthz.times_ms) if healthz else 0
    load = workers.load
    return "\n".join(
        [
            f"Small requests, one keep-alive client, interleaved (median of {rounds}): "
            + "; ".join(parts),
            f"Ceiling: {ceiling.clients} clients on /healthz x {ceiling.seconds:.1f} s:"
            f" {ceiling.throughput:,.0f} requests/s, p50 {_ms(ceiling.p50_ms)} ms,"
            f" p99 {_ms(ceiling.p99_ms)} ms, {ceiling.errors} errors",
            f"serve --workers {workers.workers}: {load.clients} clients creating"
            f" {load.n}-case runs x {load.seconds:.1f} s: {load.throughput:,.0f} runs/s,"
            f" {load.errors} errors; {workers.acknowledged:,} acknowledged,"
            f" {workers.counted:,} found afterwards",
        ]
    )
