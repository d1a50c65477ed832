"""The official Freeplay Python SDK's prompt calls, unchanged, against a live server: upload a
version, move it between environments, fetch it and format it with variables and history."""

import anyio
import pytest
from freeplay import Freeplay
from freeplay.errors import FreeplayClientError
from freeplay.support import HistoryTemplateMessage, TemplateChatMessage

from app.db.engine import Database
from app.domain import keys, projects, prompt_templates
from app.domain.keys import OPERATOR


async def test_sdk_uploads_deploys_and_formats_prompts(db: Database, live_url: str) -> None:
    project = await projects.create_project(db, "SDK prompts")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    await prompt_templates.create_template(db, OPERATOR, project.id, "support")

    def use_the_sdk() -> None:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        messages = [
            TemplateChatMessage(role="system", content="You help {{customer}} & co."),
            HistoryTemplateMessage(kind="history"),
            TemplateChatMessage(role="user", content="{{question}}"),
        ]
        first = client.prompts.create_version(
            project.id, "support", messages, "gpt-4o-mini", "openai",
            llm_parameters={"temperature": 0.2}, environments=["staging"],
        )  # fmt: skip
        assert first is not None
        client.prompts.update_version_environments(
            project.id,
            first.prompt_template_id,
            first.prompt_template_version_id,
            ["staging", "production"],
        )

        prompt = client.prompts.get(project.id, "support", "production")
        assert prompt.prompt_info.prompt_template_version_id == first.prompt_template_version_id
        assert prompt.prompt_info.model == "gpt-4o-mini"
        assert prompt.prompt_info.model_parameters == {"temperature": 0.2}
        formatted = client.prompts.get_formatted(
            project.id,
            "support",
            "production",
            {"customer": "Ada", "question": "Where is my order?"},
            history=[{"role": "assistant", "content": "Hello!"}],
        )
        assert formatted.llm_prompt == [
            {"role": "system", "content": "You help Ada & co."},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Where is my order?"},
        ]
        everything = client.prompts.get_all(project.id, "staging").prompt_templates
        assert [p.prompt_template_name for p in everything] == ["support"]
        with pytest.raises(FreeplayClientError, match="404"):
            client.prompts.get(project.id, "support", "canary")

    await anyio.to_thread.run_sync(use_the_sdk)
