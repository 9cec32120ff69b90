"""The HTTP layer of a generated program's dynamic providers (services with no official Pulumi provider).

Shipped verbatim as ``program/http.py``. One :class:`Api` per service and credential:

- every call has a timeout, and names the resource and the call it was made for in any error;
- network errors and 5xx answers are retried with exponential backoff (capped), 429 answers after
  the ``Retry-After`` they carry (or the backoff when they carry none), up to ``retries`` times;
- calls are spaced to the service's documented rate limit;
- the credential never appears in an error, a log line or a returned value: it is sent in a header
  and every occurrence of it in text the service sends back is masked.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import httpx

MASK = "***"


class ApiError(Exception):
    """A call that failed for good: names the resource, the call, the status and the service's own code."""

    def __init__(self, resource: str, call: str, message: str, status: int | None = None, code: str = "") -> None:
        where = f"{resource}: {call}"
        super().__init__(f"{where} failed" + (f" (HTTP {status})" if status else "") + f": {message}")
        self.resource, self.call, self.status, self.code = resource, call, status, code


@dataclass
class Api:
    """A service's REST API as one credential sees it."""

    base_url: str
    credential: str = field(repr=False)
    service: str
    # How the credential travels: ``bearer`` (Authorization: Bearer <credential>), ``basic`` (the
    # credential as the user name, no password), ``header:<name>`` (the credential as that header) or
    # ``none`` (in no header: calls that carry it in their body, such as a client-credentials token
    # exchange; it is still masked in everything the service sends back) or ``query:<name>`` (as that
    # query parameter, masked as sent, percent-encoded, too, and in the text of any error whatever
    # raised it, since errors may quote the URL).
    auth: str = "bearer"
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    backoff_cap: float = 30.0
    # Most Retry-After the layer waits; a longer one fails the call rather than hang the deploy.
    max_wait: float = 120.0
    per_second: float | None = None
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _next: float = field(default=0.0, init=False, repr=False)
    _kinds: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        # A key pasted with its newline would put the key itself into the client's error message.
        self.credential = self.credential.strip()
        if not self.credential or not all(" " < c < "\x7f" for c in self.credential):
            raise ApiError(self.service, "authenticate", "the API key is empty or holds characters no key has")

    def call(
        self,
        resource: str,
        call: str,
        method: str,
        path: str,
        body: Any = None,
        pace: tuple[str, float] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """The JSON answer of one call; :class:`ApiError` when it failed for good.

        ``pace`` (a kind of call, seconds) keeps calls of that kind that far apart on top of the
        general rate (a service's stricter limit on some calls, e.g. one launch per 12 seconds).
        A call that is not ``idempotent`` (one that creates) is retried only where the service
        surely did nothing: a 429, or a connection that was never made; after a timeout or a 5xx its
        outcome is unknown, and the caller looks before trying again.
        """
        if not self.auth.startswith("query:"):
            return self._call(resource, call, method, path, body, pace, idempotent)
        name = self.auth.removeprefix("query:")
        keyed = f"{path}{'&' if '?' in path else '?'}{urlencode({name: self.credential})}"
        try:
            return self._call(resource, call, method, keyed, body, pace, idempotent)
        except ApiError:
            raise
        except Exception as exc:  # whatever it is, its text may quote the URL
            raise ApiError(resource, call, self.mask(f"{type(exc).__name__}: {exc}")) from None

    def _call(
        self,
        resource: str,
        call: str,
        method: str,
        path: str,
        body: Any,
        pace: tuple[str, float] | None,
        idempotent: bool,
    ) -> Any:
        url = self.base_url.rstrip("/") + path
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
            for attempt in range(self.retries + 1):
                self._space(pace)
                last = attempt == self.retries
                try:
                    response = client.request(method, url, json=body, headers=self._headers())
                except httpx.HTTPError as exc:  # connection refused, reset, timed out...
                    unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                    if last or not (idempotent or unsent):
                        raise ApiError(resource, call, f"{type(exc).__name__}: {self.mask(str(exc))}") from None
                    self.sleep(self._delay(attempt))
                    continue
                status = response.status_code
                if status == 429 or (status >= 500 and idempotent):
                    if last:
                        raise self._error(resource, call, response)
                    wait = self._retry_after(response) if status == 429 else None
                    if wait is not None and wait > self.max_wait:
                        raise self._error(resource, call, response, f" (Retry-After {wait:g}s is too long to wait)")
                    if wait is None:
                        wait = max(self._delay(attempt), pace[1] if pace and status == 429 else 0.0)
                    self.sleep(wait)
                    continue
                if status >= 300:
                    raise self._error(resource, call, response)
                return response.json() if response.content else None
        raise AssertionError("unreachable")

    def mask(self, text: str) -> str:
        """``text`` with every occurrence of the credential masked, as sent or as a message escapes it."""
        for form in {self.credential, repr(self.credential)[1:-1], repr(self.credential.encode())[2:-1]}:
            if form:
                text = text.replace(form, MASK)
        if self.auth.startswith("query:"):  # as sent, and with "/" left as is; %2b is %2B
            for form in {quote_plus(self.credential), quote(self.credential)}:
                text = re.sub(re.escape(form), MASK, text, flags=re.IGNORECASE)
        return text

    def _headers(self) -> Mapping[str, str]:
        if self.auth == "basic":
            token = base64.b64encode(f"{self.credential}:".encode()).decode("ascii")
            return {"Authorization": f"Basic {token}", "Accept": "application/json"}
        if self.auth.startswith("header:"):
            return {self.auth.removeprefix("header:"): self.credential, "Accept": "application/json"}
        if self.auth == "none" or self.auth.startswith("query:"):
            return {"Accept": "application/json"}
        return {"Authorization": f"Bearer {self.credential}", "Accept": "application/json"}

    def _space(self, pace: tuple[str, float] | None) -> None:
        """Wait until the next call keeps to ``per_second`` and to its kind's ``pace``."""
        with self._lock:  # reserve a slot; wait for it outside the lock, so other kinds are not held up
            now = self.clock()
            slot = max(now, self._next, self._kinds.get(pace[0], 0.0) if pace else 0.0)
            if self.per_second:
                self._next = slot + 1.0 / self.per_second
            if pace:
                self._kinds[pace[0]] = slot + pace[1]
        if slot > now:
            self.sleep(slot - now)

    def _delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2**attempt, self.backoff_cap))

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        return retry_after(response.headers.get("retry-after"))

    def _error(self, resource: str, call: str, response: httpx.Response, extra: str = "") -> ApiError:
        code, message = "", response.text[:300]
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict):
            code = str(error.get("code", ""))
            message = " ".join(str(error.get(k, "")) for k in ("code", "message", "suggestion") if error.get(k))
        return ApiError(resource, call, self.mask(message) + extra, response.status_code, code)


def whole_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints: Pulumi hands every number to a provider as a float, and
    services document counts, ports and limits as integers (and may refuse ``5432.0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())  # noqa: UP017 - Python 3.10 runs it too


_SHARED: dict[tuple[str, str, str], Api] = {}
_SHARED_LOCK = threading.Lock()


def shared(
    base_url: str,
    credential: str,
    service: str,
    *,
    per_second: float | None = None,
    sleep: Callable[[float], None],
    auth: str = "bearer",
) -> Api:
    """The one client of this process for a service, URL and credential: resources created at once (in
    the dynamic-provider process's threads) share its rate limits. The key indexes it only as a digest."""
    key = (service, base_url, hashlib.sha256(credential.encode()).hexdigest())
    with _SHARED_LOCK:
        client = _SHARED.get(key)
        if client is None or client.sleep is not sleep or client.per_second != per_second:
            client = _SHARED[key] = Api(
                base_url=base_url, credential=credential, service=service, per_second=per_second, sleep=sleep, auth=auth
            )
        return client
