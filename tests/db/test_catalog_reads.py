"""What a server-side test run reads from the catalog: a template version with its model's
provider info, and the prompt's criteria a model judges."""

from app.db.engine import Database
from app.domain import criteria, llm_models, projects, prompt_templates
from app.domain.criteria import CriterionType, NewCriterion, NewCriterionVersion
from app.domain.keys import OPERATOR
from app.domain.prompt_rendering import RenderedMessage

MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"


async def arrange(db: Database) -> tuple[str, prompt_templates.TemplateVersion]:
    project = await projects.create_project(db, "P")
    info = llm_models.parse_provider_info(
        {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "JUDGE_KEY"}
    )
    await llm_models.upsert_model(
        db, OPERATOR, MODEL_ID, llm_models.NewModel("judge", "openai", "f", "1", provider_info=info)
    )
    new = prompt_templates.NewTemplateVersion(
        [{"role": "user", "content": "Answer {{question}}"}, {"kind": "history"}],
        model="judge",
        provider="openai",
        llm_parameters={"temperature": 0},
    )
    version, made = await prompt_templates.create_version(
        db, OPERATOR, project.id, new, template_name="support", create_template=True
    )
    assert made
    return project.id, version


async def test_a_version_reads_with_its_messages_model_and_provider_info(db: Database) -> None:
    project_id, created = await arrange(db)

    version = await prompt_templates.get_version(db, OPERATOR, project_id, created.id)

    assert (version.model, version.provider, version.model_id) == ("judge", "openai", MODEL_ID)
    assert version.llm_parameters == {"temperature": 0}
    assert version.provider_info is not None
    assert version.provider_info.api_key_env == "JUDGE_KEY"
    assert version.render({"question": "why?"}, [{"role": "assistant", "content": "hi"}]) == [
        RenderedMessage("user", "Answer why?"),
        RenderedMessage("assistant", "hi"),
    ]
    async with db.read() as conn:
        same = await prompt_templates.template_version(conn, created.id)
    assert same == version


async def test_judges_are_the_enabled_criteria_a_model_judges_in_order(db: Database) -> None:
    project_id, version = await arrange(db)

    def new(name: str, llm: bool) -> NewCriterion:
        return NewCriterion(
            name,
            version.template_id,
            NewCriterionVersion(
                "Good?", CriterionType.YES_NO, llm_eval_enabled=llm, model_id=MODEL_ID
            ),
        )

    judged = await criteria.create_criterion(db, OPERATOR, project_id, new("judged", True))
    await criteria.create_criterion(db, OPERATOR, project_id, new("by people", False))
    off = await criteria.create_criterion(db, OPERATOR, project_id, new("off", True))
    first = await criteria.create_criterion(db, OPERATOR, project_id, new("first", True))
    await criteria.set_criterion_enabled(db, OPERATOR, project_id, off.id, False)
    await criteria.reorder_criterion(db, OPERATOR, project_id, first.id, judged.id)

    judges = await criteria.llm_judge_criteria(db, OPERATOR, project_id, version.template_id)

    assert [j.criterion.name for j in judges] == ["first", "judged"]
    assert all(j.model.id == MODEL_ID and j.version.is_deployed for j in judges)
