"""Freeplay's published OpenAPI document, as the tests use it.

``operations(tags)`` lists the document's operations under those tags, and
``assert_conforms(operation_id, response)`` checks one of our answers against the operation:
its status must be the documented success status and its body must validate against the
documented response schema (JSON Schema draft 2020-12, ``$ref``s resolved against the
document's components).
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

SPEC_PATH = Path(__file__).parent / "reference" / "freeplay-openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    success_status: int
    response_schema: dict[str, Any] | None
    request_schema: dict[str, Any] | None


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


@functools.cache
def all_operations() -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for path, item in spec()["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            status, response = next(
                (code, body) for code, body in op["responses"].items() if code.startswith("2")
            )
            body_schema = (response.get("content") or {}).get("application/json", {}).get("schema")
            request = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            found[op["operationId"]] = Operation(
                operation_id=op["operationId"],
                method=method.upper(),
                path=path,
                tags=tuple(op.get("tags", ())),
                success_status=int(status),
                response_schema=body_schema,
                request_schema=request.get("schema"),
            )
    return found


def operations(*tags: str) -> list[Operation]:
    return [op for op in all_operations().values() if set(op.tags) & set(tags)]


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    # The document's references are "#/components/...": give the schema the document's
    # components so they resolve within it.
    return Draft202012Validator({**schema, "components": spec()["components"]})


def assert_conforms(operation_id: str, response: httpx.Response) -> Any:
    """Assert that ``response`` is a documented success answer of the operation; return its body."""
    op = all_operations()[operation_id]
    assert response.status_code == op.success_status, (
        f"{operation_id}: status {response.status_code}, documented {op.success_status}: "
        f"{response.text[:500]}"
    )
    body = response.json()
    if op.response_schema is not None:
        errors = sorted(validator(op.response_schema).iter_errors(body), key=lambda e: e.path)
        assert not errors, f"{operation_id}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in errors[:10]
        )
    return body


def assert_valid_request(operation_id: str, body: Any) -> None:
    """The request body a test sends must itself be valid under the document."""
    schema = all_operations()[operation_id].request_schema
    if schema is not None:
        errors = list(validator(schema).iter_errors(body))
        assert not errors, f"{operation_id} request: {errors[0].message}"
