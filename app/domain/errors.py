"""Typed domain errors. Each has a stable ``code``; adapters map it to an HTTP status or a
GraphQL ``extensions.code`` and keep the message. The database's own errors
(``Unavailable``, ``TooManySubscriptions``) are in ``app.db.errors``; every one of them is
a ``ServiceError``."""

from app.errors import FieldError, ServiceError

__all__ = [
    "Conflict",
    "DocumentNotTrusted",
    "DomainError",
    "FieldError",
    "Forbidden",
    "IdempotencyKeyReused",
    "InvalidInput",
    "MalformedRequest",
    "NotFound",
    "PayloadTooLarge",
    "PersistedQueryHashMismatch",
    "PersistedQueryNotFound",
    "RateLimited",
    "ServiceError",
    "Unauthenticated",
]


class DomainError(ServiceError):
    """A rule of the domain refused the request."""


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"

    @classmethod
    def at(cls, loc: tuple[str | int, ...], msg: str) -> "InvalidInput":
        """One invalid field: the message names it, ``errors`` locates it."""
        return cls(msg, [FieldError(loc, msg)])


class MalformedRequest(DomainError):
    code = "malformed_request"


class Conflict(DomainError):
    code = "conflict"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class RateLimited(DomainError):
    code = "rate_limited"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class PersistedQueryNotFound(DomainError):
    """Apollo's automatic persisted queries: the client then sends the text with its hash."""

    code = "persisted_query_not_found"


class PersistedQueryHashMismatch(DomainError):
    code = "persisted_query_hash_mismatch"


class DocumentNotTrusted(DomainError):
    code = "document_not_trusted"
