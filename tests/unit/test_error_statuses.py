"""Every error a caller can be told about has one stable code, and the adapters give each
code its HTTP status in one table (app.api.errors): REST as problem+json, GraphQL requests
that were not executed with the code upper-cased."""

import importlib
import pkgutil

import orjson
import pytest
from starlette.requests import Request

import app.db
import app.domain
from app.api.errors import STATUSES, on_service_error
from app.db import errors as db_errors
from app.domain import errors
from app.domain.prompt_rendering import MissingVariables
from app.errors import ServiceError

# The contract: each error, its code and its HTTP status.
EXPECTED = [
    (errors.MalformedRequest, "malformed_request", 400),
    (errors.PersistedQueryHashMismatch, "persisted_query_hash_mismatch", 400),
    (errors.Unauthenticated, "unauthenticated", 401),
    (errors.Forbidden, "forbidden", 403),
    (errors.DocumentNotTrusted, "document_not_trusted", 403),
    (errors.NotFound, "not_found", 404),
    (errors.PersistedQueryNotFound, "persisted_query_not_found", 404),
    (errors.Conflict, "conflict", 409),
    (errors.PayloadTooLarge, "payload_too_large", 413),
    (errors.InvalidInput, "invalid_input", 422),
    (errors.IdempotencyKeyReused, "idempotency_key_reused", 422),
    (errors.RateLimited, "rate_limited", 429),
    (db_errors.TooManySubscriptions, "too_many_subscriptions", 429),
    (db_errors.Unavailable, "service_unavailable", 503),
]


def _every_error_class() -> set[type[ServiceError]]:
    for package in (app.domain, app.db):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            if module.name != "app.db.migrations":
                importlib.import_module(module.name)
    found: set[type[ServiceError]] = set()
    pending = [ServiceError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    return found


def _request(path: str) -> Request:
    return Request({"type": "http", "method": "POST", "path": path, "headers": []})


def test_every_error_code_has_a_status() -> None:
    classes = _every_error_class()
    assert {cls for cls, _, _ in EXPECTED} | {MissingVariables} <= classes
    for cls in classes:
        if cls is not errors.DomainError:
            assert cls.code in STATUSES, f"{cls.__name__} ({cls.code}) has no HTTP status"


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED, ids=lambda v: str(v))
async def test_rest_answers_each_error_with_its_status_and_code(
    cls: type[ServiceError], code: str, status: int
) -> None:
    error = cls("what went wrong")
    assert error.code == code
    response = await on_service_error(_request("/api/v2/projects"), error)
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    body = orjson.loads(bytes(response.body))
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:testruns:error:{code}"
    assert body["detail"] == "what went wrong"
    assert body["title"] == STATUSES[code][1]
    assert ("retry-after" in response.headers) == (status == 503)
    assert ("www-authenticate" in response.headers) == (status == 401)


@pytest.mark.parametrize(("cls", "code", "status"), EXPECTED, ids=lambda v: str(v))
async def test_graphql_answers_each_error_with_its_status_and_code(
    cls: type[ServiceError], code: str, status: int
) -> None:
    response = await on_service_error(_request("/graphql"), cls("what went wrong"))
    assert response.status_code == status
    body = orjson.loads(bytes(response.body))
    assert body["errors"] == [{"message": "what went wrong", "extensions": {"code": code.upper()}}]


async def test_a_subclass_keeps_its_own_code_and_status() -> None:
    response = await on_service_error(_request("/api/v2/x"), MissingVariables(["name"]))
    body = orjson.loads(bytes(response.body))
    assert (response.status_code, body["code"], body["title"]) == (
        422,
        "missing_variables",
        "Missing variables",
    )
    assert body["errors"] == [{"loc": ["variables", "name"], "msg": "missing"}]
