"""What is known about the request being served, for error messages and the access log."""

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestInfo:
    request_id: str
    operation: str | None = None  # the GraphQL operation, for the access log


_current: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def current_request() -> RequestInfo | None:
    return _current.get()


def current_request_id() -> str:
    info = _current.get()
    return "-" if info is None else info.request_id


def start_request(info: RequestInfo) -> Token[RequestInfo | None]:
    return _current.set(info)


def end_request(token: Token[RequestInfo | None]) -> None:
    _current.reset(token)
