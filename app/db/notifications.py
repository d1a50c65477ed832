"""Change notifications: a write transaction names what it changed (a *topic*, e.g. one test
run), and this process's subscribers to that topic hear of it once the transaction commits.

- ``notify(conn, topic)`` inside ``Database.write()``: nothing is sent before the commit, and
  nothing at all when the transaction rolls back.
- PostgreSQL: the topics go out with ``pg_notify`` in the transaction itself, so the server
  delivers them on commit to every process LISTENing on ``CHANNEL``, this one included. Each
  process listens on one dedicated asyncpg connection (opened on the first subscription) and
  fans each notification out to its local subscribers; when that connection drops it
  reconnects, and tells every subscriber that its topic may have changed meanwhile.
- SQLite: after the commit, the topics are handed to the subscribers of every ``Database`` of
  this process on the same file. Other processes are not told.

A subscriber's ``changed`` event is a flag, not a queue: any number of notifications between
two looks at it are one wake-up. Subscriptions are counted per owner (an API key) and per
process, against the settings' caps.
"""

import asyncio
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.errors import TooManySubscriptions, Unavailable
from app.settings import Settings

log = logging.getLogger("testruns.notifications")

CHANNEL = "testruns_changes"
_NOTIFY = text("SELECT pg_notify(:channel, topic) FROM unnest(CAST(:topics AS text[])) AS topic")
# The topics each write transaction named, by its connection: a connection object lives for
# one transaction (the database connection under it is pooled), so a failed one's are simply
# forgotten with it, without touching a database connection that may be broken.
_pending: "weakref.WeakKeyDictionary[Connection, set[str]]" = weakref.WeakKeyDictionary()


def notify(conn: AsyncConnection, topic: str) -> None:
    """Tell the subscribers of ``topic`` once this write transaction commits."""
    _pending.setdefault(_transaction_of(conn), set()).add(topic)


def take_pending(conn: AsyncConnection) -> set[str]:
    """The topics this transaction named."""
    return _pending.pop(_transaction_of(conn), set())


def _transaction_of(conn: AsyncConnection) -> Connection:
    sync = conn.sync_connection
    assert sync is not None, "a connection in a transaction has started"
    return sync


class Clock(Protocol):
    """What time it is and how to wait: pacing of live updates (tests bring their own)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Topic:
    """The local subscribers of one topic, and the last value loaded for them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: set[Subscription] = set()
        self.generation = 0  # notifications received so far
        self._cached: tuple[int, Any] | None = None
        self._loading = asyncio.Lock()

    def changed(self) -> None:
        self.generation += 1
        for subscriber in self.subscribers:
            subscriber.changed.set()

    async def latest(self, load: Callable[[], Awaitable[Any]]) -> Any:
        """What ``load`` returns as of the last notification, loaded once for all of this
        topic's subscribers (one read per change per process, however many watch it)."""
        cached = self._cached
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        async with self._loading:
            generation = self.generation
            if self._cached is None or self._cached[0] != generation:
                self._cached = (generation, await load())
            return self._cached[1]


class Subscription:
    def __init__(self, topic: Topic, owner: str) -> None:
        self.topic = topic
        self.owner = owner
        self.changed = asyncio.Event()


