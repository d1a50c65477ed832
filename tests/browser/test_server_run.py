"""The console starts a run the server executes and follows it live: its cases by state, the
errors, latency, tokens and cost, and the LLM judges' scores, without a reload; and it
cancels one that is still running."""

import re
from collections.abc import Callable

from playwright.async_api import Page, expect

from app.db.engine import Database
from app.domain import keys, projects
from tests.browser.conftest import Watched
from tests.browser.test_console import use_key
from tests.e2e.conftest import live_url_factory  # noqa: F401
from tests.fake_llm import FakeLLM
from tests.runner.conftest import add_dataset, add_prompt, case, fake_llm  # noqa: F401


async def start_run(
    page: Page, live_url: str, db: Database, fake: FakeLLM, cases: int, concurrency: int
) -> tuple[str, str]:
    """A project whose dataset has ``cases`` cases and whose prompt template calls the fake
    LLM; the console creates a server-side run of it. Returns the project id and the version's
    label as the picker shows it."""
    project = await projects.create_project(db, "Support bot")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    await add_dataset(db, project.id, [case(i) for i in range(cases)])
    await add_prompt(db, project.id, fake)
    await use_key(page, key)
    await page.goto(f"{live_url}/#/projects/{project.id}")
    await page.get_by_role("link", name="qa", exact=True).click()
    await page.locator("input[name=name]").fill("nightly support check")
    picker = page.locator("select[name=prompt-version]")
    await expect(picker.locator("option")).to_have_count(2)
    label = (await picker.locator("option").nth(1).text_content()) or ""
    assert label == "support v1 · fake-chat"
    await picker.select_option(label=label)
    await page.locator("input[name=repetitions]").fill("1")
    await page.locator("input[name=concurrency]").fill(str(concurrency))
    await page.get_by_role("button", name="Create test run").click()
    await expect(page.locator("h1")).to_contain_text("nightly support check")
    return project.id, label


async def test_the_console_runs_a_test_on_the_server_and_follows_it_live(
    browser_page: Watched,
    live_url_factory: Callable[..., str],  # noqa: F811
    db: Database,
    fake_llm: FakeLLM,  # noqa: F811
) -> None:
    page = browser_page.page
    live_url = live_url_factory(worker_poll_seconds=0.05)
    # One case is refused by the provider; every call takes a moment, so the run is seen
    # running before it completes.
    fake_llm.fail("question 5", "400", message="This model's context length is exceeded.")
    fake_llm.fail("question", "slow", delay=0.3)
    reads: list[str] = []
    page.on(
        "request",
        lambda request: (
            reads.append(request.url)
            if request.method == "POST" and re.search(r"query Run\(", request.post_data or "")
            else None
        ),
    )
    await start_run(page, live_url, db, fake_llm, cases=12, concurrency=2)

    execution = page.locator(".execution")
    await expect(execution.locator(".badge.status-running")).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    # mid-run: some cases done, others still pending
    await expect(execution.locator(".count-completed")).to_have_text(re.compile(r"^[3-7]$"))
    await expect(execution.locator(".count-pending")).not_to_have_text("0")
    await browser_page.screenshot("console-server-run-live")

    await expect(execution.locator(".badge.status-finished")).to_be_visible(timeout=30_000)
    await expect(execution.locator(".count-completed")).to_have_text("11")
    await expect(execution.locator(".count-errored")).to_have_text("1")
    await expect(execution.locator(".count-pending")).to_have_text("0")
    await expect(execution.locator(".run-progress")).to_contain_text("12 / 12")
    await expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    await expect(page.locator("h1 .badge.status-completed")).to_be_visible()
    await expect(execution.locator("table.errors tbody tr")).to_have_count(1)
    await expect(execution.locator("table.errors")).to_contain_text("context length is exceeded")
    # the judge's scores and the usage of the calls
    judged = page.locator("table.summary tbody tr", has_text="helpful")
    await expect(judged).to_contain_text("auto")
    await expect(judged.locator("td").nth(3)).to_have_text("11")
    await expect(judged.locator("td").nth(4)).to_have_text("5")
    usage = page.locator("dl.usage")
    await expect(usage).to_contain_text("Calls measured11")
    await expect(usage).to_contain_text(re.compile(r"mean \d+ ms · p50 \d+ ms · p95 \d+ ms"))
    await expect(usage).to_contain_text(re.compile(r"Tokens[\d,]+ \(\d+ prompt, \d+ completion\)"))
    await expect(usage).to_contain_text(re.compile(r"Cost0\.\d+"))
    await expect(page.locator("table.results tbody tr")).to_have_count(11)
    assert len(reads) == 1, "the page read the run once; the rest came over the subscription"
    await browser_page.screenshot("console-server-run-done", full_page=True)


async def test_the_console_cancels_a_run_the_server_executes(
    browser_page: Watched,
    live_url_factory: Callable[..., str],  # noqa: F811
    db: Database,
    fake_llm: FakeLLM,  # noqa: F811
) -> None:
    page = browser_page.page
    live_url = live_url_factory(worker_poll_seconds=0.05)
    fake_llm.fail("question", "slow", delay=0.5)
    await start_run(page, live_url, db, fake_llm, cases=20, concurrency=1)

    execution = page.locator(".execution")
    await expect(execution.locator(".count-completed")).not_to_have_text("0")
    await page.get_by_role("button", name="Cancel run").click()

    await expect(execution.locator(".badge.status-cancelled")).to_be_visible()
    await expect(page.locator("h1 .badge.status-completed")).to_be_visible()
    await expect(execution.locator(".count-pending")).to_have_text("0")
    await expect(execution.locator(".count-cancelled")).not_to_have_text("0")
    await expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
