"""Pulumi ESC's REST API, as the rotation runner uses it: read an environment's definition with its
ETag, and write it back only if nobody wrote in between.

Endpoints (pulumi/esc ``cmd/esc/cli/client/client.go``; Pulumi Cloud's OpenAPI spec): ``GET
/api/esc/environments/{org}/{project}/{env}`` answers the YAML definition (secrets as ciphertext) with
an ``ETag`` header; ``PATCH`` on the same path takes the whole YAML definition and is conditional on
the etag sent back (the CLI sends it as ``ETag``, the spec names ``If-Match``: both are sent), answering
409 when the environment changed since it was read. Authentication: ``Authorization: token <token>``.
A plaintext ``fn::secret`` written this way is encrypted by ESC on save (``esc env set --secret`` does
the same). ``pulumi-esc-sdk`` drops the etag of a read and takes none for a write, so it cannot make
the write conditional; httpx is used directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..errors import SophiaIacError

DEFAULT_URL = "https://api.pulumi.com"


class EscError(SophiaIacError):
    """A call to ESC failed for good."""


class Conflict(EscError):
    """The environment changed since it was read (409): read it again."""


class Unknown(EscError):
    """A write whose outcome is unknown (no answer, or a 5xx): read again to see whether it happened."""


@dataclass
class Esc:
    organization: str
    token: str = field(repr=False)
    base_url: str = DEFAULT_URL
    timeout: float = 30.0
    retries: int = 3
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def _url(self, environment: str) -> str:
        project, name = environment.split("/", 1)
        return f"{self.base_url.rstrip('/')}/api/esc/environments/{self.organization}/{project}/{name}"

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"token {self.token}", "Accept": "application/x-yaml, application/json", **extra}

    def get(self, environment: str) -> tuple[str, str]:
        """The definition (YAML text) of ``project/name`` and its etag."""
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            for attempt in range(self.retries + 1):
                try:
                    answer = client.get(self._url(environment), headers=self._headers())
                except httpx.HTTPError as exc:
                    if attempt == self.retries:
                        raise EscError(f"ESC environment {environment}: {type(exc).__name__}") from None
                    self.sleep(2.0**attempt)
                    continue
                if answer.status_code == 429 or answer.status_code >= 500:
                    if attempt == self.retries:
                        raise self._error(environment, "read", answer)
                    self.sleep(_retry_after(answer) or 2.0**attempt)
                    continue
                if answer.status_code != 200:
                    raise self._error(environment, "read", answer)
                etag = answer.headers.get("etag", "")
                if not etag:  # an empty one would make the next write unconditional
                    raise EscError(f"ESC environment {environment}: its definition came without an ETag")
                return answer.text, etag
        raise AssertionError("unreachable")

    def decrypt(self, environment: str) -> str:
        """The definition with its secrets in plaintext (``GET .../decrypt``): how a run that crashed
        after writing a value finds it again for what else carries it."""
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            answer = client.get(self._url(environment) + "/decrypt", headers=self._headers())
        if answer.status_code != 200:
            raise self._error(environment, "decrypt", answer)
        return answer.text

    def patch(self, environment: str, definition: str, etag: str) -> None:
        """Write the definition if the environment is still at ``etag``: :class:`Conflict` if it is not,
        :class:`Unknown` if the outcome cannot be known."""
        headers = self._headers(**{"Content-Type": "application/x-yaml", "ETag": etag, "If-Match": etag})
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            for attempt in range(self.retries + 1):
                try:
                    answer = client.patch(self._url(environment), content=definition.encode(), headers=headers)
                except (httpx.ConnectError, httpx.ConnectTimeout):  # never sent: safe to send again
                    if attempt == self.retries:
                        raise EscError(f"ESC environment {environment}: cannot connect") from None
                    self.sleep(2.0**attempt)
                    continue
                except httpx.HTTPError as exc:
                    raise Unknown(f"ESC environment {environment}: write {type(exc).__name__}") from None
                if answer.status_code == 429 and attempt < self.retries:  # refused, not done
                    self.sleep(_retry_after(answer) or 2.0**attempt)
                    continue
                if answer.status_code in (409, 412):
                    raise Conflict(f"ESC environment {environment} changed since it was read")
                if answer.status_code >= 500:
                    raise Unknown(f"ESC environment {environment}: write answered HTTP {answer.status_code}")
                if answer.status_code >= 300:
                    raise self._error(environment, "write", answer)
                return
        raise AssertionError("unreachable")

    @staticmethod
    def _error(environment: str, what: str, answer: httpx.Response) -> EscError:
        """The service's message only: an answer's raw text could quote the definition sent (its
        new secret in plaintext)."""
        try:
            message = str(answer.json().get("message", ""))
        except (ValueError, AttributeError):
            message = "(no message)"
        return EscError(f"ESC environment {environment}: {what} answered HTTP {answer.status_code}: {message}")


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return max(0.0, float(answer.headers.get("retry-after", "")))
    except ValueError:
        return None
