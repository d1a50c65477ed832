"""A key of one project reads and writes nothing of another: every REST route and every
GraphQL field, tried with another project's key, answers as if the data did not exist."""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, completion_example, create_evaluation, trace_example

SECRET = "victim-secret"


@dataclass
class Victim:
    api: Api
    dataset: dict[str, Any]
    agents: dict[str, Any]
    run_id: str
    case_id: str
    agent_case_id: str
    evaluation_id: str
    flavor_id: str
    session_id: str
    completion_id: str
    trace_id: str
    template: dict[str, Any]
    criterion: dict[str, Any]
    criterion_draft_id: str


# Path parameters any project may use alike: no victim's data is named by them.
SHARED_NAMES = {"environment"}


@pytest.fixture
async def victim(other_api: Api) -> Victim:
    """A project full of data that ``api`` (another project's key) must never reach."""
    api = other_api
    example = {**completion_example(1), "metadata": {"note": SECRET}}
    dataset = await api.dataset_with_cases(f"{SECRET}-dataset", [example])
    agents = await api.dataset_with_cases(f"{SECRET}-agents", [trace_example(1)], kind="trace")
    run = (await api.create_run(dataset["name"])).json()
    case_id = run["test_cases"][0]["id"]
    evaluation = await create_evaluation(api, f"{SECRET}-eval", "boolean")
    flavor = (await api.post("/flavors", {"name": f"{SECRET}-flavor", "settings": {}})).json()
    session_id, trace_id = str(uuid.uuid4()), str(uuid.uuid4())
    completion = await api.post(
        f"/sessions/{session_id}/completions",
        {
            "messages": [{"role": "assistant", "content": SECRET}],
            "test_run_info": {"test_run_id": run["test_run_id"], "test_case_id": case_id},
        },
    )
    agent_run = (await api.create_run(agents["name"])).json()
    await api.post(
        f"/sessions/{session_id}/traces/id/{trace_id}",
        {
            "input": SECRET,
            "test_run_info": {
                "test_run_id": agent_run["test_run_id"],
                "test_case_id": agent_run["trace_test_cases"][0]["test_case_id"],
            },
        },
    )
    template = (
        await api.post(
            "/prompt-templates/name/support/versions",
            {
                "template_messages": [{"role": "user", "content": SECRET}],
                "model": "m",
                "provider": "openai",
                "environments": ["production"],
            },
            params={"create_template_if_not_exists": "true"},
        )
    ).json()
    criterion = (
        await api.post(
            "/evaluation-criteria",
            {
                "name": f"{SECRET}-criterion",
                "target_id": template["prompt_template_id"],
                "question": SECRET,
                "type": "yes-no",
            },
        )
    ).json()
    draft = await api.post(
        f"/evaluation-criteria/id/{criterion['id']}/versions", {"question": "?", "type": "text"}
    )
    return Victim(
        api=api,
        dataset=dataset,
        agents=agents,
        run_id=run["test_run_id"],
        case_id=case_id,
        agent_case_id=agent_run["trace_test_cases"][0]["test_case_id"],
        evaluation_id=evaluation["id"],
        flavor_id=flavor["id"],
        session_id=session_id,
        completion_id=completion.json()["completion_id"],
        trace_id=trace_id,
        template=template,
        criterion=criterion,
        criterion_draft_id=draft.json()["version_id"],
    )


