"""Dataset routes the Freeplay SDK and scripts use to fill a dataset."""

import uuid

from tests.support import Api, assert_problem, completion_example, message, trace_example


async def test_create_prompt_dataset_is_201_with_documented_keys(api: Api) -> None:
    response = await api.post(
        "/prompt-datasets",
        {
            "name": "qa",
            "description": "questions",
            "input_names": ["question"],
            "media_input_names": ["photo"],
            "support_history": True,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "description",
        "input_names",
        "media_input_names",
        "support_history",
    }
    uuid.UUID(body["id"])
    assert body["name"] == "qa"
    assert body["description"] == "questions"
    assert body["input_names"] == ["question"]
    assert body["media_input_names"] == ["photo"]
    assert body["support_history"] is True


async def test_create_prompt_dataset_with_name_only_gets_empty_defaults(api: Api) -> None:
    body = (await api.post("/prompt-datasets", {"name": "qa"})).json()

    assert body["description"] == ""
    assert body["input_names"] == []
    assert body["media_input_names"] == []
    assert body["support_history"] is False


async def test_create_agent_dataset_is_201_with_documented_keys(api: Api) -> None:
    response = await api.post(
        "/agent-datasets",
        {"name": "agents", "description": "tasks", "compatible_agent_ids": ["a1"]},
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "description", "compatible_agent_ids"}
    assert body["compatible_agent_ids"] == ["a1"]


async def test_dataset_names_are_unique_per_project(api: Api, other_api: Api) -> None:
    await api.create_dataset("qa")

    assert_problem(await api.post("/prompt-datasets", {"name": "qa"}), 409, "conflict")
    assert_problem(await api.post("/agent-datasets", {"name": "qa"}), 409, "conflict")
    assert (await other_api.post("/prompt-datasets", {"name": "qa"})).status_code == 201


async def test_dataset_name_is_required_and_not_blank(api: Api) -> None:
    assert_problem(await api.post("/prompt-datasets", {}), 422, "invalid_input")
    assert_problem(await api.post("/prompt-datasets", {"name": "  "}), 422, "invalid_input")


async def test_get_dataset_by_name_gives_its_id_and_metadata(api: Api) -> None:
    created = await api.create_dataset("qa")
    await api.add_cases(created["id"], [completion_example(1), completion_example(2)])

    response = await api.get("/datasets/name/qa")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["name"] == "qa"
    assert body["test_case_type"] == "completion"
    assert body["test_case_count"] == 2
    assert body["version"] == 1


async def test_get_unknown_dataset_name_is_404(api: Api) -> None:
    assert_problem(await api.get("/datasets/name/nope"), 404, "not_found")


async def test_add_test_cases_is_201_and_listing_is_a_bare_array(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    examples = [completion_example(i) for i in range(3)]

    added = await api.post(f"/datasets/id/{dataset['id']}/test-cases", {"examples": examples})
    listed = await api.get(f"/datasets/id/{dataset['id']}/test-cases")

    assert added.status_code == 201
    assert added.json()["dataset_version"] == 1
    assert listed.status_code == 200
    items = listed.json()
    assert isinstance(items, list)
    assert [item["id"] for item in items] == added.json()["test_case_ids"]
    for item, example in zip(items, examples, strict=True):
        assert {"id", "values", "output", "output_message", "history", "metadata"} <= set(item)
        assert item["values"] == example["inputs"]
        assert item["output"] == example["output"]
        assert item["output_message"] == example["output_message"]
        assert item["history"] == example["history"]
        assert item["metadata"] == example["metadata"]


async def test_listing_keeps_the_output_key_when_there_is_no_output(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    await api.add_cases(dataset["id"], [{"inputs": {"q": "x"}}])

    item = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()[0]

    assert item["output"] is None
    assert item["history"] is None
    assert item["metadata"] is None


async def test_trace_cases_are_added_and_listed(api: Api) -> None:
    dataset = await api.create_dataset("agents", kind="trace")
    examples = [trace_example(1), {"input": "just text"}]
    await api.add_cases(dataset["id"], examples)

    items = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()

    assert [set(i) for i in items] == [{"id", "input", "output", "custom_metadata"}] * 2
    assert items[0]["input"] == examples[0]["input"]
    assert items[1] == {
        "id": items[1]["id"],
        "input": "just text",
        "output": None,
        "custom_metadata": None,
    }


async def test_invalid_examples_are_422_and_nothing_is_written(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    bad_batches = [
        [completion_example(1), {"inputs": ["not", "an", "object"]}],
        [completion_example(1), {"output": "no inputs"}],
        [{"inputs": {}, "output_message": {"role": "assistant", "content": [{"type": "image"}]}}],
        [{"inputs": {}, "history": [message("user", "x"), "not a message"]}],
        [],
    ]

    for examples in bad_batches:
        response = await api.post(
            f"/datasets/id/{dataset['id']}/test-cases", {"examples": examples}
        )
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["loc"][0] == "examples"

    assert (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json() == []
    assert (await api.get("/datasets/name/qa")).json()["version"] == 0


async def test_invalid_example_error_names_its_index(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    examples = [completion_example(0), completion_example(1), {"inputs": "text"}]

    response = await api.post(f"/datasets/id/{dataset['id']}/test-cases", {"examples": examples})

    assert assert_problem(response, 422, "invalid_input")["errors"][0]["loc"] == [
        "examples",
        2,
        "inputs",
    ]


async def test_trace_example_needs_an_input(api: Api) -> None:
    dataset = await api.create_dataset("agents", kind="trace")
    for example in ({"output": "x"}, {"input": None}):
        response = await api.post(
            f"/datasets/id/{dataset['id']}/test-cases", {"examples": [example]}
        )
        assert_problem(response, 422, "invalid_input")


async def test_unknown_dataset_id_is_404(api: Api) -> None:
    for dataset_id in (str(uuid.uuid4()), "not-a-uuid"):
        path = f"/datasets/id/{dataset_id}/test-cases"
        assert_problem(await api.get(path), 404, "not_found")
        assert_problem(
            await api.post(path, {"examples": [completion_example(1)]}), 404, "not_found"
        )


async def test_another_projects_dataset_is_404_even_through_own_project(
    api: Api, other_api: Api
) -> None:
    theirs = await other_api.create_dataset("theirs")

    assert_problem(await api.get(f"/datasets/id/{theirs['id']}/test-cases"), 404, "not_found")
    response = await api.client.get(
        other_api.url(f"/datasets/id/{theirs['id']}/test-cases"), headers=api.headers
    )
    assert_problem(response, 404, "not_found")
