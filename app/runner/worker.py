"""The worker: claims tasks of executed runs, calls the model and the judges, records.

Any number of workers (``testruns worker`` processes, and the one embedded in each
``testruns serve`` process) share the queue in the database. A worker holds up to
``capacity`` tasks at once, renews their leases every third of ``lease_seconds``, and drops
a task whose lease it lost (the run was cancelled, or it stalled so long that another
worker took the task over). On stop it hands its unfinished tasks back at once.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.db.engine import Database
from app.domain import execution, recordings
from app.domain.errors import ServiceError
from app.domain.execution import Claim
from app.domain.jsontext import loads, loads_or_none
from app.domain.judging import UnreadableJudgement, judge_messages, parse_judgement
from app.domain.results import Usage
from app.runner.plan import Plan, load_plan, run_case
from app.runner.provider import Completion, ProviderClient, ProviderError, RetryPolicy
from app.settings import Settings

log = logging.getLogger("testruns.worker")


def worker_name() -> str:
    """This worker's lease owner: host, process and a random part (a restarted process with
    the same pid is another worker)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def provider_from(settings: Settings, **overrides: Any) -> ProviderClient:
    return ProviderClient(
        policy=RetryPolicy(
            max_attempts=settings.provider_max_attempts,
            base_delay=settings.provider_backoff_seconds,
            max_delay=settings.provider_max_backoff_seconds,
            max_retry_after=settings.provider_max_retry_after_seconds,
            timeout=settings.provider_timeout_seconds,
        ),
        per_model=settings.provider_concurrency_per_model,
        **overrides,
    )


