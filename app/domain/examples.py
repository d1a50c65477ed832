"""What a test case looks like on the way in, and how it is stored.

An *example* is a test case as clients send it (the Freeplay SDK's ``examples`` items, the
rows of an import file, GraphQL inputs translated to the same keys). ``to_columns`` checks one
and returns the columns to store, JSON already serialised; ``from_columns`` is its inverse.
This runs once per case on every write path (imports of 100,000 cases included), so it is
plain code rather than a model per case.
"""

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeGuard

import orjson

from app.domain.errors import FieldError, InvalidInput
from app.domain.ids import new_ids

Loc = tuple[str | int, ...]
Columns = dict[str, str | None]

COLUMNS = ("inputs", "output", "output_message", "history", "metadata", "media_inputs")


class TestCaseType(StrEnum):
    COMPLETION = "completion"
    TRACE = "trace"


COMPLETION_KEYS = frozenset(
    ("inputs", "output", "output_message", "history", "metadata", "media_inputs")
)
TRACE_KEYS = frozenset(("input", "output", "custom_metadata"))
KEYS = {TestCaseType.COMPLETION: COMPLETION_KEYS, TestCaseType.TRACE: TRACE_KEYS}


class ExampleError(Exception):
    """One problem with one example, located within it."""

    def __init__(self, loc: Loc, msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def _json(value: Any, loc: Loc) -> str:
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError as error:  # e.g. an integer beyond 64 bits
        raise ExampleError(loc, f"not storable as JSON: {error}") from None
    # PostgreSQL cannot store U+0000 in JSONB or text; refuse it on every database alike.
    if "\\u0000" in text:
        raise ExampleError(loc, "text may not contain the NUL character (\\u0000)")
    return text


def _object(value: Any, loc: Loc) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ExampleError(loc, "must be a JSON object")
    return value


def _is_canonical_message(value: object) -> TypeGuard[dict[str, Any]]:
    """Already ``{"role": str, "content": [{"type": "text", "text": str}, ...]}``."""
    if type(value) is not dict or len(value) != 2:
        return False
    role, content = value.get("role"), value.get("content")
    if type(role) is not str or not role or type(content) is not list:
        return False
    for part in content:
        if (
            type(part) is not dict
            or len(part) != 2
            or part.get("type") != "text"
            or type(part.get("text")) is not str
        ):
            return False
    return True


def _message(value: Any, loc: Loc) -> dict[str, Any]:
    """A chat message, with string content turned into one text part."""
    if _is_canonical_message(value):
        return value  # the common case, checked without rebuilding it
    message = _object(value, loc)
    extra = message.keys() - {"role", "content"}
    if extra:
        raise ExampleError((*loc, min(extra)), "unknown key; a message has role and content")
    role = message.get("role")
    if not isinstance(role, str) or not role:
        raise ExampleError((*loc, "role"), "role must be a non-empty string")
    content = message.get("content")
    if isinstance(content, str):
        return {"role": role, "content": [{"type": "text", "text": content}]}
    if not isinstance(content, list):
        raise ExampleError((*loc, "content"), "content must be a string or a list of parts")
    parts = []
    for i, part in enumerate(content):
        where = (*loc, "content", i)
        if (
            not isinstance(part, dict)
            or part.get("type", "text") != "text"
            or not isinstance(part.get("text"), str)
            or part.keys() - {"type", "text"}
        ):
            raise ExampleError(where, 'a content part must be {"type": "text", "text": <string>}')
        parts.append({"type": "text", "text": part["text"]})
    return {"role": role, "content": parts}


def _media(value: Any, loc: Loc) -> dict[str, Any]:
    media = _object(value, loc)
    for name, item in media.items():
        where = (*loc, name)
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "url" and isinstance(item.get("url"), str):
            continue
        if (
            kind == "base64"
            and isinstance(item.get("data"), str)
            and isinstance(item.get("content_type"), str)
        ):
            continue
        raise ExampleError(
            where,
            'a media input is {"type": "url", "url": ...} or '
            '{"type": "base64", "data": ..., "content_type": ...}',
        )
    return media


def _optional(value: Any, check: Callable[[Any, Loc], Any], loc: Loc) -> str | None:
    return None if value is None else _json(check(value, loc), loc)


def _completion(example: Mapping[str, Any]) -> Columns:
    if "inputs" not in example:
        raise ExampleError(("inputs",), "inputs is required")
    output = example.get("output")
    if output is not None and not isinstance(output, str):
        raise ExampleError(("output",), "output must be a string or null")
    history = example.get("history")
    if history is not None:
        if not isinstance(history, list):
            raise ExampleError(("history",), "history must be a list of messages")
        history = [_message(m, ("history", i)) for i, m in enumerate(history)]
    return {
        "inputs": _json(_object(example["inputs"], ("inputs",)), ("inputs",)),
        "output": None if output is None else _json(output, ("output",)),
        "output_message": _optional(example.get("output_message"), _message, ("output_message",)),
        "history": None if history is None else _json(history, ("history",)),
        "metadata": _optional(example.get("metadata"), _object, ("metadata",)),
        "media_inputs": _optional(example.get("media_inputs"), _media, ("media_inputs",)),
    }


def _trace(example: Mapping[str, Any]) -> Columns:
    if example.get("input") is None:
        raise ExampleError(("input",), "input is required and may not be null")
    output = example.get("output")
    return {
        "inputs": _json(example["input"], ("input",)),
        "output": None if output is None else _json(output, ("output",)),
        "output_message": None,
        "history": None,
        "metadata": _optional(example.get("custom_metadata"), _object, ("custom_metadata",)),
        "media_inputs": None,
    }


def _plain_completion(example: dict[str, Any]) -> Columns | None:
    """The columns of the usual completion example in one pass (an import checks 100,000 of
    them): plain objects, text, canonical messages, no media. None for anything else, which
    ``_completion`` then checks and explains; both give the same columns."""
    inputs, output = example.get("inputs"), example.get("output")
    message, history = example.get("output_message"), example.get("history")
    metadata = example.get("metadata")
    if (
        type(inputs) is not dict
        or (output is not None and type(output) is not str)
        or (message is not None and not _is_canonical_message(message))
        or (
            history is not None
            and (type(history) is not list or not all(map(_is_canonical_message, history)))
        )
        or (metadata is not None and type(metadata) is not dict)
        or example.get("media_inputs") is not None
    ):
        return None
    dumps = orjson.dumps
    try:
        columns = {
            "inputs": dumps(inputs).decode(),
            "output": None if output is None else dumps(output).decode(),
            "output_message": None if message is None else dumps(message).decode(),
            "history": None if history is None else dumps(history).decode(),
            "metadata": None if metadata is None else dumps(metadata).decode(),
            "media_inputs": None,
        }
    except orjson.JSONEncodeError:
        return None
    for text in columns.values():
        if text is not None and "\\u0000" in text:
            return None
    return columns


def to_columns(kind: TestCaseType, example: Any, max_bytes: int) -> Columns:
    """The stored columns of one example; ExampleError says what is wrong with it."""
    if not isinstance(example, dict):
        raise ExampleError((), "a test case must be a JSON object")
    keys = KEYS[kind]
    if not keys.issuperset(example):
        unknown = example.keys() - keys
        allowed = ", ".join(sorted(keys))
        raise ExampleError((min(unknown),), f"unknown key for a {kind} test case; use {allowed}")
    if kind is TestCaseType.COMPLETION:
        columns = _plain_completion(example) or _completion(example)
    else:
        columns = _trace(example)
    size = sum(len(text) for text in columns.values() if text is not None)
    if size > max_bytes:
        raise ExampleError((), f"test case is {size} bytes of JSON; at most {max_bytes} allowed")
    return columns


def from_columns(kind: TestCaseType, row: Any) -> dict[str, Any]:
    """The example a stored case was made from (the import/export file format)."""

    def load(text: str | None) -> Any:
        return None if text is None else orjson.loads(text)

    if kind is TestCaseType.COMPLETION:
        return {
            "inputs": load(row.inputs),
            "output": load(row.output),
            "output_message": load(row.output_message),
            "history": load(row.history),
            "metadata": load(row.metadata),
            "media_inputs": load(row.media_inputs),
        }
    return {
        "input": load(row.inputs),
        "output": load(row.output),
        "custom_metadata": load(row.metadata),
    }


def validate_all(
    kind: TestCaseType, examples: list[Any], max_bytes: int, prefix: Loc = ("examples",)
) -> list[Columns]:
    """Columns of every example, or InvalidInput listing the first problems (none stored)."""
    rows: list[Columns] = []
    errors: list[FieldError] = []
    for index, example in enumerate(examples):
        try:
            rows.append(to_columns(kind, example, max_bytes))
        except ExampleError as error:
            errors.append(FieldError((*prefix, index, *error.loc), error.msg))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        raise invalid(errors)
    return rows


MAX_REPORTED_ERRORS = 20


def case_rows(
    columns: list[Columns],
    dataset_id: str,
    version: int,
    first_position: int,
    created_at: Any,
) -> list[tuple[Any, ...]]:
    """Rows (in ``app.db.bulk.CASE_ROW`` order) for brand-new cases that take consecutive
    positions from ``first_position``."""
    ids = new_ids(len(columns))
    return [
        (
            dataset_id,
            first_position + offset,
            version,
            ids[offset],
            values["inputs"],
            values["output"],
            values["output_message"],
            values["history"],
            values["metadata"],
            values["media_inputs"],
            created_at,
        )
        for offset, values in enumerate(columns)
    ]


# A checked row of an import: (offset in its chunk, id, inputs, output, output_message,
# history, metadata, media_inputs); app.db.bulk.VersionInserter adds what all rows share.
CheckedRow = tuple[Any, ...]
Checked = tuple[list[CheckedRow], list[FieldError]]  # rows, or the problems found


def check_chunk(
    kind: TestCaseType,
    max_bytes: int,
    decode: Callable[[Any], Any] | None,
    chunk: list[tuple[int, Any]],
) -> Checked:
    """One chunk of an import: decoded, checked and turned into checked rows.

    ``chunk`` holds ``(line number, record)`` pairs; a record is decoded with ``decode``
    first when one is given (JSONL lines arrive as bytes). Rows are returned only when the
    whole chunk is valid. Plain code, one pass per case: this is most of an import's work.
    """
    columns: list[Columns] = []
    errors: list[FieldError] = []
    for line, record in chunk:
        try:
            if isinstance(record, ExampleError):
                raise record
            if decode is not None:
                try:
                    record = decode(record)
                except ValueError as error:
                    raise ExampleError((), f"not valid JSON: {error}") from None
            columns.append(to_columns(kind, record, max_bytes))
        except ExampleError as error:
            errors.append(FieldError(("line", line, *error.loc), error.msg))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        return [], errors
    ids = new_ids(len(columns))
    return [
        (
            offset,
            ids[offset],
            values["inputs"],
            values["output"],
            values["output_message"],
            values["history"],
            values["metadata"],
            values["media_inputs"],
        )
        for offset, values in enumerate(columns)
    ], []


def invalid(errors: list[FieldError]) -> InvalidInput:
    first = errors[0]
    where = ".".join(str(part) for part in first.loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(f"{where}: {first.msg}{more}", errors)
