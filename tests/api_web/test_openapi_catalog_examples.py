"""The examples the REST docs show for prompt templates, models and evaluation criteria are
real: sent as they are, the API accepts them and answers in the documented shape."""

from app.db.engine import Database
from app.domain import keys
from tests.api_web.test_openapi_examples import schema_example
from tests.support import Api


async def test_model_template_version_and_criterion_examples(api: Api, db: Database) -> None:
    _, key = await keys.create_key(db, admin=True, project_ids=[])
    admin = {"Authorization": f"Bearer {key}"}
    model = await schema_example(api.client, "ReplicateModelRequest")
    version = await schema_example(api.client, "CreateTemplateVersionRequest")
    shown = await schema_example(api.client, "PlainPromptTemplate")
    criterion = await schema_example(api.client, "CreateCriterionRequest")

    response = await api.client.post("/api/v2/models", json=model, headers=admin)
    assert response.status_code == 200, response.text
    response = await api.post(
        "/prompt-templates", {"name": "support-reply", "id": criterion["target_id"]}
    )
    assert response.status_code == 201, response.text
    response = await api.post(f"/prompt-templates/id/{criterion['target_id']}/versions", version)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body.keys() == shown.keys()
    assert body["content"] == shown["content"]
    assert body["metadata"] == shown["metadata"]
    assert body["environments"] == shown["environments"]
    response = await api.post("/evaluation-criteria", criterion)
    assert response.status_code == 201, response.text
    assert response.json()["llm_eval_enabled"] is True
