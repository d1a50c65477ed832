"""Fixtures for runs the server executes: a fake OpenAI-compatible server on a loopback
port, a prompt template version calling it, LLM-judged criteria, and a worker."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.db.engine import Database
from app.domain import criteria, datasets, execution, llm_models, prompt_templates, test_cases
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.evaluations import Direction
from app.domain.ids import new_id
from app.domain.keys import OPERATOR
from app.runner.provider import ProviderClient, RetryPolicy
from app.runner.worker import Worker
from tests.fake_llm import FakeLLM

SYSTEM = "You answer customer questions about {{product}}."
SLOPPY = "You are sloppy and answer customer questions about {{product}}."


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


@dataclass
class Sleeps:
    """An injected sleep: records how long it was asked to wait and returns at once."""

    asked: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


async def add_model(
    db: Database, fake: FakeLLM, name: str, *, api_key_env: str | None = None
) -> str:
    model_id = new_id()
    await llm_models.upsert_model(
        db,
        OPERATOR,
        model_id,
        llm_models.NewModel(
            name=name,
            provider_name="fake",
            model_family="fake",
            model_version=name,
            provider_info=llm_models.ProviderInfo(
                base_url=fake.base_url,
                api_key_env=api_key_env,
                input_price_per_million_tokens=2.0,
                output_price_per_million_tokens=8.0,
            ),
        ),
    )
    return model_id


async def add_prompt(
    db: Database,
    project_id: str,
    fake: FakeLLM,
    *,
    template: str = "support",
    system: str = SYSTEM,
    model: str = "fake-chat",
    api_key_env: str | None = None,
    judges: tuple[tuple[str, str, str], ...] = (("helpful", "1-5", "judge-plain"),),
) -> str:
    """A template version calling ``model`` on the fake server, with (name, type, judge
    model) criteria judged by the fake server; its version id."""
    if await llm_models.find_model(db, "fake", model) is None:
        await add_model(db, fake, model, api_key_env=api_key_env)
    version, _ = await prompt_templates.create_version(
        db,
        OPERATOR,
        project_id,
        prompt_templates.NewTemplateVersion(
            template_messages=[
                {"role": "system", "content": system},
                {"kind": "history"},
                {"role": "user", "content": "{{question}}"},
            ],
            model=model,
            provider="fake",
            llm_parameters={"temperature": 0},
        ),
        template_name=template,
        create_template=True,
    )
    listed = await criteria.list_criteria(
        db, OPERATOR, project_id, offset=0, limit=100, target_id=version.template_id
    )
    existing = {c.name for c in listed.items}
    for name, kind, judge_model in judges:
        if name in existing:
            continue
        found = await llm_models.find_model(db, "fake", judge_model)
        judge_id = found.id if found else await add_model(db, fake, judge_model)
        rubric = {"1": "unhelpful", "5": "helpful"} if kind == "1-5" else None
        await criteria.create_criterion(
            db,
            OPERATOR,
            project_id,
            criteria.NewCriterion(
                name=name,
                target_id=version.template_id,
                direction=Direction.HIGHER,
                version=criteria.NewCriterionVersion(
                    question=f"Is the answer {name}?",
                    llm_question=f"Is the answer {name}?",
                    type=criteria.CriterionType(kind),
                    rubric=rubric,
                    llm_eval_enabled=True,
                    model_id=judge_id,
                ),
            ),
        )
    return version.id


def case(i: int, **inputs: Any) -> dict[str, Any]:
    return {
        "inputs": {"question": f"question {i}", "product": "Nimbus", **inputs},
        "output": f"answer {i}",
        "history": None,
        "metadata": {"index": i},
    }


async def add_dataset(
    db: Database, project_id: str, cases: list[dict[str, Any]], name: str = "qa"
) -> list[str]:
    dataset = await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset(name, TestCaseType.COMPLETION)
    )
    added = await test_cases.add_test_cases(db, OPERATOR, project_id, dataset.id, cases)
    return list(added.case_ids)


def worker(db: Database, sleeps: Sleeps | None = None, **options: Any) -> Worker:
    policy = RetryPolicy(
        max_attempts=options.pop("max_attempts", 4),
        base_delay=0.01,
        max_delay=0.05,
        timeout=options.pop("timeout", 10.0),
    )
    provider = ProviderClient(
        policy=policy, sleep=sleeps or Sleeps(), **options.pop("provider", {})
    )
    return Worker(db, provider=provider, poll_seconds=0.05, **options)


async def drain(db: Database, work: Worker) -> None:
    """Let ``work`` run until no execution has work left."""

    async def idle() -> bool:
        return await execution.running_executions(db) == 0

    await work.run(until=idle)
