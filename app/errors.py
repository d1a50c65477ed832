"""The errors a caller is told about, whatever layer raises them: each has a stable ``code``
and a message, and bad input also the fields at fault.

The domain's errors (``app.domain.errors``) and the database's (``app.db.errors``) are
kinds of ``ServiceError``. No layer below the adapters knows HTTP: the adapters map each
code to a status (``app.api.errors.STATUSES``) or a GraphQL ``extensions.code``.
"""

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


class ServiceError(Exception):
    code: ClassVar[str] = "error"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
