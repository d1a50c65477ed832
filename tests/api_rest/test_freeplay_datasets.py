"""Freeplay's dataset routes beyond the shape of their answers: limits, all-or-nothing writes,
kinds kept apart, and the details a test run reads from its recordings."""

import uuid
from typing import Any

from tests.support import Api, assert_problem, completion_example


def prompt_case(i: int) -> dict[str, Any]:
    return {"inputs": {"question": f"q{i}"}, "output": f"a{i}"}


async def bulk(api: Api, dataset_id: str, cases: list[Any], kind: str = "prompt") -> Any:
    return await api.post(f"/{kind}-datasets/{dataset_id}/test-cases/bulk", {"data": cases})


async def bulk_delete(api: Api, dataset_id: str, ids: list[str], kind: str = "prompt") -> Any:
    return await api.client.request(
        "DELETE",
        api.url(f"/{kind}-datasets/{dataset_id}/test-cases/bulk"),
        json={"test_case_ids": ids},
        headers=api.headers,
    )


async def case_count(api: Api, name: str) -> int:
    return (await api.get(f"/datasets/name/{name}")).json()["test_case_count"]


async def test_more_than_100_cases_in_one_bulk_request_is_422_and_writes_nothing(
    api: Api,
) -> None:
    dataset = await api.create_dataset("qa")

    refused = await bulk(api, dataset["id"], [prompt_case(i) for i in range(101)])
    accepted = await bulk(api, dataset["id"], [prompt_case(i) for i in range(100)])

    assert "at most 100" in assert_problem(refused, 422, "invalid_input")["detail"]
    assert accepted.status_code == 201
    assert await case_count(api, "qa") == 100


async def test_one_bad_case_in_a_bulk_request_writes_none(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    cases = [prompt_case(0), {"inputs": "not an object"}, prompt_case(2)]

    response = await bulk(api, dataset["id"], cases)

    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"][0]["loc"][:2] == ["data", 1]
    assert await case_count(api, "qa") == 0


async def test_bulk_delete_takes_at_most_100_ids_and_all_must_exist(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    made = (await bulk(api, dataset["id"], [prompt_case(i) for i in range(3)])).json()["data"]
    ids = [c["id"] for c in made]

    too_many = await bulk_delete(api, dataset["id"], [str(uuid.uuid4()) for _ in range(101)])
    unknown = await bulk_delete(api, dataset["id"], [ids[0], str(uuid.uuid4())])

    assert_problem(too_many, 422, "invalid_input")
    assert_problem(unknown, 404, "not_found")
    assert await case_count(api, "qa") == 3


async def test_agent_cases_go_in_under_freeplays_names(api: Api) -> None:
    dataset = await api.create_dataset("flows", kind="trace")

    made = await bulk(
        api,
        dataset["id"],
        [{"inputs": {"task": "t"}, "outputs": ["done"], "metadata": {"k": "v"}}],
        kind="agent",
    )
    run = (await api.create_run("flows", include_outputs=True)).json()

    assert made.status_code == 201
    assert made.json()["data"][0]["input"] == {"task": "t"}
    [case] = run["trace_test_cases"]
    assert (case["input"], case["output"], case["custom_metadata"]) == (
        {"task": "t"},
        ["done"],
        {"k": "v"},
    )


async def test_each_kinds_routes_see_only_that_kinds_cases(api: Api) -> None:
    prompt = await api.dataset_with_cases("qa", [completion_example(1)])
    agent = await api.create_dataset("flows", kind="trace")
    case_id = (await api.get(f"/prompt-datasets/{prompt['id']}/test-cases")).json()["data"][0]["id"]

    assert_problem(await api.get(f"/agent-datasets/{prompt['id']}/test-cases"), 404, "not_found")
    assert_problem(
        await api.get(f"/agent-datasets/{prompt['id']}/test-cases/{case_id}"), 404, "not_found"
    )
    assert_problem(await bulk(api, agent["id"], [prompt_case(1)]), 404, "not_found")
    listed = (await api.get("/prompt-datasets")).json()["data"]
    assert [d["name"] for d in listed] == ["qa"]


async def test_a_patch_with_only_nulls_changes_nothing(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(1)])
    case = (await api.get(f"/prompt-datasets/{dataset['id']}/test-cases")).json()["data"][0]

    response = await api.client.patch(
        api.url(f"/prompt-datasets/{dataset['id']}/test-cases/{case['id']}"),
        json={"inputs": None, "output": None, "metadata": None},
        headers=api.headers,
    )

    assert response.json() == case
    assert (await api.get("/datasets/name/qa")).json()["version"] == 1


async def test_a_foreign_projects_dataset_is_404_on_every_new_route(
    api: Api, other_api: Api
) -> None:
    theirs = await other_api.dataset_with_cases("theirs", [completion_example(1)])
    paths = [
        f"/prompt-datasets/{theirs['id']}/test-cases",
        f"/datasets/id/{theirs['id']}",
        "/datasets/name/theirs/test-cases",
    ]
    for path in paths:
        assert_problem(await api.get(path), 404, "not_found")
        foreign = await api.client.get(other_api.url(path), headers=api.headers)
        assert_problem(foreign, 404, "not_found")


async def test_a_run_reads_its_model_and_prompt_from_its_recorded_completions(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    run = (await api.create_run("qa")).json()
    version_id = str(uuid.uuid4())
    for case in run["test_cases"]:
        await api.post(
            f"/sessions/{uuid.uuid4()}/completions",
            {
                "messages": [{"role": "assistant", "content": "hi"}],
                "prompt_info": {"prompt_template_version_id": version_id, "environment": "prod"},
                "call_info": {"model": "gpt-4o-mini", "provider": "openai"},
                "test_run_info": {"test_run_id": run["test_run_id"], "test_case_id": case["id"]},
            },
        )

    body = (await api.get(f"/test-runs/id/{run['test_run_id']}")).json()
    listed = (await api.get("/test-runs")).json()["test_runs"][0]

    assert (body["model_name"], body["prompt_version"], body["sessions_count"]) == (
        "gpt-4o-mini",
        version_id,
        2,
    )
    assert listed["model_name"] == "gpt-4o-mini"
    assert listed["sessions_count"] == 2


async def test_dataset_listings_give_a_system_messages_content_as_its_text(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
    ]
    await bulk(api, dataset["id"], [{"inputs": {"q": 1}, "history": history}])

    listed = (await api.get(f"/prompt-datasets/{dataset['id']}/test-cases")).json()["data"]
    legacy = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()

    expected = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
    ]
    assert listed[0]["history"] == expected
    assert legacy[0]["history"] == expected


async def test_numbers_beyond_64_bits_are_422_not_500(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    body = '{"data": [{"inputs": {"n": 123456789012345678901234567890}}]}'

    response = await api.client.post(
        api.url(f"/prompt-datasets/{dataset['id']}/test-cases/bulk"),
        content=body,
        headers={**api.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 422, "invalid_input")