def rest_requests(v: Victim) -> dict[tuple[str, str], tuple[dict[str, str], Any]]:
    """Every REST route: its path parameters (the victim's) and a valid body."""
    messages = [{"role": "assistant", "content": "x"}]
    info = {"test_run_id": v.run_id, "test_case_id": v.case_id}
    base = "/api/v2/projects/{project_id}"
    ids = {
        "dataset_id": v.dataset["id"],
        "dataset_name": v.dataset["name"],
        "test_run_id": v.run_id,
        "base_test_run_id": v.run_id,
        "test_case_id": v.case_id,
        "evaluation_id": v.evaluation_id,
        "flavor_id": v.flavor_id,
        "session_id": v.session_id,
        "completion_id": v.completion_id,
        "trace_id": v.trace_id,
        "template_id": v.template["prompt_template_id"],
        "version_id": v.template["prompt_template_version_id"],
        "template_name": "support",
        "name": "support",
        "environment": "production",
        "criteria_id": v.criterion["id"],
    }
    agents = {**ids, "dataset_id": v.agents["id"], "test_case_id": v.agent_case_id}
    prompt_cases = f"{base}/prompt-datasets/{{dataset_id}}/test-cases"
    agent_cases = f"{base}/agent-datasets/{{dataset_id}}/test-cases"
    freeplay = {
        ("get", base): (ids, None),
        ("put", base): (ids, {"name": "pwned"}),
        ("delete", base): (ids, None),
        ("get", f"{base}/prompt-datasets"): (ids, None),
        ("get", f"{base}/agent-datasets"): (ids, None),
        ("get", f"{base}/datasets/id/{{dataset_id}}"): (ids, None),
        ("get", f"{base}/datasets/name/{{dataset_name}}/test-cases"): (ids, None),
        ("get", prompt_cases): (ids, None),
        ("post", f"{prompt_cases}/bulk"): (ids, {"data": [{"inputs": {}}]}),
        ("delete", f"{prompt_cases}/bulk"): (ids, {"test_case_ids": [v.case_id]}),
        ("get", f"{prompt_cases}/{{test_case_id}}"): (ids, None),
        ("patch", f"{prompt_cases}/{{test_case_id}}"): (ids, {"output": "pwned"}),
        ("delete", f"{prompt_cases}/{{test_case_id}}"): (ids, None),
        ("get", agent_cases): (agents, None),
        ("post", f"{agent_cases}/bulk"): (agents, {"data": [{"inputs": "x"}]}),
        ("delete", f"{agent_cases}/bulk"): (agents, {"test_case_ids": [v.agent_case_id]}),
        ("get", f"{agent_cases}/{{test_case_id}}"): (agents, None),
        ("patch", f"{agent_cases}/{{test_case_id}}"): (agents, {"outputs": "pwned"}),
        ("delete", f"{agent_cases}/{{test_case_id}}"): (agents, None),
    }
    draft = {**ids, "version_id": v.criterion_draft_id}
    version = {
        "template_messages": [{"role": "user", "content": "x"}],
        "model": "m",
        "provider": "openai",
    }
    templates = f"{base}/prompt-templates"
    criteria = f"{base}/evaluation-criteria"
    return {
        **freeplay,
        ("post", f"{base}/test-runs"): (ids, {"dataset_name": v.dataset["name"]}),
        ("get", f"{base}/test-runs"): (ids, None),
        ("get", f"{base}/test-runs/id/{{test_run_id}}"): (ids, None),
        ("post", f"{base}/test-runs/id/{{test_run_id}}/complete"): (ids, None),
        ("get", f"{base}/test-runs/id/{{test_run_id}}/results"): (ids, None),
        ("post", f"{base}/test-runs/id/{{test_run_id}}/cancel"): (ids, None),
        ("get", f"{base}/test-runs/id/{{test_run_id}}/compare/{{base_test_run_id}}"): (ids, None),
        ("post", f"{base}/prompt-datasets"): (ids, {"name": "x"}),
        ("post", f"{base}/agent-datasets"): (ids, {"name": "x"}),
        ("get", f"{base}/prompt-datasets/{{dataset_id}}"): (ids, None),
        ("patch", f"{base}/prompt-datasets/{{dataset_id}}"): (ids, {"description": "pwned"}),
        ("delete", f"{base}/prompt-datasets/{{dataset_id}}"): (ids, None),
        ("get", f"{base}/agent-datasets/{{dataset_id}}"): (agents, None),
        ("patch", f"{base}/agent-datasets/{{dataset_id}}"): (agents, {"description": "pwned"}),
        ("delete", f"{base}/agent-datasets/{{dataset_id}}"): (agents, None),
        ("get", f"{base}/datasets/name/{{dataset_name}}"): (ids, None),
        ("get", f"{base}/datasets"): (ids, None),
        ("get", f"{base}/datasets/id/{{dataset_id}}/test-cases"): (ids, None),
        ("post", f"{base}/datasets/id/{{dataset_id}}/test-cases"): (
            ids,
            {"examples": [{"inputs": {}}]},
        ),
        ("patch", f"{base}/datasets/id/{{dataset_id}}/test-cases/id/{{test_case_id}}"): (
            ids,
            {"output": "pwned"},
        ),
        ("delete", f"{base}/datasets/id/{{dataset_id}}/test-cases/id/{{test_case_id}}"): (
            ids,
            None,
        ),
        ("post", f"{base}/sessions/{{session_id}}/completions"): (
            ids,
            {"messages": messages, "test_run_info": info},
        ),
        ("post", f"{base}/completions/{{completion_id}}"): (ids, {"eval_results": {"x": 1}}),
        ("post", f"{base}/sessions/{{session_id}}/traces/id/{{trace_id}}"): (ids, {"input": "x"}),
        ("patch", f"{base}/sessions/{{session_id}}/traces/id/{{trace_id}}"): (
            ids,
            {"eval_results": {"x": 1}},
        ),
        ("post", f"{base}/completion-feedback/id/{{completion_id}}"): (ids, {"x": 1}),
        ("post", f"{base}/trace-feedback/id/{{trace_id}}"): (ids, {"x": 1}),
        ("patch", f"{base}/sessions/id/{{session_id}}/metadata"): (ids, {"x": 1}),
        ("patch", f"{base}/sessions/{{session_id}}/traces/id/{{trace_id}}/metadata"): (
            ids,
            {"x": 1},
        ),
        ("delete", f"{base}/sessions/{{session_id}}"): (ids, None),
        ("post", f"{base}/evaluations"): (ids, {"name": "x", "kind": "boolean"}),
        ("get", f"{base}/evaluations"): (ids, None),
        ("get", f"{base}/evaluations/{{evaluation_id}}"): (ids, None),
        ("patch", f"{base}/evaluations/{{evaluation_id}}"): (ids, {"description": "pwned"}),
        ("delete", f"{base}/evaluations/{{evaluation_id}}"): (ids, None),
        ("get", templates): (ids, None),
        ("post", templates): (ids, {"name": "x"}),
        ("get", f"{templates}/all/{{environment}}"): (ids, None),
        ("get", f"{templates}/id/{{template_id}}"): (ids, None),
        ("patch", f"{templates}/id/{{template_id}}"): (ids, {"name": "pwned"}),
        ("delete", f"{templates}/id/{{template_id}}"): (ids, None),
        ("post", f"{templates}/id/{{template_id}}/versions"): (ids, version),
        ("get", f"{templates}/id/{{template_id}}/versions"): (ids, None),
        ("post", f"{templates}/name/{{template_name}}/versions"): (ids, version),
        ("get", f"{templates}/id/{{template_id}}/versions/{{version_id}}"): (ids, None),
        ("post", f"{templates}/id/{{template_id}}/versions/{{version_id}}"): (ids, {}),
        ("delete", f"{templates}/id/{{template_id}}/versions/{{version_id}}"): (ids, None),
        ("post", f"{templates}/id/{{template_id}}/versions/{{version_id}}/environments"): (
            ids,
            {"environments": ["pwned"]},
        ),
        ("get", f"{templates}/name/{{name}}"): (ids, None),
        ("post", f"{templates}/name/{{name}}"): (ids, {}),
        ("get", criteria): (ids, None),
        ("post", criteria): (
            ids,
            {
                "name": "x",
                "target_id": v.template["prompt_template_id"],
                "question": "?",
                "type": "text",
            },
        ),
        ("get", f"{criteria}/id/{{criteria_id}}"): (ids, None),
        ("patch", f"{criteria}/id/{{criteria_id}}"): (ids, {"name": "pwned"}),
        ("delete", f"{criteria}/id/{{criteria_id}}"): (ids, None),
        ("patch", f"{criteria}/id/{{criteria_id}}/disable"): (ids, None),
        ("patch", f"{criteria}/id/{{criteria_id}}/enable"): (ids, None),
        ("patch", f"{criteria}/id/{{criteria_id}}/reorder"): (ids, {"move_before_id": None}),
        ("get", f"{criteria}/id/{{criteria_id}}/versions"): (ids, None),
        ("post", f"{criteria}/id/{{criteria_id}}/versions"): (
            ids,
            {"question": "?", "type": "text"},
        ),
        ("get", f"{criteria}/id/{{criteria_id}}/versions/{{version_id}}"): (draft, None),
        ("delete", f"{criteria}/id/{{criteria_id}}/versions/{{version_id}}"): (draft, None),
        ("post", f"{criteria}/id/{{criteria_id}}/versions/{{version_id}}/deploy"): (draft, None),
        ("post", f"{base}/flavors"): (ids, {"name": "x", "settings": {}}),
        ("get", f"{base}/flavors"): (ids, None),
        ("get", f"{base}/flavors/{{flavor_id}}"): (ids, None),
        ("patch", f"{base}/flavors/{{flavor_id}}"): (ids, {"name": "pwned"}),
        ("delete", f"{base}/flavors/{{flavor_id}}"): (ids, None),
    }


