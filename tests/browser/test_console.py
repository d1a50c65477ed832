"""The console in a real browser: from the API key to a run's results, a 10,000-case dataset a
page at a time, comparing two runs, and errors shown in the banner."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page, expect

from app.db.engine import Database
from app.domain import (
    datasets,
    evaluations,
    keys,
    projects,
    result_recording,
    test_cases,
    test_runs,
)
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR
from app.domain.pagination import Window
from app.domain.results import NewResult
from app.domain.test_runs import NewTestRun
from tests.browser.conftest import Watched
from tests.support import completion_example, trace_example

RED = "rgb(180, 35, 24)"


@dataclass
class Project:
    id: str
    key: str
    helpfulness: str  # an auto, numeric evaluation


async def make_project(db: Database) -> Project:
    project = await projects.create_project(db, "Console project")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    helpfulness = await evaluations.create_evaluation(
        db,
        OPERATOR,
        project.id,
        evaluations.NewEvaluation("helpfulness", evaluations.EvaluationKind.NUMERIC),
    )
    await evaluations.create_flavor(db, OPERATOR, project.id, "small-model", {"model": "m"})
    return Project(project.id, key, helpfulness.id)


async def make_dataset(
    db: Database, project: Project, name: str, kind: TestCaseType, cases: list[Any]
) -> str:
    dataset = await datasets.create_dataset(db, OPERATOR, project.id, NewDataset(name, kind))
    await test_cases.import_cases(db, OPERATOR, project.id, dataset.id, enumerate(cases, 1))
    return dataset.id


async def record_all(
    db: Database, project: Project, run_id: str, helpfulness: list[int], prefix: str
) -> None:
    run = await test_runs.get_test_run(db, OPERATOR, run_id)
    page = await test_runs.run_case_page(db, run, window=Window(run.case_count))
    for i, case in enumerate(page.items):
        await result_recording.record_result(
            db,
            OPERATOR,
            run_id,
            NewResult(
                case.id,
                output=f"{prefix} answer {i}",
                eval_results={"concise": i % 2 == 0},
                scores={project.helpfulness: helpfulness[i]},
            ),
        )


async def use_key(page: Page, key: str) -> None:
    """The key as the console keeps it, set before any of its scripts runs."""
    await page.add_init_script(f"localStorage.setItem('testruns.apiKey', {json.dumps(key)})")


async def test_console_creates_a_run_and_shows_its_cases_progress_results_and_summary(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    project = await make_project(db)
    cases = [completion_example(i) for i in range(3)]
    await make_dataset(db, project, "support", TestCaseType.COMPLETION, cases)
    await make_dataset(db, project, "agent", TestCaseType.TRACE, [trace_example(0)])
    page = browser_page.page

    await page.goto(live_url)
    await page.get_by_placeholder("trk_…").fill(project.key)
    await page.get_by_role("button", name="Use this key").click()
    await page.get_by_role("link", name="Console project").click()
    await page.get_by_role("link", name="agent").click()
    await expect(page.locator(".case.trace")).to_have_count(1)
    await expect(page.locator(".case.trace")).to_contain_text('"task":"task 0"')
    await page.go_back()
    await page.get_by_role("link", name="support").click()
    await expect(page.locator(".case.completion")).to_have_count(3)
    await page.get_by_label("Name").fill("console run")
    await page.get_by_label("Description").fill("made in the browser")
    await page.get_by_label("Flavor").select_option("small-model")
    await page.get_by_label("helpfulness").check()
    await page.get_by_role("button", name="Create test run").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("console run")
    await expect(page.locator(".run-progress")).to_contain_text("0 / 3")
    await expect(page.locator(".case.completion")).to_have_count(3)
    await expect(page.locator(".case.completion").first).to_contain_text("question 0")
    run_id = page.url.rsplit("/", 1)[1]
    run = await test_runs.get_test_run(db, OPERATOR, run_id)
    assert (run.name, run.description, run.flavor_name) == (
        "console run",
        "made in the browser",
        "small-model",
    )
    assert (run.target_evaluation_ids, run.include_outputs) == ((project.helpfulness,), True)

    # Results recorded elsewhere show up while the page watches the run.
    await record_all(db, project, run_id, [5, 4, 3], "model")
    await expect(page.locator(".badge.status-completed")).to_be_visible()
    await expect(page.locator(".run-progress")).to_contain_text("3 / 3")
    summary = page.locator("table.summary")
    await expect(summary.locator("tr", has_text="helpfulness")).to_contain_text("4")
    await expect(summary.locator("tr", has_text="concise")).to_contain_text("66.7%")
    await expect(page.locator("table.results tbody tr")).to_have_count(3)
    await expect(page.locator("table.results")).to_contain_text("model answer 2")
    await browser_page.screenshot("console-run")

    await page.reload()  # the key is kept in the browser
    await expect(page.locator("table.summary")).to_contain_text("helpfulness")


async def test_console_pages_through_10000_cases_fifty_at_a_time(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    project = await make_project(db)
    big = [trace_example(i) for i in range(10_000)]
    dataset_id = await make_dataset(db, project, "big", TestCaseType.TRACE, big)
    page = browser_page.page
    asked: list[int] = []
    page.on(
        "request",
        lambda r: (
            asked.append(json.loads(r.post_data or "{}")["variables"].get("first", 0))
            if r.url.endswith("/graphql")
            else None
        ),
    )
    await use_key(page, project.key)

    await page.goto(f"{live_url}/#/projects/{project.id}/datasets/{dataset_id}")
    pager = page.locator(".pager-info")
    await expect(pager).to_have_text("1\N{EN DASH}50 of 10,000", timeout=5_000)
    await expect(page.locator(".case.trace")).to_have_count(50)
    await page.get_by_role("button", name="Next →").click()
    await expect(pager).to_have_text("51\N{EN DASH}100 of 10,000", timeout=5_000)
    await expect(page.locator(".case.trace").first).to_contain_text('"task":"task 50"')
    await page.get_by_role("button", name="← Previous").click()
    await expect(pager).to_have_text("1\N{EN DASH}50 of 10,000")
    await browser_page.screenshot("console-large-dataset")
    await page.get_by_label("Name").fill("big run")
    await page.get_by_role("button", name="Create test run").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("big run")
    await expect(page.locator(".run-progress")).to_contain_text("0 / 10,000")
    await expect(page.locator(".pager-info").last).to_have_text(
        "1\N{EN DASH}50 of 10,000", timeout=5_000
    )

    assert asked
    assert max(asked) <= 50


async def test_console_compares_two_runs_and_shows_regressions_in_red(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    project = await make_project(db)
    cases = [completion_example(i) for i in range(6)]
    await make_dataset(db, project, "support", TestCaseType.COMPLETION, cases)
    base = await test_runs.create_test_run(
        db, OPERATOR, project.id, NewTestRun("support", name="base run")
    )
    candidate = await test_runs.create_test_run(
        db, OPERATOR, project.id, NewTestRun("support", name="candidate run")
    )
    await record_all(db, project, base.id, [4, 4, 4, 4, 4, 4], "base")
    await record_all(db, project, candidate.id, [3, 3, 3, 3, 2, 4], "candidate")
    page = browser_page.page
    await use_key(page, project.key)

    await page.goto(f"{live_url}/#/projects/{project.id}")
    await page.get_by_label(f"base {base.id}").check()
    await page.get_by_label(f"candidate {candidate.id}").check()
    await page.get_by_role("button", name="Compare base → candidate").click()

    helpfulness = page.locator("table.evaluations tr", has_text="helpfulness")
    await expect(helpfulness).to_contain_text("-1")
    await expect(helpfulness.locator("td").first).to_have_css("color", RED)
    regressions = page.locator(".regression")
    await expect(regressions).to_have_count(5)
    first = regressions.first
    await expect(first).to_contain_text("helpfulness: 4 → 3 (-1)")
    await expect(first.locator(".changes .worse")).to_have_css("color", RED)
    await expect(first.locator(".outputs")).to_contain_text("base answer 0")
    await expect(first.locator(".outputs")).to_contain_text("candidate answer 0")
    await browser_page.screenshot("console-compare")


async def test_console_shows_api_errors_in_the_banner(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    project = await make_project(db)
    page = browser_page.page
    # The browser itself logs the 401 answer to a wrong key.
    browser_page.expect_console_error(r"status of 401")
    await page.goto(live_url)
    await page.get_by_placeholder("trk_…").fill("trk_not_a_key")
    await page.get_by_role("button", name="Use this key").click()

    banner = page.get_by_role("alert")
    await expect(banner).to_contain_text("UNAUTHENTICATED")
    await expect(banner).to_contain_text("Check the API key")
    await browser_page.screenshot("console-error")
    await page.get_by_role("button", name="Change key").click()
    await page.get_by_placeholder("trk_…").fill(project.key)
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.get_by_role("link", name="Console project")).to_be_visible()
    await expect(banner).to_be_hidden()

    await page.goto(f"{live_url}/#/projects/{project.id}/runs/{uuid.uuid4()}")
    await expect(banner).to_contain_text(re.compile("NOT_FOUND|No such test run"))
