"""`testruns run`, the CI gate: a server-side run compared with a baseline, with a JUnit
report, run as CI runs it (a subprocess against the database)."""

import asyncio
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.db.engine import Database
from app.domain import projects
from tests.fake_llm import FakeLLM
from tests.runner.conftest import SLOPPY, add_dataset, add_prompt, case

TESTRUNS = str(Path(sys.executable).parent / "testruns")


async def run_cli(database_url: str, *args: str, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        TESTRUNS,
        *args,
        cwd=cwd,
        env={**os.environ, "TESTRUNS_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def project_id(db: Database) -> str:
    return (await projects.create_project(db, "Gate")).id


async def test_the_gate_passes_an_equal_prompt_and_fails_a_worse_one(
    db: Database, database_url: str, project_id: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    case_ids = await add_dataset(db, project_id, [case(i) for i in range(12)])
    good = await add_prompt(
        db,
        project_id,
        fake_llm,
        judges=(("helpful", "1-5", "judge-fraction"), ("on_topic", "yes-no", "judge-yesno")),
    )
    same = await add_prompt(db, project_id, fake_llm)  # a new version, same messages
    worse = await add_prompt(db, project_id, fake_llm, system=SLOPPY)
    common = ("--project", project_id, "--dataset", "qa")

    status, out, err = await run_cli(
        database_url, "run", *common, "--prompt-version", good, cwd=tmp_path
    )
    assert status == 0, err
    baseline = out.strip().splitlines()[-1]
    assert "12/12 done: 12 completed, 0 errored, 0 pending" in err

    gate = ("--baseline", baseline, "--fail-on-regression")
    status, out, err = await run_cli(
        database_url,
        "run",
        *common,
        "--prompt-version",
        same,
        *gate,
        "--junit",
        str(tmp_path / "same.xml"),
        cwd=tmp_path,
    )
    assert status == 0, err
    assert "[ok] helpful" in out
    same_report = ET.parse(tmp_path / "same.xml").getroot()
    assert [int(s.get("failures", "-1")) for s in same_report.iter("testsuite")] == [0, 0]

    status, out, err = await run_cli(
        database_url,
        "run",
        *common,
        "--prompt-version",
        worse,
        *gate,
        "--junit",
        str(tmp_path / "worse.xml"),
        cwd=tmp_path,
    )
    assert status == 1, err
    assert "[REGRESSED] helpful" in out
    assert "[REGRESSED] on_topic" in out
    assert "Regression against" in err

    suites = list(ET.parse(tmp_path / "worse.xml").getroot().iter("testsuite"))
    cases, verdicts = suites
    testcases = cases.findall("testcase")
    assert len(testcases) == 24  # 12 cases, 2 evaluations each
    assert {t.get("name").split()[0] for t in testcases} == set(case_ids)
    assert all(t.find("failure") is not None for t in testcases)
    assert cases.get("failures") == "24"
    assert "5 in the baseline, 1 now" in testcases[0].find("failure").get("message")
    assert {t.get("name"): t.find("failure") is not None for t in verdicts} == {
        "auto.helpful": True,
        "auto.on_topic": True,
    }

    # Without --fail-on-regression it only reports.
    status, _, err = await run_cli(
        database_url,
        "run",
        *common,
        "--prompt-version",
        worse,
        "--baseline",
        baseline,
        cwd=tmp_path,
    )
    assert status == 0, err


async def test_the_gate_reports_errored_cases_in_junit(
    db: Database, database_url: str, project_id: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    await add_dataset(db, project_id, [case(i) for i in range(3)])
    version = await add_prompt(db, project_id, fake_llm)
    fake_llm.fail("question 1", "400", message="This model does not exist.")

    status, _, err = await run_cli(
        database_url,
        "run",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--prompt-version",
        version,
        "--junit",
        str(tmp_path / "r.xml"),
        cwd=tmp_path,
    )

    assert status == 0, err
    assert "3/3 done: 2 completed, 1 errored" in err
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    errors = [t.find("error") for t in suite.findall("testcase") if t.find("error") is not None]
    assert len(errors) == 1
    assert "This model does not exist." in errors[0].get("message")


async def test_a_missing_variable_fails_the_gate_before_any_call(
    db: Database, database_url: str, project_id: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    await add_dataset(db, project_id, [case(0), {**case(1), "inputs": {"question": "?"}}])
    version = await add_prompt(db, project_id, fake_llm)

    status, _, err = await run_cli(
        database_url,
        "run",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--prompt-version",
        version,
        cwd=tmp_path,
    )

    assert status == 1
    assert "missing template variables: product" in err
    assert fake_llm.seen() == []
