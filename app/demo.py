"""Demo data: one project, a key for it, a completion dataset and a trace dataset.

Idempotent: a second run finds the project and key recorded in ``data/demo.json`` and
creates nothing new.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.db.engine import Database
from app.domain import datasets, evaluations, keys, projects, test_cases
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.errors import NotFound
from app.domain.keys import OPERATOR
from app.domain.pagination import Window
from app.settings import Settings

PROJECT_NAME = "Demo project"
COMPLETION_DATASET = "support-replies"
TRACE_DATASET = "agent-tasks"


def demo_cases() -> dict[str, list[dict[str, Any]]]:
    """The demo datasets' test cases, by dataset name."""
    cases: dict[str, list[dict[str, Any]]] = orjson.loads(
        (Path(__file__).parent / "demo_cases.json").read_bytes()
    )
    return cases


@dataclass(frozen=True)
class Demo:
    project_id: str
    api_key: str


async def ensure_demo(db: Database, settings: Settings) -> Demo:
    """The demo project and its key, created on first use and reused afterwards."""
    demo = _read_demo_file(settings)
    project = None
    if demo is not None:
        try:
            project = await projects.get_project(db, OPERATOR, demo.project_id)
        except NotFound:
            project = None
    if project is None:
        project = await projects.create_project(db, PROJECT_NAME)
    if (
        demo is None
        or demo.project_id != project.id
        or not await keys.is_valid_key(db, demo.api_key)
    ):
        _, api_key = await keys.create_key(
            db, admin=False, project_ids=[project.id], name="demo key"
        )
        demo = Demo(project_id=project.id, api_key=api_key)
        _write_demo_file(settings, demo)
    await _ensure_demo_data(db, project.id)
    return demo


async def _ensure_demo_data(db: Database, project_id: str) -> None:
    cases = demo_cases()
    existing = {
        d.name
        for d in (await datasets.list_datasets(db, OPERATOR, project_id, window=Window(1000))).items
    }
    for name, kind, description, examples in (
        (
            COMPLETION_DATASET,
            TestCaseType.COMPLETION,
            "Customer support questions with the replies we expect.",
            cases[COMPLETION_DATASET],
        ),
        (
            TRACE_DATASET,
            TestCaseType.TRACE,
            "Multi-step tasks for the support agent.",
            cases[TRACE_DATASET],
        ),
    ):
        if name in existing:
            continue
        dataset = await datasets.create_dataset(
            db,
            OPERATOR,
            project_id,
            NewDataset(
                name=name,
                test_case_type=kind,
                description=description,
                input_names=("customer_name", "product", "question")
                if kind is TestCaseType.COMPLETION
                else (),
                support_history=kind is TestCaseType.COMPLETION,
            ),
        )
        await test_cases.add_test_cases(db, OPERATOR, project_id, dataset.id, examples)
    if not await evaluations.list_evaluations(db, OPERATOR, project_id):
        for new in (
            evaluations.NewEvaluation(
                "helpfulness", evaluations.EvaluationKind.NUMERIC, description="1 to 5"
            ),
            evaluations.NewEvaluation(
                "policy-compliant",
                evaluations.EvaluationKind.BOOLEAN,
                evaluations.EvaluationSource.HUMAN,
            ),
            evaluations.NewEvaluation(
                "tone",
                evaluations.EvaluationKind.CATEGORY,
                categories=("friendly", "neutral", "curt"),
            ),
        ):
            await evaluations.create_evaluation(db, OPERATOR, project_id, new)
    if not await evaluations.list_flavors(db, OPERATOR, project_id):
        await evaluations.create_flavor(
            db,
            OPERATOR,
            project_id,
            "small-model",
            {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.2},
        )


def saved_demo(settings: Settings) -> Demo | None:
    """The demo project and key recorded by ``ensure_demo``, if any (the project may since
    have been deleted)."""
    return _read_demo_file(settings)


def _read_demo_file(settings: Settings) -> Demo | None:
    try:
        data = orjson.loads(settings.demo_file.read_bytes())
        return Demo(project_id=str(data["project_id"]), api_key=str(data["api_key"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_demo_file(settings: Settings, demo: Demo) -> None:
    path = settings.demo_file
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # Created readable by its owner only: it holds a key the database keeps only as a hash.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(orjson.dumps({"project_id": demo.project_id, "api_key": demo.api_key}))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def instructions(demo: Demo, base_url: str) -> str:
    """What a person needs to start: the key, the project, and calls to paste."""
    rest_body = orjson.dumps({"dataset_name": COMPLETION_DATASET, "include_outputs": True}).decode()
    query = (
        f'mutation {{ createTestRun(input: {{projectId: "{demo.project_id}", '
        f'datasetName: "{COMPLETION_DATASET}"}}) {{ testRun {{ id name testCases(first: 3) '
        "{ edges { node { __typename ... on CompletionTestCase { id values } "
        "... on TraceTestCase { id input } } } } } } }"
    )
    graphql_body = orjson.dumps({"query": query}).decode()
    return f"""
testrun-gateway demo
  API key     {demo.api_key}
  Project id  {demo.project_id}
  Datasets    {COMPLETION_DATASET} (20 completion cases), {TRACE_DATASET} (5 trace cases)

Create a test run over REST:
  curl -s -X POST {base_url}/api/v2/projects/{demo.project_id}/test-runs \\
    -H 'Authorization: Bearer {demo.api_key}' -H 'Content-Type: application/json' \\
    -d '{rest_body}'

The same over GraphQL (GraphiQL: {base_url}/graphql, REST docs: {base_url}/docs):
  curl -s -X POST {base_url}/graphql \\
    -H 'Authorization: Bearer {demo.api_key}' -H 'Content-Type: application/json' \\
    -d '{graphql_body}'

In the browser:
  Console     {base_url}/ (paste the API key once)
  GraphiQL    {base_url}/graphql (this key filled in)
  REST docs   {base_url}/docs and {base_url}/redoc
"""
