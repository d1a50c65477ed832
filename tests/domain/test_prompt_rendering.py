"""Rendering a template version's messages with a case's variables and history."""

import pytest

from app.domain.errors import InvalidInput
from app.domain.prompt_rendering import (
    ChatMessage,
    HistoryPlaceholder,
    MissingVariables,
    RenderedMessage,
    check_template_text,
    render_messages,
    render_text,
)

SUPPORT = (
    ChatMessage("system", "You answer {{customer}}'s questions about {{product}}."),
    HistoryPlaceholder(),
    ChatMessage("user", "{{question}}"),
)


def test_variables_are_filled_in_and_history_goes_in_place_of_its_placeholder() -> None:
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
        {"role": "assistant", "content": "Hi, how can I help?"},
    ]
    rendered = render_messages(
        SUPPORT, {"customer": "Ada", "product": "Nimbus", "question": "Wi-Fi drops."}, history
    )
    assert rendered == [
        RenderedMessage("system", "You answer Ada's questions about Nimbus."),
        RenderedMessage("user", "Hello"),
        RenderedMessage("assistant", "Hi, how can I help?"),
        RenderedMessage("user", "Wi-Fi drops."),
    ]


def test_a_placeholder_without_history_adds_no_message() -> None:
    rendered = render_messages(SUPPORT, {"customer": "Ada", "product": "N", "question": "Q"})
    assert [m.role for m in rendered] == ["system", "user"]


def test_every_missing_variable_is_named_at_once() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_messages(SUPPORT, {"customer": "Ada"})
    assert caught.value.code == "missing_variables"
    assert caught.value.names == ["product", "question"]
    assert "product, question" in caught.value.message
    assert [e.loc for e in caught.value.errors] == [
        ("variables", "product"),
        ("variables", "question"),
    ]


def test_a_null_variable_counts_as_missing() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_text("Hi {{name}}", {"name": None})
    assert caught.value.names == ["name"]


def test_values_are_not_html_escaped() -> None:
    assert render_text("{{a}} {{{a}}} {{&a}}", {"a": "x < y & z"}) == "x < y & z " * 2 + "x < y & z"


def test_sections_are_optional_blocks_but_names_inside_them_are_not() -> None:
    template = "{{#context}}Context: {{context}}.{{/context}}{{^context}}No context.{{/context}}"
    assert render_text(template, {}) == "No context."
    assert render_text(template, {"context": "c"}) == "Context: c."
    with pytest.raises(MissingVariables) as caught:
        render_text("{{#items}}{{label}}{{/items}}", {"items": [{"other": 1}]})
    assert caught.value.names == ["label"]


def test_history_given_to_a_template_without_a_placeholder_is_refused() -> None:
    messages = (ChatMessage("user", "{{q}}"),)
    with pytest.raises(InvalidInput) as caught:
        render_messages(messages, {"q": "?"}, [{"role": "user", "content": "earlier"}])
    assert caught.value.errors[0].loc == ("history",)


def test_malformed_history_is_refused_with_its_position() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_messages(SUPPORT, {"customer": "A", "product": "P", "question": "Q"}, [{"x": 1}])
    assert caught.value.errors[0].loc == ("history", 0)


def test_partials_are_refused_so_a_template_never_reads_files() -> None:
    with pytest.raises(InvalidInput):
        check_template_text("Hello {{> /etc/passwd}}", ("content",))
    check_template_text("Hello {{name}}", ("content",))
