"""The examples the REST docs show are real: sent as they are, the API accepts them and
answers in the documented shape."""

from typing import Any

import httpx

from tests.support import Api


async def schema_example(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    return schemas[name]["examples"][0]


async def test_create_prompt_dataset_example(api: Api) -> None:
    request = await schema_example(api.client, "CreatePromptDatasetRequest")
    answer = await schema_example(api.client, "PromptDatasetOut")

    response = await api.post("/prompt-datasets", request)

    assert response.status_code == 201, response.text
    assert {**response.json(), "id": answer["id"]} == answer


async def test_add_test_cases_example(api: Api) -> None:
    dataset = await api.create_dataset("support-replies")
    request = await schema_example(api.client, "AddTestCasesRequest")
    answer = await schema_example(api.client, "AddTestCasesOut")

    response = await api.post(f"/datasets/id/{dataset['id']}/test-cases", request)

    assert response.status_code == 201, response.text
    assert response.json().keys() == answer.keys()
    assert response.json()["message"] == answer["message"]


async def test_create_test_run_example(api: Api) -> None:
    dataset = await api.create_dataset("support-replies")
    await api.post(
        f"/datasets/id/{dataset['id']}/test-cases",
        await schema_example(api.client, "AddTestCasesRequest"),
    )
    evaluation = await api.post("/evaluations", {"name": "helpfulness", "kind": "numeric"})
    flavor = await api.post("/flavors", {"name": "small-model", "settings": {"model": "m"}})
    assert (evaluation.status_code, flavor.status_code) == (201, 201)
    request = await schema_example(api.client, "CreateTestRunRequest")
    answer = await schema_example(api.client, "TestRunWithTestCasesInfo")

    response = await api.post(
        "/test-runs", {**request, "target_evaluation_ids": [evaluation.json()["id"]]}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    ids = {"test_run_id": body["test_run_id"]}
    case_ids = {"id": answer["test_cases"][0]["id"], "test_case_id": answer["test_cases"][0]["id"]}
    assert {**body, **ids, "test_cases": None} == {**answer, **ids, "test_cases": None}
    assert [{**case, **case_ids} for case in body["test_cases"]] == answer["test_cases"]
