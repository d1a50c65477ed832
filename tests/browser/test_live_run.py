"""The console follows a run live: updates arrive over a WebSocket subscription instead of
being polled for, and when the live connection cannot be had it still catches up."""

import re

from playwright.async_api import Request, WebSocketRoute, expect

from app.db.engine import Database
from app.domain import test_runs
from app.domain.datasets import TestCaseType
from app.domain.keys import OPERATOR
from app.domain.test_runs import NewTestRun
from tests.browser.conftest import Watched
from tests.browser.test_console import Project, make_dataset, make_project, record_all, use_key
from tests.support import completion_example


async def open_run(
    browser_page: Watched, live_url: str, db: Database
) -> tuple[Project, str, list[str]]:
    """A new 3-case run's page; returns its project, the run id and the names of the GraphQL
    operations the page sends (a list that keeps growing)."""
    project = await make_project(db)
    await make_dataset(
        db, project, "support", TestCaseType.COMPLETION, [completion_example(i) for i in range(3)]
    )
    run = await test_runs.create_test_run(db, OPERATOR, project.id, NewTestRun("support"))
    operations: list[str] = []

    def sent(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            found = re.search(r"(query|mutation) (\w+)", request.post_data or "")
            operations.append(found.group(2) if found else "?")

    page = browser_page.page
    page.on("request", sent)
    await use_key(page, project.key)
    await page.goto(f"{live_url}/#/projects/{project.id}/runs/{run.id}")
    await expect(page.locator(".run-progress")).to_contain_text("0 / 3")
    return project, run.id, operations


async def test_the_run_page_gets_updates_over_a_websocket_without_polling(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    page = browser_page.page
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    project, run_id, operations = await open_run(browser_page, live_url, db)
    for _ in range(100):  # the page subscribes once it has drawn the run
        if sockets:
            break
        await page.wait_for_timeout(100)
    assert operations.count("Run") == 1

    await record_all(db, project, run_id, [5, 4, 3], "live")

    await expect(page.locator(".badge.status-completed")).to_be_visible()
    await expect(page.locator(".run-progress")).to_contain_text("3 / 3")
    await expect(page.locator("table.results tbody tr")).to_have_count(3)
    await expect(page.locator("table.summary")).to_contain_text("helpfulness")
    assert sockets == [live_url.replace("http", "ws") + "/graphql"]
    assert operations.count("Run") == 1, "the run was read once, then only pushed"
    await browser_page.screenshot("console-run-live")


async def test_without_a_live_connection_the_run_page_still_catches_up(
    browser_page: Watched, live_url: str, db: Database
) -> None:
    page = browser_page.page
    refused: list[str] = []

    async def refuse(socket: WebSocketRoute) -> None:
        refused.append(socket.url)
        await socket.close(code=1011, reason="unavailable")

    await page.route_web_socket(re.compile(r"/graphql$"), refuse)
    project, run_id, operations = await open_run(browser_page, live_url, db)

    await record_all(db, project, run_id, [5, 4, 3], "fallback")

    await expect(page.locator(".badge.status-completed")).to_be_visible()
    await expect(page.locator(".run-progress")).to_contain_text("3 / 3")
    await expect(page.locator("table.results tbody tr")).to_have_count(3)
    assert refused, "the console tried the live connection first"
    assert operations.count("Run") >= 2, "then read the run again"