@dataclass
class Stats:
    """What this worker has done (for logs and measurements)."""

    completed: int = 0
    errored: int = 0
    dropped: int = 0
    busy_seconds: float = 0.0
    waiting_seconds: float = 0.0  # time inside model calls


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        provider: ProviderClient | None = None,
        capacity: int | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        owner: str | None = None,
        run_ids: list[str] | None = None,
    ) -> None:
        settings = db.settings
        self.run_ids = run_ids
        self.db = db
        self.provider = provider or provider_from(settings)
        self.capacity = capacity or settings.worker_capacity
        self.lease_seconds = lease_seconds or settings.worker_lease_seconds
        self.poll_seconds = poll_seconds or settings.worker_poll_seconds
        self.owner = owner or worker_name()
        self.stats = Stats()
        self._plans: dict[str, Plan] = {}
        self._inflight: dict[tuple[str, str, int], tuple[Claim, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()

    # ---- the loop ---------------------------------------------------------------------

    async def run(
        self,
        stop: asyncio.Event | None = None,
        *,
        until: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Work until ``stop`` is set, or until ``until()`` is true while nothing is in
        flight."""
        stop = stop or asyncio.Event()
        renew_every = self.lease_seconds / 3
        next_renewal = time.monotonic() + renew_every
        try:
            while not stop.is_set():
                free = self.capacity - len(self._inflight)
                claims = []
                if free > 0:
                    try:
                        claims = await execution.claim_tasks(
                            self.db, self.owner, free, self.lease_seconds, self.run_ids
                        )
                    except ServiceError as error:  # the database is away: try again later
                        log.warning("claiming tasks failed: %s", error.message)
                    except Exception:
                        log.exception("claiming tasks failed")
                for claim in claims:
                    task = asyncio.create_task(self._process(claim))
                    self._inflight[claim.key] = (claim, task)
                if not claims and not self._inflight and until is not None and await until():
                    return
                if not claims or free - len(claims) <= 0:
                    await self._pause(stop)
                if time.monotonic() >= next_renewal:
                    await self._renew()
                    next_renewal = time.monotonic() + renew_every
        finally:
            await self._hand_back()

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until a task finishes, ``stop`` is set, or the poll interval passes."""
        self._wake.clear()
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        finally:
            for wait in waits:
                wait.cancel()

    async def _renew(self) -> None:
        claims = [claim for claim, _ in self._inflight.values()]
        try:
            lost = await execution.renew_leases(self.db, self.owner, claims, self.lease_seconds)
        except ServiceError as error:
            log.warning("renewing leases failed: %s", error.message)
            return
        except Exception:
            log.exception("renewing leases failed")
            return
        for key in lost:
            entry = self._inflight.pop(key, None)
            if entry is not None:
                entry[1].cancel()
                self.stats.dropped += 1

    async def _hand_back(self) -> None:
        entries = list(self._inflight.values())
        self._inflight.clear()
        for _, task in entries:
            task.cancel()
        for _, task in entries:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if entries:
            with contextlib.suppress(ServiceError):
                await execution.release_tasks(self.db, self.owner, [c for c, _ in entries])

    # ---- one task ---------------------------------------------------------------------

    async def _plan(self, run_id: str) -> Plan:
        plan = self._plans.get(run_id)
        if plan is None:
            plan = self._plans[run_id] = await load_plan(self.db, run_id)
        return plan

    async def _process(self, claim: Claim) -> None:
        started = time.perf_counter()
        try:
            await self._attempt(claim)
        except asyncio.CancelledError:
            raise
        except (ProviderError, ServiceError) as error:
            await self._close_quietly(claim, error.message)
        except Exception:
            log.exception("test run %s: case %s failed", claim.test_run_id, claim.test_case_id)
            await self._close_quietly(claim, "internal error while running the case")
        finally:
            self.stats.busy_seconds += time.perf_counter() - started
            self._inflight.pop(claim.key, None)
            self._wake.set()

    async def _call(self, endpoint: Any, messages: list[dict[str, Any]]) -> Completion:
        started = time.perf_counter()
        try:
            return await self.provider.complete(endpoint, messages)
        finally:
            self.stats.waiting_seconds += time.perf_counter() - started

    async def _attempt(self, claim: Claim) -> None:
        plan = await self._plan(claim.test_run_id)
        case = await run_case(self.db, plan, claim.test_case_id)
        inputs = loads(case.inputs)
        messages = plan.render(inputs, loads_or_none(case.history))
        answer = await self._call(plan.endpoint, messages)
        expected = loads_or_none(case.output)
        judged: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for judge in plan.judges:
            try:
                verdict = await self._call(
                    judge.endpoint,
                    judge_messages(
                        judge.question,
                        judge.rubric,
                        judge.kind,
                        inputs=inputs,
                        output=answer.text,
                        expected=expected,
                    ),
                )
                judged[judge.name] = parse_judgement(verdict.text, judge.kind)
            except (ProviderError, UnreadableJudgement) as error:
                errors[judge.name] = getattr(error, "message", None) or str(error)
        body = {
            "messages": [*messages, {"role": "assistant", "content": answer.text}],
            "inputs": inputs,
            "prompt_info": plan.prompt_info,
            "call_info": {
                "provider": plan.provider,
                "model": plan.endpoint.model,
                "llm_parameters": dict(plan.endpoint.parameters),
                "latency_ms": answer.latency_ms,
                "usage": {
                    "prompt_tokens": answer.prompt_tokens,
                    "completion_tokens": answer.completion_tokens,
                },
                "cost": answer.cost,
                "attempts": answer.attempts,
            },
            "test_run_info": {
                "test_run_id": claim.test_run_id,
                "test_case_id": claim.test_case_id,
                "repetition": claim.repetition,
            },
        }
        usage = Usage(
            answer.latency_ms, answer.prompt_tokens, answer.completion_tokens, answer.cost
        )
        async with self.db.write() as conn:
            run = await execution.hold_task(conn, self.owner, claim)
            if run is None:
                self.stats.dropped += 1
                return
            await recordings.record_run_completion(
                conn,
                run,
                recordings.TestRunInfo(claim.test_run_id, claim.test_case_id, claim.repetition),
                body,
                output=answer.text,
                judged=judged,
                usage=usage,
            )
            await execution.close_task(conn, claim, evaluation_errors=errors)
        self.stats.completed += 1

    async def _close_quietly(self, claim: Claim, error: str) -> None:
        """Record the case as errored; if even that fails, its lease expires and another
        worker tries the case again."""
        try:
            await self._close(claim, error)
        except Exception:
            log.exception(
                "test run %s: could not record case %s", claim.test_run_id, claim.test_case_id
            )

    async def _close(self, claim: Claim, error: str) -> None:
        async with self.db.write() as conn:
            if await execution.hold_task(conn, self.owner, claim) is None:
                self.stats.dropped += 1
                return
            await execution.close_task(conn, claim, error=error)
        self.stats.errored += 1


@contextlib.asynccontextmanager
async def embedded_worker(db: Database) -> AsyncIterator[None]:
    """A worker running beside the app while the block runs (unless the settings turn it
    off); on exit it hands its unfinished tasks back."""
    if not db.settings.embedded_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db).run(stop))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
