"""Rendering a prompt template version's messages with a test case's variables and history.

Templates are Mustache, rendered by pystache as Freeplay's own SDK renders them (no HTML
escaping), but strictly: every variable a message interpolates (``{{name}}``) must be given,
and all the missing ones are reported at once before anything is sent to a model. A section
(``{{#name}}...{{/name}}``) on a missing or null name renders nothing, so optional blocks work.
Partials are refused (a template never reads files).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pystache.common import PystacheError
from pystache.context import ContextStack, KeyNotFoundError
from pystache.parser import parse
from pystache.renderengine import RenderEngine, context_get
from pystache.renderer import Renderer

from app.domain.errors import FieldError, InvalidInput

_PARTIAL = re.compile(r"\{\{\s*>")
# Missing variables are found one render at a time; past this many, the rest go unnamed.
MAX_REPORTED = 50


@dataclass(frozen=True)
class MediaSlot:
    type: str  # audio, video, image or file
    placeholder_name: str


@dataclass(frozen=True)
class ChatMessage:
    """A message of a template: ``content`` may hold ``{{variable}}`` placeholders."""

    role: str  # system, user or assistant
    content: str
    media_slots: tuple[MediaSlot, ...] = ()


@dataclass(frozen=True)
class HistoryPlaceholder:
    """Where a test case's chat history goes among a template's messages."""

    kind: str = "history"


TemplateContent = ChatMessage | HistoryPlaceholder


@dataclass(frozen=True)
class RenderedMessage:
    role: str
    content: str


class MissingVariables(InvalidInput):
    """Variables a template names that the case does not give (or gives as null)."""

    code = "missing_variables"

    def __init__(self, names: list[str]) -> None:
        self.names = names
        message = f"missing template variables: {', '.join(names)}"
        super().__init__(message, [FieldError(("variables", n), "missing") for n in names])


def check_template_text(content: str, loc: tuple[str | int, ...]) -> None:
    """InvalidInput unless ``content`` is a Mustache template we can render."""
    if _PARTIAL.search(content):
        raise InvalidInput.at(loc, "templates may not use partials ({{> name}})")
    try:
        parse(content)
    except PystacheError as exc:
        raise InvalidInput.at(loc, f"not a valid Mustache template: {exc}") from exc


class _Renderer(Renderer):
    """pystache, strict about ``{{name}}`` but not about sections: ``{{#name}}...{{/name}}``
    and ``{{^name}}...{{/name}}`` on a name the case lacks read it as empty, as Mustache's
    optional blocks do."""

    def __init__(self) -> None:
        super().__init__(escape=lambda text: text, missing_tags="ignore", partials={})

    def _make_render_engine(self) -> RenderEngine:
        engine = super()._make_render_engine()
        lenient = engine.fetch_string

        def fetch_string(context: ContextStack, name: str) -> str:
            context_get(context, name)  # KeyNotFoundError when the name is missing
            return lenient(context, name)

        engine.fetch_string = fetch_string
        return engine


def render_text(content: str, variables: Mapping[str, Any]) -> str:
    """One template text rendered; MissingVariables names every variable it lacks."""
    given = {k: v for k, v in variables.items() if v is not None}
    missing: list[str] = []
    renderer = _Renderer()
    while True:
        try:
            rendered = renderer.render(content, given)
        except KeyNotFoundError as exc:
            # Find them all: note the missing one, give it a blank and render again.
            name = str(exc.key)
            if name in missing:  # a dotted name whose first part exists; cannot be filled
                raise MissingVariables(missing) from exc
            missing.append(name)
            if len(missing) >= MAX_REPORTED:
                raise MissingVariables(missing) from exc
            given[name] = ""
            continue
        except PystacheError as exc:
            raise InvalidInput.at(("template",), f"cannot render the template: {exc}") from exc
        if missing:
            raise MissingVariables(missing)
        return rendered


def _history_message(message: Any, index: int) -> RenderedMessage:
    """A history message as datasets hold it ({role, content: [{type, text}]}) or as Freeplay
    sends it ({role, content: str})."""
    loc = ("history", index)
    if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
        raise InvalidInput.at(loc, "a history message needs a role and content")
    content = message.get("content")
    if isinstance(content, str):
        return RenderedMessage(message["role"], content)
    if isinstance(content, list) and all(
        isinstance(p, Mapping) and isinstance(p.get("text"), str) for p in content
    ):
        return RenderedMessage(message["role"], "".join(p["text"] for p in content))
    raise InvalidInput.at(loc, "a history message's content is text or a list of text parts")


def render_messages(
    messages: Sequence[TemplateContent],
    variables: object,
    history: object = None,
) -> list[RenderedMessage]:
    """The messages to send a model: each template message rendered with ``variables``, and
    ``history`` in place of the history placeholder.

    Raises MissingVariables (code ``missing_variables``) naming every variable the messages
    need and ``variables`` lacks, and InvalidInput when history is given to a template
    without a placeholder for it.
    """
    if not isinstance(variables, Mapping):
        raise InvalidInput.at(("variables",), "variables must be an object")
    if not history:
        history = ()
    elif not isinstance(history, list | tuple):
        raise InvalidInput.at(("history",), "history must be a list of messages")
    rendered: list[RenderedMessage] = []
    missing: list[str] = []
    has_placeholder = False
    for message in messages:
        if isinstance(message, HistoryPlaceholder):
            has_placeholder = True
            rendered.extend(_history_message(m, i) for i, m in enumerate(history))
            continue
        try:
            rendered.append(RenderedMessage(message.role, render_text(message.content, variables)))
        except MissingVariables as exc:
            missing.extend(n for n in exc.names if n not in missing)
    if missing:
        raise MissingVariables(missing)
    if history and not has_placeholder:
        raise InvalidInput.at(
            ("history",), "the case has history but the template has no history placeholder"
        )
    return rendered
