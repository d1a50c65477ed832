"""Prompt templates, the model catalog and evaluation criteria over GraphQL: the same domain
as REST, so what one writes the other reads."""

from typing import Any

import pytest

from app.db.engine import Database
from app.domain import keys, llm_models
from tests.support import Api, completion_example

MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
SECRET = "sk-proj-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c"

CREATE_VERSION = """
mutation($input: CreatePromptTemplateVersionInput!) {
  createPromptTemplateVersion(input: $input) {
    created
    version {
      id templateId number environments model provider llmParameters
      messages { __typename ... on TemplateChatMessage { role content } ... on HistoryPlaceholder { kind } }
      providerInfo { baseUrl apiKeyEnv }
    }
  }
}"""

TEMPLATE = """
query($project: ID!, $name: String!, $env: String!, $vars: JSON!, $history: JSON) {
  project(id: $project) {
    promptTemplate(name: $name) {
      id name
      version(environment: $env) { id number render(variables: $vars, history: $history) { role content } }
      versions(first: 10) { totalCount edges { node { number environments } } }
    }
  }
}"""

UPSERT_MODEL = """
mutation($input: UpsertModelInput!) {
  upsertModel(input: $input) { model { id name providerInfo { baseUrl apiKeyEnv inputPricePerMillionTokens } } }
}"""

CREATE_CRITERION = """
mutation($input: CreateEvaluationCriterionInput!) {
  createEvaluationCriterion(input: $input) {
    criterion { id name type direction isEnabled position llmEvalEnabled latestVersionId
                deployedVersion { number rubric model { id name } } }
  }
}"""

