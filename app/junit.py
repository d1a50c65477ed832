"""A run's results as JUnit XML, the test report format CI systems display.

One ``testcase`` per test case (and repetition) and evaluation: an ``error`` when the case
or that evaluation's judge failed, a ``failure`` when it scored worse than in the baseline
(with one) or failed a pass/fail evaluation (without one). A second suite holds one
testcase per evaluation: a ``failure`` when it regressed significantly against the baseline.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.domain.compare import Comparison, EvaluationDelta
from app.domain.execution import ExecutionState
from app.domain.result_export import ExportRow
from app.domain.test_runs import TestRun


@dataclass(frozen=True)
class _Case:
    name: str
    classname: str
    failure: str | None = None
    error: str | None = None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def describe(delta: EvaluationDelta) -> str:
    better = "higher" if delta.direction.value == "higher" else "lower"
    text = (
        f"{delta.name}: {_fmt(delta.base_mean)} -> {_fmt(delta.candidate_mean)}, mean delta "
        f"{_fmt(delta.mean_delta)} (95% CI {_fmt(delta.ci_low)} .. {_fmt(delta.ci_high)}), "
        f"{delta.wins} better, {delta.losses} worse, {delta.ties} same; {better} is better"
    )
    if delta.p_value is not None:
        text += f"; McNemar p = {delta.p_value:.3g}"
    return text


def report(
    run: TestRun,
    rows: Iterable[ExportRow],
    state: ExecutionState | None,
    comparison: Comparison | None,
) -> ET.ElementTree:
    """The JUnit document of ``run``: its export rows, its execution's errors, and the
    comparison with a baseline when there is one."""
    errors = {(e.test_case_id, e.repetition): e for e in (state.errors if state else [])}
    worse: dict[str, dict[str, str]] = {}
    if comparison is not None:
        for change in comparison.regressions:
            for score in change.changes:
                if score.gain < 0:
                    worse.setdefault(change.test_case_id, {})[score.name] = (
                        f"{score.name}: {score.base:g} in the baseline, {score.candidate:g} now"
                    )
    names: set[tuple[str, str]] = set()
    rows = list(rows)
    for row in rows:
        for source, scores in row.scores.items():
            names.update((source, name) for name in scores)
    for error in errors.values():
        names.update(("auto", name) for name in (error.evaluation_errors or {}))
    ordered = sorted(names)
    cases: list[_Case] = []
    for row in rows:
        key = (row.test_case_id, row.repetition or 0)
        failed = errors.get(key)
        label = row.test_case_id if not row.repetition else f"{row.test_case_id}#{row.repetition}"
        if row.repetition is None and failed is None and state is not None:
            cases.append(_Case(label, run.name, error="no result was recorded"))
            continue
        if failed is not None and failed.error:
            cases.append(_Case(label, run.name, error=failed.error))
            continue
        for source, name in ordered:
            value = row.scores.get(source, {}).get(name)
            judge_error = (failed.evaluation_errors or {}).get(name) if failed else None
            case = _Case(f"{label} {name}", f"{run.name}.{name}")
            if judge_error:
                case = _Case(case.name, case.classname, error=judge_error)
            elif name in worse.get(row.test_case_id, {}):
                case = _Case(case.name, case.classname, failure=worse[row.test_case_id][name])
            elif comparison is None and value is False:
                case = _Case(case.name, case.classname, failure=f"{name}: failed")
            cases.append(case)
    root = ET.Element("testsuites", name=run.name)
    root.append(_suite(run.name, cases))
    if comparison is not None:
        gate = [
            _Case(
                f"{e.source.value}.{e.name}",
                f"{run.name}.regression",
                failure=describe(e) if e.regressed else None,
            )
            for e in comparison.evaluations
        ]
        root.append(_suite(f"{run.name} vs {comparison.base.name}", gate))
    ET.indent(root)
    return ET.ElementTree(root)


def _suite(name: str, cases: list[_Case]) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.failure)),
        errors=str(sum(1 for c in cases if c.error)),
    )
    for case in cases:
        element = ET.SubElement(suite, "testcase", name=case.name, classname=case.classname)
        if case.error:
            ET.SubElement(element, "error", message=case.error[:500]).text = case.error
        elif case.failure:
            ET.SubElement(element, "failure", message=case.failure[:500]).text = case.failure
    return suite


def write(tree: ET.ElementTree, path: Path) -> None:
    tree.write(path, encoding="utf-8", xml_declaration=True)
