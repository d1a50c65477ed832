"""What a worker needs to run the cases of an executed run: its prompt version rendered
per case, the model to call and the LLM judges of the prompt's criteria."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db.engine import Database
from app.db.tables import TestRunExecution
from app.domain.criteria import JudgeCriterion, llm_judge_criteria
from app.domain.datasets import StoredTestCase, cases_by_id
from app.domain.errors import InvalidInput, NotFound
from app.domain.judging import ScoreType, score_type
from app.domain.keys import OPERATOR
from app.domain.llm_models import ProviderInfo
from app.domain.prompt_templates import TemplateVersion, template_version
from app.domain.test_runs import TestRun, get_test_run
from app.runner.provider import ModelEndpoint


def endpoint_of(model_name: str, info: ProviderInfo | None, parameters: Any) -> ModelEndpoint:
    return ModelEndpoint(
        model=model_name,
        base_url=None if info is None else info.base_url,
        api_key_env=None if info is None else info.api_key_env,
        input_price_per_million=None if info is None else info.input_price_per_million_tokens,
        output_price_per_million=None if info is None else info.output_price_per_million_tokens,
        parameters=dict(parameters or {}),
    )


@dataclass(frozen=True)
class Judge:
    """An LLM-judged criterion as a worker runs it."""

    name: str
    question: str
    rubric: Mapping[str, str] | None
    kind: ScoreType
    endpoint: ModelEndpoint


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to run the cases of one executed run."""

    run: TestRun
    version: TemplateVersion
    endpoint: ModelEndpoint
    judges: tuple[Judge, ...]

    @property
    def provider(self) -> str:
        return self.version.provider

    @property
    def prompt_info(self) -> dict[str, Any]:
        return {
            "prompt_template_id": self.version.template_id,
            "prompt_template_version_id": self.version.id,
            "template_name": self.version.template_name,
        }

    def render(self, inputs: Any, history: Any) -> list[dict[str, Any]]:
        """The messages for a case; MissingVariables names what the case lacks."""
        if not isinstance(inputs, Mapping):
            raise InvalidInput.at(("inputs",), "a case's inputs must be an object")
        return [
            {"role": m.role, "content": m.content}
            for m in self.version.render(dict(inputs), history)
        ]


def _judge(found: JudgeCriterion) -> Judge | None:
    version = found.version
    try:
        kind = score_type(version.type.value, tuple(version.options))
    except ValueError:
        return None
    return Judge(
        name=found.criterion.name,
        question=version.llm_question or version.question,
        rubric=version.rubric or None,
        kind=kind,
        endpoint=endpoint_of(found.model.name, found.model.provider_info, None),
    )


async def load_plan(db: Database, run_id: str) -> Plan:
    """The run's prompt version, model and judges."""
    run = await get_test_run(db, OPERATOR, run_id)
    async with db.read() as conn:
        version_id = await conn.scalar(
            select(TestRunExecution.prompt_template_version_id).where(
                TestRunExecution.test_run_id == run.id
            )
        )
        if version_id is None:
            raise NotFound(f"test run {run_id} is not executed by the server")
        version = await template_version(conn, version_id)
    if version is None:
        raise NotFound(f"prompt template version {version_id} not found")
    found = await llm_judge_criteria(db, OPERATOR, run.project_id, version.template_id)
    return Plan(
        run=run,
        version=version,
        endpoint=endpoint_of(version.model, version.provider_info, version.llm_parameters),
        judges=tuple(j for j in map(_judge, found) if j is not None),
    )


async def run_case(db: Database, plan: Plan, case_id: str) -> StoredTestCase:
    run = plan.run
    found = await cases_by_id(db, run.dataset_id, run.dataset_version, [case_id])
    if case_id not in found:
        raise NotFound(f"test case {case_id} is not in test run {run.id}")
    return found[case_id]