def project_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v2/projects/")
        for method in operations
    }


async def assert_victim_untouched(v: Victim) -> None:
    dataset = (await v.api.get(f"/datasets/name/{v.dataset['name']}")).json()
    assert (dataset["version"], dataset["description"]) == (1, "")
    run = (await v.api.get(f"/test-runs/id/{v.run_id}")).json()
    assert (run["status"], run["progress"]["done"]) == ("completed", 1)
    assert run["summary_statistics"]["client_evaluation"] == {}
    assert (await v.api.get("/datasets")).json()["total"] == 2
    assert [e["name"] for e in (await v.api.get("/evaluations")).json()["evaluations"]] == [
        f"{SECRET}-eval"
    ]
    assert [f["name"] for f in (await v.api.get("/flavors")).json()["flavors"]] == [
        f"{SECRET}-flavor"
    ]
    templates = (await v.api.get("/prompt-templates")).json()["data"]
    assert [(t["name"], t["latest_template_version_id"]) for t in templates] == [
        ("support", v.template["prompt_template_version_id"])
    ]
    production = (await v.api.get("/prompt-templates/name/support?environment=production")).json()
    assert production["prompt_template_version_id"] == v.template["prompt_template_version_id"]
    criterion = (await v.api.get(f"/evaluation-criteria/id/{v.criterion['id']}")).json()
    assert {**criterion, "latest_version_id": None} == {
        **v.criterion,
        "latest_version_id": None,
    }
    versions = (await v.api.get(f"/evaluation-criteria/id/{v.criterion['id']}/versions")).json()
    assert [x["is_deployed"] for x in versions["data"]] == [False, True]
    cases = (await v.api.get(f"/datasets/id/{v.dataset['id']}/test-cases")).json()
    assert [c["output"] for c in cases] == [completion_example(1)["output"]]
    kept = await v.api.client.patch(
        v.api.url(f"/sessions/id/{v.session_id}/metadata"),
        json={"still": "here"},
        headers=v.api.headers,
    )
    assert kept.status_code == 200


