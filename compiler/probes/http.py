"""One check's HTTP calls: rate-limited, timed, classified by status, and recorded as tests.

401 and 403 are authentication failures (not retried); 429, 408, 5xx and
transport errors are transient (retried, 429 after its ``Retry-After``);
any other non-2xx status is a definite failure.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from ..integrations.http import retry_after
from .context import AuthFailed, ProbeFailed, Transient
from .redact import Redactor
from .results import FAILURE, SUCCESS, Drift, TestRecord

# Request headers that carry credentials (Authorization, X-Api-Key, a service's own ...-Api-Key or
# ...-Token header): their values are registered for redaction as sent.
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|key|token|secret|signature|cookie")
_EXCERPT = 300


class Http:
    """The HTTP session of one check: every request waits for the rate limiter and becomes a test."""

    def __init__(self, client: httpx.AsyncClient, wait: Callable[[], Awaitable[None]], redactor: Redactor) -> None:
        self.client = client
        self.wait = wait
        self.redactor = redactor
        self.tests: list[TestRecord] = []
        self.drift: list[Drift] = []

    async def request(
        self,
        test: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; return the response if it is 2xx, else record and raise the failure."""
        self._register(headers or {})
        await self.wait()
        started = time.monotonic()
        try:
            response = await self.client.request(method, url, headers=headers, json=json, params=params)
        except asyncio.CancelledError:
            self._record(test, FAILURE, started, f"{method} {url}: no answer before the attempt timed out")
            raise
        except httpx.HTTPError as exc:
            raise self._failed(test, started, _transport_error(method, url, exc)) from None
        problem = classify(method, url, response)
        if problem is not None:
            raise self._failed(test, started, problem)
        self._record(test, SUCCESS, started, f"{method} {url}: HTTP {response.status_code}")
        return response

    def note(self, detail: str) -> None:
        """Add what the check learned to its last test's detail."""
        if self.tests:
            self.tests[-1].detail += f"; {detail}"

    def _register(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            if _CREDENTIAL_HEADER.search(name):
                self.redactor.add(value)
                self.redactor.add(value.partition(" ")[2])

    def _record(self, test: str, status: str, started: float, detail: str) -> None:
        self.tests.append(TestRecord(test, status, time.monotonic() - started, detail))

    def _failed(self, test: str, started: float, problem: Exception) -> Exception:
        self._record(test, FAILURE, started, str(problem))
        return problem


def classify(method: str, url: str, response: httpx.Response) -> Exception | None:
    """The failure a response stands for, or None if it is a success."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    what = f"{method} {url} answered HTTP {status}{_excerpt(response)}"
    if status in (401, 403):
        return AuthFailed(f"authentication failed: {what}")
    if status == 429:
        return Transient(f"rate limited: {what}", retry_after(response.headers.get("Retry-After")))
    if status == 408 or status >= 500:
        return Transient(what)
    return ProbeFailed(what)


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return ""
    return f": {text[:_EXCERPT]}{'...' if len(text) > _EXCERPT else ''}"


def _transport_error(method: str, url: str, exc: httpx.HTTPError) -> Exception:
    message = f"{method} {url}: {type(exc).__name__}{f': {exc}' if str(exc) else ''}"
    return Transient(message) if isinstance(exc, httpx.TransportError) else ProbeFailed(message)


def basic(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def payload(response: httpx.Response) -> Any:
    """The response's JSON body; a body that is not JSON is a failure of the service."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProbeFailed(f"{response.request.method} {response.request.url}: the answer is not JSON") from None


def field(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``; a missing key is a failure of the service."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            raise ProbeFailed(f"the answer has no '{'.'.join(path)}'")
        data = data[key]
    return data
