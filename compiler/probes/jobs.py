"""From the model to what the runner checks: one target per integration of the environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from ..errors import UsageError
from ..homes import bootstrap_only
from ..integrations import probe_of
from ..model import HealthCheck, Integration, Model
from ..names import endpoint_variable
from .context import ProbeContext
from .http import Http
from .runner import Job


def endpoints(options: Sequence[str], environ: Mapping[str, str], types: Iterable[str]) -> dict[str, str]:
    """Base URL overrides by integration type: ``SOPHIA_IAC_ENDPOINT_<TYPE>``, then ``--endpoint TYPE=URL``."""
    known = sorted(types)
    found = {}
    for type_ in known:
        variable = endpoint_variable(type_)
        if environ.get(variable):
            found[type_] = _url(environ[variable], variable)
    for option in options:
        type_, sep, url = option.partition("=")
        if not sep or type_ not in known:
            raise UsageError(f"--endpoint {option!r}: expected TYPE=URL with TYPE one of {', '.join(known)}")
        found[type_] = _url(url, f"--endpoint {type_}")
    return found


def _url(value: str, where: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise UsageError(f"{where}: {value!r} is not an http:// or https:// URL")
    return value


def jobs(model: Model, env: str, overrides: Mapping[str, str], environ: Mapping[str, str]) -> list[Job]:
    """One job per integration, in the model's (name) order."""
    return [_job(model, i, env, overrides.get(i.type.name), environ) for i in model.integrations]


def _job(model: Model, integration: Integration, env: str, endpoint: str | None, env_vars: Mapping[str, str]) -> Job:
    resolved = integration.per_env[env]
    secrets = MappingProxyType({s.name: s for s in integration.secrets})

    def context(http: Http) -> ProbeContext:
        return ProbeContext(integration.name, env, resolved.config, secrets, model.project, endpoint, env_vars, http)

    reason = None
    if not resolved.enabled:
        reason = f"the integration is disabled in {env}"
    elif not resolved.health_check.enabled:
        reason = f"its health check is disabled in {env} (healthCheck.enabled: false)"
    elif bootstrap_only(integration) and not all(env_vars.get(s.env_var) for s in integration.secrets):
        reason = (
            "its credentials are the bootstrap's own, kept in an admin-only ESC environment the pipeline cannot open"
        )
    return Job(
        integration.name, integration.type.name, _paced(integration, env), probe_of(integration.type), reason, context
    )


def credential_values(model: Model, environ: Mapping[str, str]) -> list[str]:
    """Every secret value the ESC environment exports for the model's integrations."""
    return [environ[s.env_var] for i in model.integrations for s in i.secrets if environ.get(s.env_var)]


def _paced(integration: Integration, env: str) -> HealthCheck:
    """The health check, at the stricter of its own rate limit and the one its service config declares."""
    resolved = integration.per_env[env]
    limits = [resolved.health_check.rate_limit_per_minute]
    if integration.type.rate_per_minute is not None:
        declared = integration.type.rate_per_minute(resolved.config)
        limits.append(None if declared is None else max(1, int(declared)))
    strictest = min((limit for limit in limits if limit), default=None)
    return replace(resolved.health_check, rate_limit_per_minute=strictest)
