"""Errors of the database layer that callers are told about (not bugs). Like the domain's
errors they are ``ServiceError``s; adapters map their codes like any other."""

from app.errors import ServiceError


class Unavailable(ServiceError):
    """The database does not answer (down, restarting, overloaded): worth retrying."""

    code = "service_unavailable"


class TooManySubscriptions(ServiceError):
    """An API key or this process already holds as many live subscriptions as it may."""

    code = "too_many_subscriptions"