MESSAGES = [
    {"role": "system", "content": "You help {{customer}}."},
    {"kind": "history"},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture
async def admin(api: Api, db: Database) -> Api:
    _, key = await keys.create_key(db, admin=True, project_ids=[])
    return Api(api.client, key, api.project_id)


def model_input(**changes: Any) -> dict[str, Any]:
    return {
        "id": MODEL_ID,
        "name": "judge",
        "providerName": "openai",
        "modelFamily": "gpt-4o",
        "modelVersion": "1",
        "providerInfo": {
            "baseUrl": "http://127.0.0.1:9/v1",
            "apiKeyEnv": "JUDGE_KEY",
            "inputPricePerMillionTokens": 0.15,
        },
        **changes,
    }


async def create_version(api: Api, **changes: Any) -> dict[str, Any]:
    fields = {
        "projectId": api.project_id,
        "promptTemplateName": "support",
        "createTemplate": True,
        "templateMessages": MESSAGES,
        "model": "judge",
        "provider": "openai",
        "llmParameters": {"temperature": 0.1},
        **changes,
    }
    body = await api.graphql(CREATE_VERSION, {"input": fields})
    assert "errors" not in body, body
    return body["data"]["createPromptTemplateVersion"]


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


async def test_versions_deploy_and_render_and_rest_reads_the_same(api: Api, admin: Api) -> None:
    assert "errors" not in await admin.graphql(UPSERT_MODEL, {"input": model_input()})
    first = await create_version(api, environments=["production"])
    again = await create_version(api, environments=["production"])
    second = await create_version(api, model="other")

    assert (first["created"], again["created"], second["created"]) == (True, False, True)
    assert first["version"]["messages"][1] == {
        "__typename": "HistoryPlaceholder",
        "kind": "history",
    }
    assert first["version"]["providerInfo"] == {
        "baseUrl": "http://127.0.0.1:9/v1",
        "apiKeyEnv": "JUDGE_KEY",
    }
    assert second["version"]["providerInfo"] is None

    body = await api.graphql(
        TEMPLATE,
        {
            "project": api.project_id,
            "name": "support",
            "env": "production",
            "vars": {"customer": "Ada", "question": "Why?"},
            "history": [{"role": "user", "content": "Hello"}],
        },
    )
    template = body["data"]["project"]["promptTemplate"]
    assert template["version"]["number"] == 1
    assert template["version"]["render"] == [
        {"role": "system", "content": "You help Ada."},
        {"role": "user", "content": "Hello"},
        {"role": "user", "content": "Why?"},
    ]
    assert [e["node"] for e in template["versions"]["edges"]] == [
        {"number": 2, "environments": ["latest"]},
        {"number": 1, "environments": ["production"]},
    ]
    rest = await api.get("/prompt-templates/name/support", params={"environment": "production"})
    assert rest.json()["prompt_template_version_id"] == first["version"]["id"]

    moved = await api.graphql(
        """mutation($input: SetPromptTemplateVersionEnvironmentsInput!) {
             setPromptTemplateVersionEnvironments(input: $input) { version { environments } } }""",
        {
            "input": {
                "projectId": api.project_id,
                "promptTemplateId": template["id"],
                "versionId": second["version"]["id"],
                "environments": ["latest", "production"],
            }
        },
    )
    assert moved["data"]["setPromptTemplateVersionEnvironments"]["version"]["environments"] == [
        "latest",
        "production",
    ]


async def test_rendering_names_the_missing_variables(api: Api) -> None:
    await create_version(api)
    body = await api.graphql(
        TEMPLATE, {"project": api.project_id, "name": "support", "env": "latest", "vars": {}}
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MISSING_VARIABLES"
    assert "customer, question" in error["message"]


async def test_rendering_refuses_a_history_that_is_not_a_list(api: Api) -> None:
    await create_version(api)
    body = await api.graphql(
        TEMPLATE,
        {
            "project": api.project_id,
            "name": "support",
            "env": "latest",
            "vars": {"customer": "Ada", "question": "Why?"},
            "history": 5,
        },
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert "history must be a list of messages" in error["message"]


async def test_invalid_versions_are_refused_and_nothing_is_written(api: Api) -> None:
    for changes in (
        {"templateMessages": [{"role": "robot", "content": "x"}]},
        {"templateMessages": [{"kind": "history"}, {"kind": "history"}]},
        {"llmParameters": [1, 2]},
        {"environments": ["has space"]},
    ):
        fields = {
            "projectId": api.project_id,
            "promptTemplateName": "support",
            "createTemplate": True,
            "templateMessages": MESSAGES,
            "model": "m",
            "provider": "openai",
            **changes,
        }
        assert error_code(await api.graphql(CREATE_VERSION, {"input": fields})) == "INVALID_INPUT"
    listed = await api.graphql(
        "query($p: ID!) { project(id: $p) { promptTemplates { totalCount } } }",
        {"p": api.project_id},
    )
    assert listed["data"]["project"]["promptTemplates"]["totalCount"] == 0


async def test_only_an_admin_changes_models_and_keys_are_never_taken(api: Api, admin: Api) -> None:
    assert error_code(await api.graphql(UPSERT_MODEL, {"input": model_input()})) == "FORBIDDEN"
    for info in ({"apiKeyEnv": SECRET}, {"baseUrl": f"https://u:{SECRET}@example.test/v1"}):
        response = await admin.graphql_response(
            UPSERT_MODEL, {"input": model_input(providerInfo=info)}
        )
        assert SECRET not in response.text
        assert error_code(response.json()) == "INVALID_INPUT"

    made = await admin.graphql(UPSERT_MODEL, {"input": model_input()})
    assert made["data"]["upsertModel"]["model"]["providerInfo"] == {
        "baseUrl": "http://127.0.0.1:9/v1",
        "apiKeyEnv": "JUDGE_KEY",
        "inputPricePerMillionTokens": 0.15,
    }
    listed = await api.graphql("{ models { totalCount edges { node { id name } } } }")
    assert listed["data"]["models"]["edges"] == [{"node": {"id": MODEL_ID, "name": "judge"}}]
    rest = await api.client.get(f"/api/v2/models/{MODEL_ID}", headers=api.headers)
    assert rest.json()["provider_info"]["api_key_env"] == "JUDGE_KEY"


async def test_criteria_versions_deploy_enable_and_order(api: Api, admin: Api) -> None:
    await admin.graphql(UPSERT_MODEL, {"input": model_input()})
    template_id = (await create_version(api))["version"]["templateId"]

    async def create(name: str, **changes: Any) -> dict[str, Any]:
        version = {
            "question": "Helpful?",
            "type": "ONE_TO_FIVE",
            "rubric": {"1": "no", "5": "yes"},
            "llmEvalEnabled": True,
            "modelId": MODEL_ID,
        }
        fields = {
            "projectId": api.project_id,
            "name": name,
            "targetId": template_id,
            "version": version,
        }
        body = await api.graphql(CREATE_CRITERION, {"input": {**fields, **changes}})
        assert "errors" not in body, body
        return body["data"]["createEvaluationCriterion"]["criterion"]

    a = await create("a")
    b = await create("b", direction="LOWER")
    assert (a["type"], a["direction"], a["llmEvalEnabled"]) == ("ONE_TO_FIVE", "HIGHER", True)
    assert a["deployedVersion"]["model"] == {"id": MODEL_ID, "name": "judge"}
    assert b["position"] == 1

    made = await api.graphql(
        """mutation($input: CreateEvaluationCriterionVersionInput!) {
             createEvaluationCriterionVersion(input: $input) {
               criterion { type latestVersionId } version { id number isDeployed } } }""",
        {
            "input": {
                "projectId": api.project_id,
                "criterionId": a["id"],
                "version": {"question": "Short?", "type": "YES_NO"},
            }
        },
    )
    payload = made["data"]["createEvaluationCriterionVersion"]
    assert payload["criterion"]["type"] == "ONE_TO_FIVE"
    assert (payload["version"]["number"], payload["version"]["isDeployed"]) == (2, False)
    deployed = await api.graphql(
        """mutation($input: EvaluationCriterionVersionInput!) {
             deployEvaluationCriterionVersion(input: $input) { criterion { type llmEvalEnabled } } }""",
        {
            "input": {
                "projectId": api.project_id,
                "criterionId": a["id"],
                "versionId": payload["version"]["id"],
            }
        },
    )
    assert deployed["data"]["deployEvaluationCriterionVersion"]["criterion"] == {
        "type": "YES_NO",
        "llmEvalEnabled": False,
    }

    await api.graphql(
        """mutation($input: ReorderEvaluationCriterionInput!) {
             reorderEvaluationCriterion(input: $input) { criterion { position } } }""",
        {"input": {"projectId": api.project_id, "criterionId": b["id"], "moveBeforeId": a["id"]}},
    )
    await api.graphql(
        """mutation($input: SetEvaluationCriterionEnabledInput!) {
             setEvaluationCriterionEnabled(input: $input) { criterion { isEnabled } } }""",
        {"input": {"projectId": api.project_id, "criterionId": a["id"], "enabled": False}},
    )
    listed = await api.graphql(
        "query($p: ID!) { project(id: $p) { evaluationCriteria { edges { node { name isEnabled } } } } }",
        {"p": api.project_id},
    )
    assert [e["node"] for e in listed["data"]["project"]["evaluationCriteria"]["edges"]] == [
        {"name": "b", "isEnabled": True},
        {"name": "a", "isEnabled": False},
    ]
    rest = (await api.get("/evaluation-criteria")).json()["data"]
    assert [(c["name"], c["is_enabled"], c["direction"]) for c in rest] == [
        ("b", True, "lower"),
        ("a", False, "higher"),
    ]

    bad = await api.graphql(
        CREATE_CRITERION,
        {
            "input": {
                "projectId": api.project_id,
                "name": "c",
                "targetId": template_id,
                "version": {"question": "?", "type": "ONE_TO_THREE", "rubric": {"9": "no"}},
            }
        },
    )
    assert error_code(bad) == "INVALID_INPUT"
    not_an_object = await api.graphql(
        CREATE_CRITERION,
        {
            "input": {
                "projectId": api.project_id,
                "name": "c",
                "targetId": template_id,
                "version": {"question": "?", "type": "ONE_TO_THREE", "rubric": ["no"]},
            }
        },
    )
    assert error_code(not_an_object) == "INVALID_INPUT"
    assert not_an_object["errors"][0]["message"] == "rubric must be an object"


async def test_a_test_run_lists_the_criteria_it_targets(api: Api) -> None:
    template_id = (await create_version(api))["version"]["templateId"]
    body = await api.graphql(
        CREATE_CRITERION,
        {
            "input": {
                "projectId": api.project_id,
                "name": "helpful",
                "targetId": template_id,
                "version": {"question": "Helpful?", "type": "YES_NO"},
            }
        },
    )
    criterion_id = body["data"]["createEvaluationCriterion"]["criterion"]["id"]
    await api.dataset_with_cases("cases", [completion_example(0)])

    run = await api.graphql(
        """mutation($input: CreateTestRunInput!) {
             createTestRun(input: $input) { testRun { targetEvaluations { id } targetCriteria { id name } } } }""",
        {
            "input": {
                "projectId": api.project_id,
                "datasetName": "cases",
                "targetEvaluationIds": [criterion_id],
            }
        },
    )

    test_run = run["data"]["createTestRun"]["testRun"]
    assert test_run == {
        "targetEvaluations": [],
        "targetCriteria": [{"id": criterion_id, "name": "helpful"}],
    }


async def test_another_projects_key_sees_nothing(api: Api, other_api: Api) -> None:
    template_id = (await create_version(api))["version"]["templateId"]
    query = """query($p: ID!, $t: ID!) { project(id: $p) { promptTemplate(id: $t) { name } } }"""

    body = await other_api.graphql(query, {"p": api.project_id, "t": template_id})
    assert error_code(body) == "NOT_FOUND"
    body = await other_api.graphql(query, {"p": other_api.project_id, "t": template_id})
    assert error_code(body) == "NOT_FOUND"
    renamed = await other_api.graphql(
        """mutation($input: RenamePromptTemplateInput!) {
             renamePromptTemplate(input: $input) { promptTemplate { name } } }""",
        {"input": {"projectId": api.project_id, "promptTemplateId": template_id, "name": "mine"}},
    )
    assert error_code(renamed) == "NOT_FOUND"
    mine = await api.graphql(query, {"p": api.project_id, "t": template_id})
    assert mine["data"]["project"]["promptTemplate"] == {"name": "support"}


async def test_prices_read_back_as_numbers(api: Api, admin: Api, db: Database) -> None:
    prices = {"input_price_per_million_tokens": "0.15", "output_price_per_million_tokens": 2.5}
    made = await admin.client.post(
        "/api/v2/models",
        json={
            "id": MODEL_ID,
            "name": "judge",
            "provider_name": "openai",
            "model_family": "gpt-4o",
            "model_version": "1",
            "provider_info": {"api_key_env": "JUDGE_KEY", **prices},
        },
        headers=admin.headers,
    )
    assert made.status_code == 200, made.text
    # REST keeps Freeplay's shape (string values), each the decimal text of the number
    rest = (await api.client.get(f"/api/v2/models/{MODEL_ID}", headers=api.headers)).json()
    assert float(rest["provider_info"]["input_price_per_million_tokens"]) == 0.15
    assert float(rest["provider_info"]["output_price_per_million_tokens"]) == 2.5
    read = await api.graphql(
        "{ models { edges { node { providerInfo {"
        " inputPricePerMillionTokens outputPricePerMillionTokens } } } } }"
    )
    info = read["data"]["models"]["edges"][0]["node"]["providerInfo"]
    assert info == {"inputPricePerMillionTokens": 0.15, "outputPricePerMillionTokens": 2.5}
    assert all(isinstance(price, float) for price in info.values())
    # the runner prices calls with what the catalog reads
    found = await llm_models.find_model(db, "openai", "judge")
    assert found is not None
    assert found.provider_info is not None
    assert found.provider_info.input_price_per_million_tokens == 0.15
    assert found.provider_info.output_price_per_million_tokens == 2.5
