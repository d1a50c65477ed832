"""A real headless Chromium against the live server, watched for trouble.

The browser is Debian's ``chromium`` (``scripts/test`` installs it when missing), driven by
Playwright. A test fails when its page logs an error to the console, throws, or asks
anything of a host other than this machine: every page must work offline. Screenshots go
to ``test-artifacts/browser/`` for a person to look at.
"""

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request, Route, async_playwright

from tests.e2e.conftest import live_url  # noqa: F401 (the live server, shared)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about"}


@dataclass
class Watched:
    """A browser page and what went wrong on it."""

    page: Page
    problems: list[str] = field(default_factory=list)
    # Console errors a test expects, e.g. the browser's own line about a 401 answer.
    expected_errors: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        self.expected_errors.append(re.compile(pattern))

    async def screenshot(self, name: str, *, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page)

    def on_console(self, kind: str, text: str) -> None:
        if kind == "error" and not any(p.search(text) for p in self.expected_errors):
            self.problems.append(f"console error: {text}")


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Chromium is not installed: scripts/test installs Debian's chromium package")
    return path


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK


@pytest.fixture
async def browser_page() -> AsyncIterator[Watched]:
    """A fresh browser page; the test fails on console errors, page errors and any request
    to another host (which is refused, not sent)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = await context.new_page()
        watched = Watched(page)

        async def only_loopback(route: Route, request: Request) -> None:
            if is_local(request.url):
                await route.continue_()
            else:
                watched.problems.append(f"request to another host: {request.url}")
                await route.abort()

        await context.route("**/*", only_loopback)
        page.on("console", lambda message: watched.on_console(message.type, message.text))
        page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
        try:
            yield watched
        finally:
            await browser.close()
    assert not watched.problems, "\n".join(watched.problems)
