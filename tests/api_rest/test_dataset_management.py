"""Managing datasets and their cases over REST: update, list, delete, edit, versions."""

import uuid

from tests.support import Api, assert_problem, completion_example, trace_example


async def test_prompt_dataset_is_read_renamed_and_described(api: Api) -> None:
    dataset = await api.create_dataset("qa")

    renamed = await api.client.patch(
        api.url(f"/prompt-datasets/{dataset['id']}"),
        json={"name": "qa-v2", "description": "now described", "input_names": ["q"]},
        headers=api.headers,
    )
    fetched = await api.get(f"/prompt-datasets/{dataset['id']}")

    assert renamed.status_code == 200
    assert fetched.status_code == 200
    body = fetched.json()
    assert (body["name"], body["description"], body["input_names"]) == (
        "qa-v2",
        "now described",
        ["q"],
    )
    assert body["version"] == 0
    assert (await api.get("/datasets/name/qa-v2")).json()["id"] == dataset["id"]
    assert_problem(await api.get("/datasets/name/qa"), 404, "not_found")


async def test_renaming_onto_a_taken_name_is_409(api: Api) -> None:
    await api.create_dataset("first")
    second = await api.create_dataset("second")

    response = await api.client.patch(
        api.url(f"/prompt-datasets/{second['id']}"), json={"name": "first"}, headers=api.headers
    )

    assert_problem(response, 409, "conflict")


async def test_each_route_kind_sees_only_its_own_datasets(api: Api) -> None:
    prompt = await api.create_dataset("qa")
    agent = await api.create_dataset("agents", kind="trace")

    assert_problem(await api.get(f"/agent-datasets/{prompt['id']}"), 404, "not_found")
    assert_problem(await api.get(f"/prompt-datasets/{agent['id']}"), 404, "not_found")
    agent_patch = await api.client.patch(
        api.url(f"/agent-datasets/{agent['id']}"),
        json={"compatible_agent_ids": ["agent-7"]},
        headers=api.headers,
    )
    assert agent_patch.json()["compatible_agent_ids"] == ["agent-7"]


async def test_datasets_are_listed_by_name_in_numbered_pages(api: Api) -> None:
    for name in ["delta", "alpha", "charlie", "bravo", "echo"]:
        await api.create_dataset(name, kind="trace" if name == "charlie" else "completion")

    first = (await api.get("/datasets", params={"page": 1, "page_size": 2})).json()
    third = (await api.get("/datasets", params={"page": 3, "page_size": 2})).json()

    assert [d["name"] for d in first["datasets"]] == ["alpha", "bravo"]
    assert [d["name"] for d in third["datasets"]] == ["echo"]
    assert first["total"] == 5
    assert (first["page"], first["page_size"]) == (1, 2)
    assert {d["test_case_type"] for d in first["datasets"]} == {"completion"}
    assert set(first["datasets"][0]) >= {"id", "test_case_type", "version", "test_case_count"}


async def test_page_size_above_the_maximum_is_422(api: Api) -> None:
    assert_problem(await api.get("/datasets", params={"page_size": 5000}), 422, "invalid_input")
    assert_problem(await api.get("/datasets", params={"page": 0}), 422, "invalid_input")


async def test_deleting_an_unused_dataset_frees_its_name(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(1)])

    response = await api.client.delete(
        api.url(f"/prompt-datasets/{dataset['id']}"), headers=api.headers
    )

    assert (response.status_code, response.json()) == (200, {})
    assert_problem(await api.get(f"/prompt-datasets/{dataset['id']}"), 404, "not_found")
    assert (await api.post("/prompt-datasets", {"name": "qa"})).status_code == 201


