"""Every error of createTestRun over GraphQL carries a stable extensions.code."""

import uuid

from app.db.engine import Database
from app.domain import evaluations
from app.domain.keys import OPERATOR
from tests.support import Api, completion_example

CREATE = (
    """mutation($input: CreateTestRunInput!) { createTestRun(input: $input) { testRun { id } } }"""
)


async def create_error(api: Api, **fields: object) -> dict:  # type: ignore[type-arg]
    body = await api.graphql(CREATE, {"input": {"projectId": api.project_id, **fields}})
    assert body["data"] is None
    [error] = body["errors"]
    return error


async def test_unknown_dataset_name_is_not_found(api: Api) -> None:
    error = await create_error(api, datasetName="nope")

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "nope" in error["message"]


async def test_target_evaluation_ids_that_are_not_uuids_are_invalid_input(api: Api) -> None:
    await api.create_dataset("qa")

    error = await create_error(api, datasetName="qa", targetEvaluationIds=["nope"])

    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["fields"][0]["loc"] == ["targetEvaluationIds", 0]


async def test_evaluations_not_in_the_project_are_invalid_input(
    api: Api, other_api: Api, db: Database
) -> None:
    await api.create_dataset("qa")
    theirs = await evaluations.create_evaluation(
        db,
        OPERATOR,
        other_api.project_id,
        evaluations.NewEvaluation("x", evaluations.EvaluationKind.NUMERIC),
    )

    for ids in ([str(uuid.uuid4())], [theirs.id]):
        error = await create_error(api, datasetName="qa", targetEvaluationIds=ids)
        assert error["extensions"]["code"] == "INVALID_INPUT"


async def test_unknown_flavor_is_invalid_input(api: Api) -> None:
    await api.create_dataset("qa")

    error = await create_error(api, datasetName="qa", flavorName="nope")

    assert error["extensions"]["code"] == "INVALID_INPUT"


async def test_missing_dataset_name_fails_validation(api: Api) -> None:
    error = await create_error(api)

    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "datasetName" in error["message"]


async def test_malformed_query_fails_validation(api: Api) -> None:
    body = await api.graphql("mutation { createTestRun(")

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_project_of_another_key_is_not_found(api: Api, other_api: Api) -> None:
    await other_api.dataset_with_cases("theirs", [completion_example(1)])

    body = await api.graphql(
        CREATE, {"input": {"projectId": other_api.project_id, "datasetName": "theirs"}}
    )
    missing = await api.graphql(
        CREATE, {"input": {"projectId": str(uuid.uuid4()), "datasetName": "theirs"}}
    )

    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "theirs" not in str(body)


async def test_missing_or_wrong_key_is_unauthenticated(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer trk_nope"}):
        response = await api.client.post(
            "/graphql", json={"query": "{ projects { id } }"}, headers=headers
        )

        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.json()["data"] is None


async def test_queries_of_unknown_ids_are_not_found(api: Api) -> None:
    body = await api.graphql(
        """{ project(id: "x") { id } testRun(id: "%s") { id } dataset(id: "y") { id } }"""
        % uuid.uuid4()
    )

    assert body["data"] == {"project": None, "testRun": None, "dataset": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"] * 3


async def test_bad_cursor_is_invalid_input(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    body = await api.graphql(
        'query($id: ID!) { testRun(id: $id) { testCases(after: "garbage") { totalCount } } }',
        {"id": run_id},
    )

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_adding_cases_of_the_wrong_kind_is_invalid_input(api: Api) -> None:
    dataset = await api.create_dataset("qa")

    body = await api.graphql(
        """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }""",
        {"input": {"datasetId": dataset["id"], "traceCases": [{"input": {"a": 1}}]}},
    )

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert (await api.get("/datasets/name/qa")).json()["version"] == 0
