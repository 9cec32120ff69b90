"""Runs the checks: a concurrency bound, a timeout per attempt, retries with backoff, a rate limit per service.

Each check runs at most ``healthCheck.retries + 1`` attempts, each bounded by
``healthCheck.timeout``. A transient failure is retried after an exponential
backoff (0.5 s, 1 s, 2 s, ... capped at 8 s), or after ``Retry-After`` on a 429.
Requests to one service are spaced so that no more than
``healthCheck.rateLimitPerMinute`` start in a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from ..model import HealthCheck
from .context import Probe, ProbeContext, ProbeFailed, Skipped, Transient
from .http import Http
from .redact import Redactor
from .results import FAILURE, SKIPPED, SUCCESS, Result, TestRecord, now


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before the next attempt."""

    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    # A longer Retry-After is a failure: the runner does not wait minutes for one check.
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = _sleep

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before attempt ``attempt + 1`` (0-based ``attempt`` just failed); None to give up."""
        if retry_after is None:
            return float(min(self.backoff_cap, self.backoff_base * 2**attempt))
        return retry_after if retry_after <= self.max_retry_after else None


DEFAULT_POLICY = RetryPolicy()


class RateLimiter:
    """Spaces requests ``60 / per_minute`` seconds apart, so no more than ``per_minute`` start in a minute."""

    def __init__(self, per_minute: int | None) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            start = time.monotonic()
            if self._next > start:
                await asyncio.sleep(self._next - start)
                start = self._next
            self._next = start + self.interval


@dataclass(frozen=True)
class Job:
    """One integration to probe, or to report as skipped."""

    name: str
    type: str
    health: HealthCheck
    probe: Probe | None
    skip_reason: str | None
    context: Callable[[Http], ProbeContext]


class _GaveUp(Exception):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


async def run_probes(
    targets: Sequence[Job], client: httpx.AsyncClient, redactor: Redactor, concurrency: int, policy: RetryPolicy
) -> list[Result]:
    """Every target's result, in order, with at most ``concurrency`` checks running at once."""
    bound = asyncio.Semaphore(concurrency)

    async def bounded(target: Job) -> Result:
        async with bound:
            return await run_one(target, client, redactor, policy)

    return list(await asyncio.gather(*(bounded(t) for t in targets)))


async def run_one(target: Job, client: httpx.AsyncClient, redactor: Redactor, policy: RetryPolicy) -> Result:
    start = now()
    if target.skip_reason is not None or target.probe is None:
        return _skipped(target, start, target.skip_reason or "no probe for this type")
    http = Http(client, RateLimiter(target.health.rate_limit_per_minute).wait, redactor)
    try:
        attempts = await _attempts(target, target.probe, target.context(http), policy)
    except Skipped as exc:
        return _skipped(target, start, str(exc))
    except _GaveUp as exc:
        return Result(target.name, target.type, FAILURE, tuple(http.tests), start, now(), str(exc), exc.attempts)
    return Result(target.name, target.type, SUCCESS, tuple(http.tests), start, now(), None, attempts, tuple(http.drift))


async def _attempts(target: Job, probe: Probe, ctx: ProbeContext, policy: RetryPolicy) -> int:
    """Run the check until it succeeds; return the number of attempts, or raise :class:`_GaveUp`."""
    retries = target.health.retries
    for attempt in range(retries + 1):
        ctx.http.tests.clear()
        ctx.http.drift.clear()
        try:
            await _attempt(target, probe, ctx)
            return attempt + 1
        except ProbeFailed as exc:
            raise _GaveUp(str(exc), attempt + 1) from None
        except Transient as exc:
            delay = policy.delay(attempt, exc.retry_after)
            if delay is None:
                too_long = f" (Retry-After {exc.retry_after:g}s is longer than the runner waits)"
                raise _GaveUp(f"{exc}{too_long}", attempt + 1) from None
            if attempt == retries:
                raise _GaveUp(f"{exc}{_after(attempt + 1)}", attempt + 1) from None
            await policy.sleep(delay)
    raise AssertionError("unreachable")


async def _attempt(target: Job, probe: Probe, ctx: ProbeContext) -> None:
    timeout = target.health.timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            await probe(ctx)
    except TimeoutError:
        raise Transient(f"timed out after {timeout:g}s") from None


def _after(attempts: int) -> str:
    return f" (gave up after {attempts} attempts)" if attempts > 1 else ""


def _skipped(target: Job, start: datetime, reason: str) -> Result:
    test = TestRecord("health check", SKIPPED, 0.0, reason)
    return Result(target.name, target.type, SKIPPED, (test,), start, now(), None, 0)
