"""Summary statistics and run comparison on known numbers, over both surfaces."""

import math

import pytest

from app.domain.compare import t_critical
from tests.support import Api, completion_example, create_evaluation, record

SUMMARY = """query($id: ID!) { testRun(id: $id) { summary {
  autoEvaluation { name kind count mean min max }
  humanEvaluation { name kind count passCount passRate }
  clientEvaluation { name kind count mean passRate categories { category count } } } } }"""
COMPARE = """query($base: ID!, $candidate: ID!) { compareTestRuns(baseId: $base, candidateId: $candidate) {
  sharedCaseCount regressionCount improvementCount
  evaluations { name source kind pairs baseMean candidateMean meanDelta ciLow ciHigh wins ties losses }
  regressions { testCaseId baseOutput candidateOutput changes { name base candidate delta }
                testCase { ... on CompletionTestCase { values } } }
  improvements { testCaseId } } }"""


async def run_of(api: Api, n: int) -> tuple[str, list[str]]:
    if (await api.get("/datasets/name/qa")).status_code == 404:
        await api.dataset_with_cases("qa", [completion_example(i) for i in range(n)])
    body = (await api.create_run("qa")).json()
    return body["test_run_id"], [c["id"] for c in body["test_cases"]]


async def test_summary_of_known_scores(api: Api) -> None:
    helpfulness = await create_evaluation(api, "helpfulness", "numeric")
    safe = await create_evaluation(api, "safe", "boolean", "human")
    tone = await create_evaluation(api, "tone", "category", categories=["warm", "cold", "flat"])
    run_id, cases = await run_of(api, 4)
    auto_scores = [4, 2, 5, 1]
    human = [True, False, True, True]
    tones = ["warm", "warm", "cold", "warm"]
    for i, case_id in enumerate(cases):
        await record(
            api,
            run_id,
            case_id,
            output=f"answer {i}",
            evalResults={
                "exact": i < 1,
                "similarity": [0.5, 0.25, 1.0, 0.75][i],
                "label": ["a", "b", "a", "a"][i],
            },
            scores=[
                {"evaluationId": helpfulness["id"], "value": auto_scores[i]},
                {"evaluationId": safe["id"], "value": human[i]},
                {"evaluationId": tone["id"], "value": tones[i]},
            ],
        )

    summary = (await api.graphql(SUMMARY, {"id": run_id}))["data"]["testRun"]["summary"]
    rest = (await api.get(f"/test-runs/id/{run_id}")).json()["summary_statistics"]

    assert summary["autoEvaluation"][0] == {
        "name": "helpfulness",
        "kind": "NUMERIC",
        "count": 4,
        "mean": 3.0,
        "min": 1.0,
        "max": 5.0,
    }
    assert summary["humanEvaluation"] == [
        {"name": "safe", "kind": "BOOLEAN", "count": 4, "passCount": 3, "passRate": 0.75}
    ]
    client = {s["name"]: s for s in summary["clientEvaluation"]}
    assert client["exact"]["kind"] == "BOOLEAN"
    assert client["exact"]["passRate"] == 0.25
    assert client["similarity"]["kind"] == "NUMERIC"
    assert client["similarity"]["mean"] == 0.625
    assert client["label"]["categories"] == [
        {"category": "a", "count": 3},
        {"category": "b", "count": 1},
    ]
    assert rest["auto_evaluation"]["helpfulness"]["mean"] == 3.0
    assert rest["auto_evaluation"]["tone"]["counts"] == {"warm": 3, "cold": 1, "flat": 0}
    assert rest["human_evaluation"]["safe"]["pass_rate"] == 0.75
    assert rest["client_evaluation"]["similarity"] == {
        "kind": "numeric",
        "count": 4,
        "mean": 0.625,
        "min": 0.25,
        "max": 1.0,
    }


async def test_targeted_evaluations_appear_before_any_score(api: Api) -> None:
    target = await create_evaluation(api, "faithful", "boolean")
    await api.dataset_with_cases("qa", [completion_example(1)])
    run_id = (await api.create_run("qa", target_evaluation_ids=[target["id"]])).json()[
        "test_run_id"
    ]

    rest = (await api.get(f"/test-runs/id/{run_id}")).json()["summary_statistics"]

    assert rest["auto_evaluation"]["faithful"]["count"] == 0
    assert rest["auto_evaluation"]["faithful"]["pass_rate"] is None


