"""Subscriptions: live updates over graphql-transport-ws (WebSocket) and Server-Sent Events."""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types.test_run import TestRun
from app.domain import live, test_runs


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The run now, then again whenever it changes (a result recorded, a score, "
        "its status), at most a few times a second; it ends after the run is COMPLETED."
    )
    async def test_run(self, info: Info, id: strawberry.ID) -> AsyncGenerator[TestRun, None]:
        # Checked before the first message, so a missing run or a full quota is an error
        # message rather than an update.
        updates = await live.watch_test_run(info.context.db, info.context.principal, id)
        return _graphql(updates)


async def _graphql(updates: AsyncIterator[test_runs.TestRun]) -> AsyncGenerator[TestRun, None]:
    async with aclosing(updates):  # type: ignore[type-var]
        async for run in updates:
            yield TestRun.of(run)
