"""What Freeplay's API offers, for frontends too: datasets listed by type, bulk add and delete
of test cases (at most 100 at a time, all or nothing), and a project's settings."""

from typing import Any

from tests.support import Api, completion_example

DATASETS_OF_TYPE = """
query($id: ID!, $type: TestCaseType!, $first: Int, $after: String) {
  project(id: $id) {
    datasets(testCaseType: $type, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { name testCaseType } }
    }
  }
}"""

BULK_ADD = """
mutation($input: BulkAddTestCasesInput!) {
  bulkAddTestCases(input: $input) {
    dataset { testCaseCount version }
    testCases { __typename ... on CompletionTestCase { testCaseId values output }
                ... on TraceTestCase { testCaseId input } }
  }
}"""

BULK_DELETE = """
mutation($input: BulkDeleteTestCasesInput!) {
  bulkDeleteTestCases(input: $input) { version dataset { testCaseCount } }
}"""

UPDATE_PROJECT = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) {
    project { id name settings { isPrivate freeplaySpendLimitUsd dataRetentionDays
                                 enableEvalInsights enableReviewInsights } }
  }
}"""


def completion(i: int) -> dict[str, Any]:
    return {"values": {"q": i}, "output": f"a{i}"}


async def test_datasets_are_listed_by_type_a_page_at_a_time(api: Api) -> None:
    for name in ("c", "a", "b"):
        await api.create_dataset(name)
    await api.create_dataset("flows", kind="trace")
    variables = {"id": api.project_id, "type": "COMPLETION", "first": 2}

    first = (await api.graphql(DATASETS_OF_TYPE, variables))["data"]["project"]["datasets"]
    after = first["pageInfo"]["endCursor"]
    second = (await api.graphql(DATASETS_OF_TYPE, {**variables, "after": after}))["data"]
    traces = (await api.graphql(DATASETS_OF_TYPE, {**variables, "type": "TRACE"}))["data"]

    assert [e["node"]["name"] for e in first["edges"]] == ["a", "b"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (3, True)
    assert [e["node"]["name"] for e in second["project"]["datasets"]["edges"]] == ["c"]
    assert [e["node"]["name"] for e in traces["project"]["datasets"]["edges"]] == ["flows"]


async def test_bulk_add_returns_the_cases_made_in_one_version(api: Api) -> None:
    dataset = await api.create_dataset("qa")

    answer = await api.graphql(
        BULK_ADD,
        {
            "input": {
                "datasetId": dataset["id"],
                "completionCases": [completion(i) for i in range(3)],
            }
        },
    )

    payload = answer["data"]["bulkAddTestCases"]
    assert payload["dataset"] == {"testCaseCount": 3, "version": 1}
    assert [c["values"] for c in payload["testCases"]] == [{"q": 0}, {"q": 1}, {"q": 2}]
    listed = (await api.get(f"/prompt-datasets/{dataset['id']}/test-cases")).json()["data"]
    assert [c["id"] for c in listed] == [c["testCaseId"] for c in payload["testCases"]]


async def test_bulk_add_of_more_than_100_or_of_the_wrong_kind_writes_nothing(api: Api) -> None:
    dataset = await api.create_dataset("qa")

    too_many = await api.graphql(
        BULK_ADD,
        {
            "input": {
                "datasetId": dataset["id"],
                "completionCases": [completion(i) for i in range(101)],
            }
        },
    )
    wrong_kind = await api.graphql(
        BULK_ADD, {"input": {"datasetId": dataset["id"], "traceCases": [{"input": 1}]}}
    )

    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "at most 100" in too_many["errors"][0]["message"]
    assert wrong_kind["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert (await api.get("/datasets/name/qa")).json()["test_case_count"] == 0


async def test_bulk_delete_removes_every_named_case_or_none(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    ids = [c["id"] for c in (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()]

    unknown = await api.graphql(
        BULK_DELETE,
        {"input": {"datasetId": dataset["id"], "testCaseIds": [ids[0], dataset["id"]]}},
    )
    deleted = await api.graphql(
        BULK_DELETE, {"input": {"datasetId": dataset["id"], "testCaseIds": ids[:2]}}
    )

    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert deleted["data"]["bulkDeleteTestCases"] == {"version": 2, "dataset": {"testCaseCount": 1}}


async def test_a_projects_settings_are_changed_and_read_as_given(api: Api) -> None:
    answer = await api.graphql(
        UPDATE_PROJECT,
        {
            "input": {
                "projectId": api.project_id,
                "name": "Renamed",
                "freeplaySpendLimitUsd": 100,
                "enableEvalInsights": False,
            }
        },
    )

    project = answer["data"]["updateProject"]["project"]
    assert project["name"] == "Renamed"
    assert project["settings"] == {
        "isPrivate": False,
        "freeplaySpendLimitUsd": 100,
        "dataRetentionDays": None,
        "enableEvalInsights": False,
        "enableReviewInsights": True,
    }
    rest = (await api.client.get(f"/api/v2/projects/{api.project_id}", headers=api.headers)).json()
    assert (rest["name"], rest["freeplay_spend_limit_usd"]) == ("Renamed", 100)


async def test_a_project_the_key_may_not_see_cannot_be_updated(api: Api, other_api: Api) -> None:
    answer = await api.graphql(
        UPDATE_PROJECT, {"input": {"projectId": other_api.project_id, "name": "mine"}}
    )

    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