async def test_every_rest_route_with_another_projects_key_is_404(
    api: Api, victim: Victim, app: FastAPI
) -> None:
    requests = rest_requests(victim)
    listing = ("get", "/api/v2/projects/all")  # lists only what the key sees
    assert set(requests) | {listing} == project_routes(app), (
        "a REST route has no isolation case here"
    )
    listed = await api.client.get(listing[1], headers=api.headers)
    assert listed.json() == {"projects": [{"id": api.project_id, "name": "Test project"}]}

    for (method, template), (ids, body) in requests.items():
        own_project = {"project_id": api.project_id, **ids}
        variants = [{"project_id": victim.api.project_id, **ids}]
        if any(f"{{{name}}}" in template for name in set(ids) - SHARED_NAMES):
            variants.append(own_project)  # the victim's ids through the attacker's project
        for params in variants:
            url = template.format(**params)
            response = await api.client.request(
                method.upper(),
                url,
                json=body,
                params={"force": "true"} if method == "delete" else None,
                headers=api.headers,
            )
            assert response.status_code == 404, (method, url, response.status_code, response.text)
            assert response.json()["code"] == "not_found"
            assert SECRET not in response.text.replace(victim.dataset["name"], "").replace(
                victim.agents["name"], ""
            )

    await assert_victim_untouched(victim)


