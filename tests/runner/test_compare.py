"""Comparing an executed run with a baseline over REST and GraphQL: paired statistics in
each evaluation's direction, the regression verdict, and latency, tokens and cost."""

from app.db.engine import Database
from app.domain import criteria
from app.domain.evaluations import Direction
from app.domain.keys import OPERATOR
from tests.fake_llm import FakeLLM
from tests.runner.conftest import SLOPPY, add_dataset, add_prompt, case, drain, worker
from tests.runner.test_execution import start
from tests.support import Api, assert_problem

JUDGES = (("helpful", "1-5", "judge-json"), ("on_topic", "yes-no", "judge-yesno"))


async def runs(api: Api, db: Database, fake_llm: FakeLLM) -> tuple[str, str, str]:
    await add_dataset(db, api.project_id, [case(i) for i in range(10)])
    good = await add_prompt(db, api.project_id, fake_llm, judges=JUDGES)
    worse = await add_prompt(db, api.project_id, fake_llm, system=SLOPPY, judges=JUDGES)
    ids = []
    for version in (good, good, worse):
        ids.append((await start(api, version))["test_run_id"])
        await drain(db, worker(db))
    return ids[0], ids[1], ids[2]


async def test_a_worse_prompt_regresses_and_an_equal_one_does_not(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    base, same, worse = await runs(api, db, fake_llm)

    equal = (await api.get(f"/test-runs/id/{same}/compare/{base}")).json()
    regressed = (await api.get(f"/test-runs/id/{worse}/compare/{base}")).json()

    assert equal["regressed"] is False
    assert equal["shared_cases"] == 10
    assert [e["regressed"] for e in equal["evaluations"]] == [False, False]
    assert regressed["regressed"] is True
    by_name = {e["name"]: e for e in regressed["evaluations"]}
    assert by_name["helpful"]["mean_delta"] == -4
    assert by_name["helpful"]["losses"] == 10
    assert by_name["helpful"]["direction"] == "higher"
    assert by_name["on_topic"]["kind"] == "boolean"
    assert by_name["on_topic"]["p_value"] < 0.01
    assert len(regressed["regressions"]) == 10
    assert regressed["base_usage"]["count"] == 10
    # The sloppy system message is longer: more prompt tokens for the same cases.
    assert regressed["candidate_usage"]["prompt_tokens"] > regressed["base_usage"]["prompt_tokens"]


async def test_a_lower_is_better_criterion_counts_a_drop_as_a_win(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    base, _, worse = await runs(api, db, fake_llm)
    listed = await criteria.list_criteria(db, OPERATOR, api.project_id, offset=0, limit=10)
    helpful = next(c for c in listed.items if c.name == "helpful")
    await criteria.update_criterion(
        db, OPERATOR, api.project_id, helpful.id, direction=Direction.LOWER
    )

    answer = await api.graphql(
        """query($base: ID!, $candidate: ID!) { compareTestRuns(baseId: $base,
             candidateId: $candidate) { regressed evaluations { name direction wins
             losses regressed pValue } baseUsage { count } candidateUsage { count } } }""",
        {"base": base, "candidate": worse},
    )

    assert "errors" not in answer, answer
    found = answer["data"]["compareTestRuns"]
    by_name = {e["name"]: e for e in found["evaluations"]}
    assert by_name["helpful"] == {
        "name": "helpful",
        "direction": "LOWER",
        "wins": 10,
        "losses": 0,
        "regressed": False,
        "pValue": None,
    }
    assert by_name["on_topic"]["regressed"] is True
    assert found["regressed"] is True
    assert found["baseUsage"] == {"count": 10}


async def test_comparing_runs_of_other_projects_is_not_found(
    api: Api, other_api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    base, same, _ = await runs(api, db, fake_llm)
    response = await other_api.get(f"/test-runs/id/{same}/compare/{base}")
    assert_problem(response, 404, "not_found")
