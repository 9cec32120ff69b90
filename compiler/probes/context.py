"""What a probe sees: its integration's resolved config, its credentials, and an HTTP session.

A probe is ``async def probe(ctx: ProbeContext) -> None`` (``compiler/integrations/<type>/probe.py``):
it returns when the service answered as expected and raises one of the exceptions below otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SophiaIacError
from ..model import Project, Secret
from .results import Drift

if TYPE_CHECKING:
    from .http import Http

# Anything shorter cannot be a real credential; refusing it keeps redaction meaningful.
MIN_SECRET_LENGTH = 8


class ProbeFailed(SophiaIacError):
    """A definite failure (wrong answer, missing credential, 4xx): not retried."""


class AuthFailed(ProbeFailed):
    """The service rejected the credentials (401/403 or its own equivalent): not retried."""


class Transient(SophiaIacError):
    """A failure worth retrying (5xx, 429, transport error, timeout)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Skipped(SophiaIacError):
    """The check cannot be made honestly; the reason is reported."""


@dataclass(frozen=True)
class ProbeContext:
    """One integration as its check sees it in one environment."""

    integration: str
    env: str
    config: Mapping[str, Any]
    secrets: Mapping[str, Secret]
    project: Project
    endpoint: str | None
    environ: Mapping[str, str]
    http: Http

    def secret(self, name: str) -> str:
        """The value of one of the integration's secrets, from the variable ESC exports it as."""
        ref = self.secrets.get(name)
        if ref is None:
            raise ProbeFailed(f"the integration declares no secret '{name}', which this check authenticates with")
        value = self.environ.get(ref.env_var, "")
        if not value:
            raise ProbeFailed(f"missing credential: environment variable {ref.env_var} (secret '{name}') is not set")
        if len(value) < MIN_SECRET_LENGTH:
            raise ProbeFailed(f"environment variable {ref.env_var} (secret '{name}') is too short to be a credential")
        return value

    def base_url(self, default: str) -> str:
        """The service's base URL: the ``--endpoint`` override if there is one, else ``default``."""
        return (self.endpoint or default).rstrip("/")

    def drift(self, item: str, declared: Any, held: Any) -> None:
        """Report that the service holds ``held`` where the spec declares ``declared`` (nothing if equal)."""
        if declared != held:
            self.http.drift.append(Drift(item, declared, held))

    def sensitive(self, value: str) -> str:
        """Register a value derived from a credential (a signed JWT, an access token) for redaction."""
        self.http.redactor.add(value)
        return value


Probe = Callable[[ProbeContext], Awaitable[None]]