def graphql_operations(
    v: Victim, attacker_project: str
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every Query and Mutation field, called on the victim's data."""
    ds, run, case = v.dataset["id"], v.run_id, v.case_id
    victim_project = v.api.project_id
    projects = (victim_project, attacker_project)
    template = v.template["prompt_template_id"]
    template_version = v.template["prompt_template_version_id"]
    criterion = v.criterion["id"]

    def mutation(field: str, input_type: str, payload: str) -> str:
        return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {payload} }} }}"

    return {
        "project": [("query($id: ID!) { project(id: $id) { id name } }", {"id": victim_project})],
        "dataset": [("query($id: ID!) { dataset(id: $id) { id name } }", {"id": ds})],
        "testRun": [("query($id: ID!) { testRun(id: $id) { id name } }", {"id": run})],
        "compareTestRuns": [
            ("query($a: ID!) { compareTestRuns(baseId: $a, candidateId: $a) { sharedCaseCount } }", {"a": run})
        ],
        "createTestRun": [
            (mutation("createTestRun", "CreateTestRunInput", "testRun { id }"),
             {"input": {"projectId": victim_project, "datasetName": v.dataset["name"]}})
        ],
        "createDataset": [
            (mutation("createDataset", "CreateDatasetInput", "dataset { id }"),
             {"input": {"projectId": victim_project, "name": "x", "testCaseType": "COMPLETION"}})
        ],
        "addTestCases": [
            (mutation("addTestCases", "AddTestCasesInput", "version"),
             {"input": {"datasetId": ds, "completionCases": [{"values": {}}]}})
        ],
        "updateDataset": [
            (mutation("updateDataset", "UpdateDatasetInput", "dataset { id }"),
             {"input": {"datasetId": ds, "description": "pwned"}})
        ],
        "deleteDataset": [
            (mutation("deleteDataset", "DeleteDatasetInput", "deletedDatasetId"),
             {"input": {"datasetId": ds, "force": True}})
        ],
        "updateTestCase": [
            (mutation("updateTestCase", "UpdateTestCaseInput", "version"),
             {"input": {"datasetId": ds, "testCaseId": case, "completion": {"output": "pwned"}}})
        ],
        "deleteTestCases": [
            (mutation("deleteTestCases", "DeleteTestCasesInput", "version"),
             {"input": {"datasetId": ds, "testCaseIds": [case]}})
        ],
        "createEvaluation": [
            (mutation("createEvaluation", "CreateEvaluationInput", "evaluation { id }"),
             {"input": {"projectId": victim_project, "name": "x", "kind": "BOOLEAN"}})
        ],
        "updateEvaluation": [
            (mutation("updateEvaluation", "UpdateEvaluationInput", "evaluation { id }"),
             {"input": {"evaluationId": v.evaluation_id, "name": "pwned"}})
        ],
        "deleteEvaluation": [
            (mutation("deleteEvaluation", "DeleteEvaluationInput", "deletedEvaluationId"),
             {"input": {"evaluationId": v.evaluation_id}})
        ],
        "createFlavor": [
            (mutation("createFlavor", "CreateFlavorInput", "flavor { id }"),
             {"input": {"projectId": victim_project, "name": "x", "settings": {}}})
        ],
        "updateFlavor": [
            (mutation("updateFlavor", "UpdateFlavorInput", "flavor { id }"),
             {"input": {"projectId": project, "flavorId": v.flavor_id, "name": "pwned"}})
            for project in (victim_project, attacker_project)
        ],
        "deleteFlavor": [
            (mutation("deleteFlavor", "DeleteFlavorInput", "deletedFlavorId"),
             {"input": {"projectId": project, "flavorId": v.flavor_id}})
            for project in (victim_project, attacker_project)
        ],
        "recordTestCaseResult": [
            (mutation("recordTestCaseResult", "RecordTestCaseResultInput", "result { id }"),
             {"input": {"testRunId": run, "testCaseId": case, "output": "pwned"}})
        ],
        "scoreTestCaseResult": [
            (mutation("scoreTestCaseResult", "ScoreTestCaseResultInput", "result { id }"),
             {"input": {"testRunId": run, "testCaseId": case, "evaluationId": v.evaluation_id, "value": True}})
        ],
        "completeTestRun": [
            (mutation("completeTestRun", "CompleteTestRunInput", "testRun { id }"), {"input": {"testRunId": run}})
        ],
        "cancelTestRun": [
            (mutation("cancelTestRun", "CancelTestRunInput", "testRun { id }"), {"input": {"testRunId": run}})
        ],
        "model": [("query($id: ID!) { model(id: $id) { id } }", {"id": str(uuid.uuid4())})],
        "createPromptTemplate": [
            (mutation("createPromptTemplate", "CreatePromptTemplateInput", "promptTemplate { id }"),
             {"input": {"projectId": victim_project, "name": "x"}})
        ],
        "renamePromptTemplate": [
            (mutation("renamePromptTemplate", "RenamePromptTemplateInput", "promptTemplate { id }"),
             {"input": {"projectId": project, "promptTemplateId": template, "name": "pwned"}})
            for project in projects
        ],
        "deletePromptTemplate": [
            (mutation("deletePromptTemplate", "DeletePromptTemplateInput", "deletedPromptTemplateId"),
             {"input": {"projectId": project, "promptTemplateId": template}})
            for project in projects
        ],
        "createPromptTemplateVersion": [
            (mutation("createPromptTemplateVersion", "CreatePromptTemplateVersionInput", "created"),
             {"input": {"projectId": project, "promptTemplateId": template, "model": "m",
                        "provider": "openai", "templateMessages": [{"role": "user", "content": "x"}]}})
            for project in projects
        ],
        "setPromptTemplateVersionEnvironments": [
            (mutation("setPromptTemplateVersionEnvironments", "SetPromptTemplateVersionEnvironmentsInput",
                      "version { id }"),
             {"input": {"projectId": project, "promptTemplateId": template, "versionId": template_version,
                        "environments": ["pwned"]}})
            for project in projects
        ],
        "deletePromptTemplateVersion": [
            (mutation("deletePromptTemplateVersion", "DeletePromptTemplateVersionInput", "deletedVersionId"),
             {"input": {"projectId": project, "promptTemplateId": template, "versionId": template_version}})
            for project in projects
        ],
        "createEvaluationCriterion": [
            (mutation("createEvaluationCriterion", "CreateEvaluationCriterionInput", "criterion { id }"),
             {"input": {"projectId": victim_project, "name": "x", "targetId": template,
                        "version": {"question": "?", "type": "TEXT"}}})
        ],
        "updateEvaluationCriterion": [
            (mutation("updateEvaluationCriterion", "UpdateEvaluationCriterionInput", "criterion { id }"),
             {"input": {"projectId": project, "criterionId": criterion, "name": "pwned"}})
            for project in projects
        ],
        "deleteEvaluationCriterion": [
            (mutation("deleteEvaluationCriterion", "EvaluationCriterionInput", "deletedCriterionId"),
             {"input": {"projectId": project, "criterionId": criterion}})
            for project in projects
        ],
        "setEvaluationCriterionEnabled": [
            (mutation("setEvaluationCriterionEnabled", "SetEvaluationCriterionEnabledInput", "criterion { id }"),
             {"input": {"projectId": project, "criterionId": criterion, "enabled": False}})
            for project in projects
        ],
        "reorderEvaluationCriterion": [
            (mutation("reorderEvaluationCriterion", "ReorderEvaluationCriterionInput", "criterion { id }"),
             {"input": {"projectId": project, "criterionId": criterion}})
            for project in projects
        ],
        "createEvaluationCriterionVersion": [
            (mutation("createEvaluationCriterionVersion", "CreateEvaluationCriterionVersionInput",
                      "version { id }"),
             {"input": {"projectId": project, "criterionId": criterion, "deploy": True,
                        "version": {"question": "?", "type": "TEXT"}}})
            for project in projects
        ],
        "deployEvaluationCriterionVersion": [
            (mutation("deployEvaluationCriterionVersion", "EvaluationCriterionVersionInput", "criterion { id }"),
             {"input": {"projectId": project, "criterionId": criterion, "versionId": v.criterion_draft_id}})
            for project in projects
        ],
        "deleteEvaluationCriterionVersion": [
            (mutation("deleteEvaluationCriterionVersion", "EvaluationCriterionVersionInput", "deletedVersionId"),
             {"input": {"projectId": project, "criterionId": criterion, "versionId": v.criterion_draft_id}})
            for project in projects
        ],
        "bulkAddTestCases": [
            (mutation("bulkAddTestCases", "BulkAddTestCasesInput", "testCases { __typename }"),
             {"input": {"datasetId": ds, "completionCases": [{"values": {}}]}})
        ],
        "bulkDeleteTestCases": [
            (mutation("bulkDeleteTestCases", "BulkDeleteTestCasesInput", "version"),
             {"input": {"datasetId": ds, "testCaseIds": [case]}})
        ],
        "updateProject": [
            (mutation("updateProject", "UpdateProjectInput", "project { id }"),
             {"input": {"projectId": victim_project, "name": "pwned"}})
        ],
    }  # fmt: skip