class Notifier:
    """Subscriptions of this process, by topic. One per ``Database``."""

    def __init__(self, settings: Settings) -> None:
        self.per_owner = settings.subscriptions_per_key
        self.per_process = settings.subscriptions_per_process
        self.clock: Clock = SystemClock()
        self._topics: dict[str, Topic] = {}
        self._owners: dict[str, int] = {}
        self._count = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def count(self) -> int:
        return self._count

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str, owner: str) -> AsyncIterator[Subscription]:
        """Hear of every commit that names ``topic`` from now until the block ends.

        TooManySubscriptions when ``owner`` or this process holds as many as it may;
        Unavailable when notifications cannot be received (the database is down)."""
        self.check_room(owner)
        self._loop = asyncio.get_running_loop()
        found = self._topics.get(topic)
        if found is None:
            found = self._topics[topic] = Topic(topic)
        subscription = Subscription(found, owner)
        found.subscribers.add(subscription)
        self._owners[owner] = self._owners.get(owner, 0) + 1
        self._count += 1
        try:
            await self._listening()
            yield subscription
        finally:
            found.subscribers.discard(subscription)
            if not found.subscribers:
                del self._topics[topic]
            self._count -= 1
            if self._owners[owner] == 1:
                del self._owners[owner]
            else:
                self._owners[owner] -= 1

    def check_room(self, owner: str) -> None:
        if self._count >= self.per_process:
            raise TooManySubscriptions(
                f"this server holds its limit of {self.per_process} subscriptions; "
                "try again later or on another replica"
            )
        if self._owners.get(owner, 0) >= self.per_owner:
            raise TooManySubscriptions(
                f"this API key holds its limit of {self.per_owner} open subscriptions; "
                "end one before starting another"
            )

    def deliver(self, topics: Iterable[str]) -> None:
        """Wake the subscribers of these topics (on the loop they subscribed on)."""
        for name in topics:
            topic = self._topics.get(name)
            if topic is not None:
                topic.changed()

    def deliver_all(self) -> None:
        """Wake every subscriber: notifications may have been missed."""
        for topic in list(self._topics.values()):
            topic.changed()

    async def before_commit(self, conn: AsyncConnection, topics: set[str]) -> None:
        """Called inside the write transaction that named ``topics``, just before it commits."""

    def after_commit(self, topics: set[str]) -> None:
        """Called once the transaction that named ``topics`` has committed."""

    async def _listening(self) -> None:
        """Returns once notifications committed from now on will reach this process."""

    async def close(self) -> None:
        """Stop listening (the process is shutting down)."""


class LocalNotifier(Notifier):
    """SQLite: commits are told to every ``Database`` of this process on the same file."""

    _by_file: dict[str, "weakref.WeakSet[LocalNotifier]"] = {}
    _lock = threading.Lock()

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        database = make_url(settings.database_url).database or ":memory:"
        self._file = database if database == ":memory:" else os.path.realpath(database)
        with self._lock:
            self._by_file.setdefault(self._file, weakref.WeakSet()).add(self)

    def after_commit(self, topics: set[str]) -> None:
        with self._lock:
            notifiers = list(self._by_file.get(self._file, ()))
        for notifier in notifiers:
            loop = notifier._loop
            if loop is None or loop.is_closed():
                continue  # nobody has ever subscribed there
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if loop is running:
                notifier.deliver(topics)
            else:  # a Database of this process serving on another thread's loop
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(notifier.deliver, frozenset(topics))


class PostgresNotifier(Notifier):
    """PostgreSQL: ``pg_notify`` in the transaction; one LISTEN connection per process."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        url = make_url(settings.database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._check_every = settings.notify_check_seconds
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def before_commit(self, conn: AsyncConnection, topics: set[str]) -> None:
        await conn.execute(_NOTIFY, {"channel": CHANNEL, "topics": sorted(topics)})

    async def _listening(self) -> None:
        if self._task is None or self._task.done():
            self._connected = asyncio.Event()
            self._task = asyncio.create_task(self._listen(), name="testruns-listen")
        if not self._connected.is_set():
            try:
                async with asyncio.timeout(self._check_every):
                    await self._connected.wait()
            except TimeoutError:
                raise Unavailable(
                    "live updates are unavailable: the database is not answering"
                ) from None

    async def _listen(self) -> None:
        """Hold the LISTEN connection, reconnecting whenever it is lost."""
        import asyncpg  # here: on SQLite, and in commands, nothing needs it

        first = True
        while True:
            conn = None
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._check_every)
                conn.add_termination_listener(lambda _, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notification)
                self._connected.set()
                if not first:
                    log.warning("listening for notifications again")
                    self.deliver_all()  # whatever changed while we were away
                first = False
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._check_every):
                            await lost.wait()
                    if not lost.is_set():  # a connection that died silently fails this
                        async with asyncio.timeout(self._check_every):
                            await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: reconnect
                log.warning("notification connection lost (%s); reconnecting", error)
            finally:
                self._connected.clear()
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(min(self._check_every, 1.0))

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.deliver((str(payload),))  # a NOTIFY payload is text; asyncpg types it as object

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def create_notifier(settings: Settings) -> Notifier:
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        return LocalNotifier(settings)
    return PostgresNotifier(settings)
