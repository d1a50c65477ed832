"""Typed domain errors. Each has a stable ``code``; adapters map it to an HTTP status or a
GraphQL ``extensions.code`` and keep the message."""

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(DomainError):
    code, status, title = "not_found", 404, "Not found"


class InvalidInput(DomainError):
    code, status, title = "invalid_input", 422, "Invalid input"

    @classmethod
    def at(cls, loc: tuple[str | int, ...], msg: str) -> "InvalidInput":
        """One invalid field: the message names it, ``errors`` locates it."""
        return cls(msg, [FieldError(loc, msg)])


class MalformedRequest(DomainError):
    code, status, title = "malformed_request", 400, "Malformed request"


class Conflict(DomainError):
    code, status, title = "conflict", 409, "Conflict"


class Unauthenticated(DomainError):
    code, status, title = "unauthenticated", 401, "Unauthenticated"


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, "Forbidden"


class PayloadTooLarge(DomainError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class RateLimited(DomainError):
    code, status, title = "rate_limited", 429, "Too many requests"


class IdempotencyKeyReused(DomainError):
    code, status, title = "idempotency_key_reused", 422, "Idempotency key reused"


class Unavailable(DomainError):
    """The database does not answer (down, restarting, overloaded): worth retrying."""

    code, status, title = "service_unavailable", 503, "Service unavailable"
    retry_after_seconds: ClassVar[int] = 1


class PersistedQueryNotFound(DomainError):
    """Apollo's automatic persisted queries: the client then sends the text with its hash."""

    code, status, title = "persisted_query_not_found", 404, "Persisted query not found"


class PersistedQueryHashMismatch(DomainError):
    code, status, title = "persisted_query_hash_mismatch", 400, "Persisted query hash mismatch"


class DocumentNotTrusted(DomainError):
    code, status, title = "document_not_trusted", 403, "Document not trusted"
