"""GraphiQL, Swagger UI and Redoc in a real browser, with nothing loaded from the internet."""

from app.db.engine import Database
from app.demo import ensure_demo
from app.settings import Settings
from tests.browser.conftest import Watched


async def test_graphiql_runs_the_readme_mutation_offline_with_the_demo_key(
    browser_page: Watched, live_url: str, db: Database, settings: Settings
) -> None:
    demo = await ensure_demo(db, settings)
    page = browser_page.page

    await page.goto(f"{live_url}/graphql")
    # The tabs are the README's operations; the explorer lists the schema's mutations.
    await page.get_by_role("tab", name="CreateTestRun").wait_for()
    await page.get_by_role("tab", name="ProjectDatasets").wait_for()
    await page.locator(".graphiql-explorer-root").get_by_text("createTestRun").first.wait_for()
    async with page.expect_response(
        lambda r: (
            r.url.endswith("/graphql")
            and r.request.method == "POST"
            and "CreateTestRun" in (r.request.post_data or "")
        )
    ) as answered:
        await page.locator(".graphiql-execute-button").click()
    response = await answered.value
    await page.locator(".result-window").get_by_text('"CompletionTestCase"').first.wait_for()
    await browser_page.screenshot("graphiql")

    assert response.request.headers["authorization"] == f"Bearer {demo.api_key}"
    body = await response.json()
    assert "errors" not in body, body
    run = body["data"]["createTestRun"]["testRun"]
    assert [e["node"]["__typename"] for e in run["testCases"]["edges"]] == [
        "CompletionTestCase"
    ] * 3
    assert '"createTestRun"' in await page.locator(".result-window").inner_text()


async def test_swagger_ui_lists_the_test_runs_routes_with_the_contract_examples(
    browser_page: Watched, live_url: str
) -> None:
    page = browser_page.page

    await page.goto(f"{live_url}/docs")
    create = page.locator(
        "#operations-test_runs-create_test_run_api_v2_projects__project_id__test_runs_post"
    )
    await create.get_by_text("/api/v2/projects/{project_id}/test-runs").wait_for()
    await create.locator(".opblock-summary").click()
    example = create.locator(".body-param__example, .highlight-code").first
    await example.wait_for()
    await browser_page.screenshot("swagger-ui")

    shown = await create.inner_text()
    assert '"dataset_name": "support-replies"' in shown
    assert '"trace_test_cases": null' in shown


async def test_redoc_shows_the_rest_routes(browser_page: Watched, live_url: str) -> None:
    page = browser_page.page

    await page.goto(f"{live_url}/redoc")
    await page.get_by_role("heading", name="Create a test run").wait_for()
    await browser_page.screenshot("redoc")
