"""Comparing runs follows each evaluation's direction: where lower is better, a fall wins."""

from tests.api_graphql.test_summary_and_compare import COMPARE, run_of
from tests.support import Api, record

DIRECTIONS = """query($base: ID!, $candidate: ID!) { compareTestRuns(baseId: $base, candidateId: $candidate) {
  evaluations { name direction wins losses } regressions { testCaseId changes { name direction } }
  improvements { testCaseId } } }"""


async def test_a_lower_is_better_evaluation_counts_falls_as_wins(api: Api) -> None:
    response = await api.post(
        "/evaluations", {"name": "latency", "kind": "numeric", "direction": "lower"}
    )
    assert response.status_code == 201, response.text
    base, cases = await run_of(api, 3)
    candidate, _ = await run_of(api, 3)
    for case_id, before, after in zip(cases, [5, 5, 5], [3, 5, 8], strict=True):
        await record(api, base, case_id, evalResults={"latency": before, "score": before})
        await record(api, candidate, case_id, evalResults={"latency": after, "score": before})

    body = await api.graphql(DIRECTIONS, {"base": base, "candidate": candidate})

    comparison = body["data"]["compareTestRuns"]
    by_name = {e["name"]: e for e in comparison["evaluations"]}
    assert by_name["latency"] == {"name": "latency", "direction": "LOWER", "wins": 1, "losses": 1}
    assert by_name["score"]["direction"] == "HIGHER"
    assert [r["testCaseId"] for r in comparison["regressions"]] == [cases[2]]
    assert comparison["regressions"][0]["changes"] == [{"name": "latency", "direction": "LOWER"}]
    assert [i["testCaseId"] for i in comparison["improvements"]] == [cases[0]]
    # the general comparison query still answers
    assert "errors" not in await api.graphql(COMPARE, {"base": base, "candidate": candidate})