async def test_deleting_a_dataset_runs_use_archives_it_and_runs_keep_their_cases(
    api: Api,
) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    deleted = await api.client.delete(
        api.url(f"/prompt-datasets/{dataset['id']}"), headers=api.headers
    )

    assert (deleted.status_code, deleted.json()) == (200, {})
    assert_problem(await api.get("/datasets/name/qa"), 404, "not_found")
    run = await api.graphql(
        """query($id: ID!) { testRun(id: $id) { dataset { name deletedAt }
             testCases { totalCount edges { node { ... on CompletionTestCase { values } } } } } }""",
        {"id": run_id},
    )
    assert run["data"]["testRun"]["dataset"]["deletedAt"] is not None
    assert [e["node"]["values"]["n"] for e in run["data"]["testRun"]["testCases"]["edges"]] == [
        0,
        1,
        2,
    ]
    assert (await api.post("/prompt-datasets", {"name": "qa"})).status_code == 201


async def test_editing_a_case_makes_a_version_and_leaves_earlier_runs_alone(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    run = (await api.create_run("qa", include_outputs=True)).json()
    case_id = run["test_cases"][1]["id"]

    edited = await api.client.patch(
        api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{case_id}"),
        json={"output": "a better answer", "metadata": {"reviewed": True}},
        headers=api.headers,
    )

    assert edited.status_code == 200
    assert edited.json()["id"] == case_id
    assert edited.json()["output"] == "a better answer"
    assert edited.json()["values"] == completion_example(1)["inputs"]
    latest = (await api.create_run("qa", include_outputs=True)).json()["test_cases"]
    assert [c["id"] for c in latest] == [c["id"] for c in run["test_cases"]]
    assert latest[1]["output"] == "a better answer"
    assert latest[1]["metadata"] == {"reviewed": True}
    assert (await api.get("/datasets/name/qa")).json()["version"] == 2
    before = (
        await api.get(f"/datasets/id/{dataset['id']}/test-cases", params={"version": 1})
    ).json()
    assert before[1]["output"] == completion_example(1)["output"]


async def test_deleting_a_case_makes_a_version(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    cases = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    response = await api.client.delete(
        api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{cases[0]['id']}"),
        headers=api.headers,
    )

    assert response.status_code == 200
    assert response.json()["dataset_version"] == 2
    after = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()
    assert [c["id"] for c in after] == [c["id"] for c in cases[1:]]
    assert (await api.get("/datasets/name/qa")).json()["test_case_count"] == 2
    run = await api.graphql(
        "query($id: ID!) { testRun(id: $id) { testCases { totalCount } } }", {"id": run_id}
    )
    assert run["data"]["testRun"]["testCases"]["totalCount"] == 3


async def test_trace_cases_are_edited_with_trace_keys(api: Api) -> None:
    dataset = await api.dataset_with_cases("agents", [trace_example(1)], kind="trace")
    case_id = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()[0]["id"]
    path = api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{case_id}")

    good = await api.client.patch(path, json={"output": [1, 2]}, headers=api.headers)
    wrong_kind = await api.client.patch(path, json={"inputs": {"q": 1}}, headers=api.headers)
    no_input = await api.client.patch(path, json={"input": None}, headers=api.headers)

    assert good.json()["output"] == [1, 2]
    assert good.json()["input"] == trace_example(1)["input"]
    assert_problem(wrong_kind, 422, "invalid_input")
    assert_problem(no_input, 422, "invalid_input")
    assert (await api.get("/datasets/name/agents")).json()["version"] == 2


async def test_invalid_edits_change_nothing(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(1)])
    case_id = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()[0]["id"]
    path = api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{case_id}")

    for changes in ({"inputs": "not an object"}, {"colour": "blue"}, {}):
        assert_problem(
            await api.client.patch(path, json=changes, headers=api.headers), 422, "invalid_input"
        )
    missing = api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{uuid.uuid4()}")
    assert_problem(
        await api.client.patch(missing, json={"output": "x"}, headers=api.headers), 404, "not_found"
    )
    assert_problem(await api.client.delete(missing, headers=api.headers), 404, "not_found")

    assert (await api.get("/datasets/name/qa")).json()["version"] == 1


async def test_test_cases_can_be_listed_by_page(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(5)])
    path = f"/datasets/id/{dataset['id']}/test-cases"

    second = (await api.get(path, params={"page": 2, "page_size": 2})).json()
    past = await api.get(path, params={"version": 9})

    assert [c["values"]["n"] for c in second] == [2, 3]
    assert_problem(past, 422, "invalid_input")
