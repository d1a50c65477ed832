"""The GraphQL clients frontends use, at their default settings, against a real server:
graphql-http's audits of the GraphQL-over-HTTP spec, urql (queries over GET) and Apollo
Client with automatic persisted queries. The clients are the npm packages pinned in
web/package-lock.json, run by Node.js."""

from collections.abc import Callable

from tests.support import Api, completion_example, run_node


def test_the_graphql_over_http_audits_all_pass(live_url: str, api: Api) -> None:
    report = run_node("graphql-http-audits.mjs", f"{live_url}/graphql", api.key)

    failing = [
        f"{a['id']} {a['status']}: {a['name']} ({a['reason']}; {a['response']})"
        for a in report["failing"]
    ]
    print(f"graphql-http audits: {report['ok']} of {report['total']} passed", *failing, sep="\n")
    assert (report["error"], report["warn"]) == (0, 0), failing
    assert report["ok"] == report["total"], failing


async def test_urql_queries_over_get_and_mutates_over_post(live_url: str, api: Api) -> None:
    await api.dataset_with_cases("support", [completion_example(i) for i in range(3)])

    report = run_node("urql-client.mjs", f"{live_url}/graphql", api.key, api.project_id, "support")

    query, mutation, invalid = report["requests"]
    assert (query["method"], query["status"]) == ("GET", 200)
    assert query["contentType"] == "application/graphql-response+json"
    assert report["query"]["errors"] == []
    assert report["query"]["data"]["project"]["datasets"]["edges"][0]["node"]["name"] == "support"
    assert (mutation["method"], mutation["status"]) == ("POST", 200)
    assert report["mutation"]["errors"] == []
    run = report["mutation"]["data"]["createTestRun"]["testRun"]
    assert run["testCases"]["totalCount"] == 3
    assert (invalid["method"], invalid["status"]) == ("GET", 400)
    assert report["invalid"]["errors"] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_apollo_sends_the_hash_first_then_hash_and_text_then_the_hash_alone(
    live_url: str, live_url_factory: Callable[..., str], api: Api
) -> None:
    await api.dataset_with_cases("support", [completion_example(i) for i in range(2)])
    replica = live_url_factory()

    report = run_node(
        "apollo-persisted-queries.mjs",
        f"{live_url}/graphql",
        f"{replica}/graphql",
        api.key,
        api.project_id,
        "support",
    )

    sent = [
        (r["server"], r["method"], r["status"], r["withText"], r["codes"])
        for r in report["requests"]
    ]
    assert sent == [
        # the query: its hash alone over GET is not known yet; hash and text; then the hash
        ("first", "GET", 404, False, ["PERSISTED_QUERY_NOT_FOUND"]),
        ("first", "POST", 200, True, []),
        ("first", "GET", 200, False, []),
        # the mutation, over POST
        ("first", "POST", 404, False, ["PERSISTED_QUERY_NOT_FOUND"]),
        ("first", "POST", 200, True, []),
        ("first", "POST", 200, False, []),
        # another replica knows the query already
        ("other", "GET", 200, False, []),
    ]
    assert all(r["hash"] for r in report["requests"])
    total, again, run_1, run_2, elsewhere = report["results"]
    assert total == again == elsewhere == 1
    assert run_1 != run_2
    assert (await api.get("/test-runs")).json()["total"] == 2
