"""The watch on browser pages is not blind: it sees console errors, thrown errors and
requests to other hosts (and refuses those)."""

from tests.browser.conftest import Watched


async def test_the_watch_sees_errors_and_requests_to_other_hosts(
    browser_page: Watched, live_url: str
) -> None:
    page = browser_page.page
    await page.goto(live_url)

    await page.evaluate(
        """async () => {
          console.error("logged");
          setTimeout(() => { throw new Error("thrown"); });
          await fetch("http://example.com/x").catch(() => null);
        }"""
    )
    await page.wait_for_timeout(200)

    problems = "\n".join(browser_page.problems)
    assert "console error: logged" in problems
    assert "page error: thrown" in problems
    assert "request to another host: http://example.com/x" in problems
    browser_page.problems.clear()