async def victim_node_ids(victim: Victim) -> list[str]:
    """The id of every kind of object the victim has, as GraphQL gives them to it."""
    read = await victim.api.graphql(
        """query($id: ID!) { testRun(id: $id) {
          testCases { edges { node { ... on CompletionTestCase { id } } } }
          results { edges { node { id } } } } }""",
        {"id": victim.run_id},
    )
    run = read["data"]["testRun"]
    return [
        victim.api.project_id,
        victim.dataset["id"],
        victim.agents["id"],
        victim.run_id,
        victim.evaluation_id,
        victim.flavor_id,
        run["testCases"]["edges"][0]["node"]["id"],
        run["results"]["edges"][0]["node"]["id"],
    ]


async def test_every_graphql_field_with_another_projects_key_is_not_found(
    api: Api, victim: Victim
) -> None:
    schema = await api.graphql(
        "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
    )
    fields = {
        f["name"]
        for kind in ("queryType", "mutationType")
        for f in schema["data"]["__schema"][kind]["fields"]
    }
    operations = graphql_operations(victim, api.project_id)
    # The model catalog is instance-wide: any key reads it, only an admin key changes it.
    catalog_writes = {"upsertModel", "deleteModel"}
    assert set(operations) | {"projects", "node", "nodes", "models"} | catalog_writes == fields, (
        "a GraphQL field has no isolation case here"
    )

    for field, calls in operations.items():
        for query, variables in calls:
            body = await api.graphql(query, variables)
            assert body["data"] is None or body["data"].get(field) is None, (field, body)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], (field, body)
            assert SECRET not in str(body).replace(victim.dataset["name"], "")
    listed = await api.graphql("{ projects { id name } }")
    assert listed["data"]["projects"] == [{"id": api.project_id, "name": "Test project"}]
    for write in catalog_writes:
        body = await api.graphql(
            f'mutation {{ {write}(input: {{id: "{uuid.uuid4()}", name: "m", providerName: "p", '
            'modelFamily: "f", modelVersion: "1"}) { __typename } }'
            if write == "upsertModel"
            else f'mutation {{ {write}(input: {{id: "{uuid.uuid4()}"}}) {{ __typename }} }}'
        )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (write, body)
    # node and nodes answer an id the key may not see as one that names nothing: null.
    theirs = await victim_node_ids(victim)
    found = await api.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": theirs})
    assert found == {"data": {"nodes": [None] * len(theirs)}}
    for node_id in theirs:
        one = await api.graphql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
        assert one == {"data": {"node": None}}
    assert (
        None
        not in (
            await victim.api.graphql(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": theirs}
            )
        )["data"]["nodes"]
    )

    await assert_victim_untouched(victim)


async def test_an_admin_key_sees_every_project(api: Api, victim: Victim, db: Database) -> None:
    _, admin = await keys.create_key(db, admin=True, project_ids=[])
    admin_api = Api(api.client, admin, victim.api.project_id)

    assert (await admin_api.get(f"/test-runs/id/{victim.run_id}")).status_code == 200
    body = await admin_api.graphql("{ projects { id } }")
    assert {p["id"] for p in body["data"]["projects"]} == {api.project_id, victim.api.project_id}