async def test_compare_gives_paired_deltas_with_a_confidence_interval(api: Api) -> None:
    base, cases = await run_of(api, 5)
    candidate, _ = await run_of(api, 5)
    base_scores, candidate_scores = [1, 2, 3, 4, 3], [2, 2, 5, 3, None]
    base_pass, candidate_pass = [True, True, False, False, True], [True, False, True, False, True]
    for i, case_id in enumerate(cases):
        await record(
            api,
            base,
            case_id,
            output=f"base {i}",
            evalResults={"score": base_scores[i], "pass": base_pass[i]},
        )
        if candidate_scores[i] is not None:
            await record(
                api,
                candidate,
                case_id,
                output=f"new {i}",
                evalResults={"score": candidate_scores[i], "pass": candidate_pass[i]},
            )

    body = await api.graphql(COMPARE, {"base": base, "candidate": candidate})
    comparison = body["data"]["compareTestRuns"]
    by_name = {e["name"]: e for e in comparison["evaluations"]}

    deltas = [1, 0, 2, -1]
    mean = sum(deltas) / 4
    sd = math.sqrt(sum((d - mean) ** 2 for d in deltas) / 3)
    half = 3.182 * sd / 2
    score = by_name["score"]
    assert comparison["sharedCaseCount"] == 4
    assert (score["pairs"], score["wins"], score["ties"], score["losses"]) == (4, 2, 1, 1)
    assert score["meanDelta"] == pytest.approx(0.5)
    assert score["baseMean"] == pytest.approx(2.5)
    assert score["candidateMean"] == pytest.approx(3.0)
    assert score["ciLow"] == pytest.approx(mean - half, abs=1e-3)
    assert score["ciHigh"] == pytest.approx(mean + half, abs=1e-3)
    flag = by_name["pass"]
    assert flag["kind"] == "BOOLEAN"
    assert (flag["wins"], flag["ties"], flag["losses"]) == (1, 2, 1)
    assert flag["meanDelta"] == pytest.approx(0.0)
    regressed = {r["testCaseId"]: r for r in comparison["regressions"]}
    assert set(regressed) == {cases[1], cases[3]}
    assert regressed[cases[3]]["baseOutput"] == "base 3"
    assert regressed[cases[3]]["candidateOutput"] == "new 3"
    assert regressed[cases[3]]["changes"] == [
        {"name": "score", "base": 4.0, "candidate": 3.0, "delta": -1.0}
    ]
    assert regressed[cases[3]]["testCase"]["values"] == completion_example(3)["inputs"]
    assert [i["testCaseId"] for i in comparison["improvements"]] == [cases[0], cases[2]]


async def test_runs_of_different_versions_compare_on_the_cases_they_share(api: Api) -> None:
    base, cases = await run_of(api, 2)
    dataset = (await api.get("/datasets/name/qa")).json()
    await api.add_cases(dataset["id"], [completion_example(7)])
    candidate_body = (await api.create_run("qa")).json()
    candidate = candidate_body["test_run_id"]
    for case_id in cases:
        await record(api, base, case_id, evalResults={"score": 1})
    for case in candidate_body["test_cases"]:
        await record(api, candidate, case["id"], evalResults={"score": 2})

    comparison = (await api.graphql(COMPARE, {"base": base, "candidate": candidate}))["data"][
        "compareTestRuns"
    ]

    assert comparison["sharedCaseCount"] == 2
    assert comparison["evaluations"][0]["pairs"] == 2
    assert comparison["improvementCount"] == 2


async def test_runs_of_different_datasets_do_not_compare(api: Api) -> None:
    base, _ = await run_of(api, 1)
    await api.dataset_with_cases("other", [completion_example(1)])
    other = (await api.create_run("other")).json()["test_run_id"]

    body = await api.graphql(COMPARE, {"base": base, "candidate": other})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_t_critical_values_match_tables() -> None:
    assert t_critical(1) == pytest.approx(12.706, abs=1e-3)
    assert t_critical(10) == pytest.approx(2.228, abs=1e-3)
    assert t_critical(40) == pytest.approx(2.021, abs=1e-3)
    assert t_critical(120) == pytest.approx(1.980, abs=1e-3)
    assert t_critical(10_000) == pytest.approx(1.960, abs=1e-3)
