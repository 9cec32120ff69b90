"""Secret rotation: which secrets are due, and the runner that rotates them.

Each secret's method (``workflow`` or ``reminder``) and the ESC environment holding its value are
chosen in :mod:`compiler.homes`. When each secret was last rotated is recorded beside its value (see
:mod:`.state`), so it survives restarts; without access to ESC it is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from ..homes import ESC, REMINDER, WORKFLOW, config_at, esc_rotation, home, method, rotated_paths
from ..model import Environment, Integration, Model, RotationPolicy, Secret, derived

__all__ = ["ESC", "REMINDER", "WORKFLOW"]
OK, DUE, OVERDUE, UNKNOWN = "ok", "due", "overdue", "unknown"


@dataclass(frozen=True)
class Planned:
    """One secret of one environment, and how it rotates."""

    integration: Integration
    secret: Secret
    env: Environment
    policy: RotationPolicy
    method: str
    why: str  # why this method, when it is not what the policy asks
    esc_environment: str  # the ESC environment (``project/name``) holding its value and its rotation record
    # The secret (integration/secret) whose rotation rotates this one too: another integration's of the same
    # ESC path, or the key pair a public key belongs to; its method is then that one's.
    owner: str | None = None

    @property
    def label(self) -> str:
        return f"{self.integration.name}/{self.secret.name}"


def planned(model: Model, env: str | None = None) -> list[Planned]:
    """Every secret of every integration enabled in ``env`` (every environment when None), with its method."""
    return list(derived(model, "planned", env, lambda: _planned(model, env)))


def _planned(model: Model, env: str | None) -> list[Planned]:
    policies = {p.name: p for p in model.rotation_policies}
    out = []
    for environment in model.environments:
        if env is not None and environment.name != env:
            continue
        rotated = rotated_paths(model, environment)
        for integration in model.integrations:
            if not integration.enabled(environment.name):
                continue
            for secret in integration.secrets:
                policy = policies[secret.rotation]
                how, why = method(integration, secret, policy)
                where = home(environment, integration, secret.esc, rotated)
                out.append(Planned(integration, secret, environment, policy, how, why, where))
    return _owned(out)


def _owned(items: list[Planned]) -> list[Planned]:
    """Each secret rotated by another's rotation, with that one as its owner and its method: a reader of a
    rotated ESC path (Airbyte's copy of the Snowflake key), and what an ESC rotator rotates along (the public
    key of its key pair)."""
    rotating: dict[tuple[str, str, str], Planned] = {}
    for p in items:
        found = esc_rotation(p.integration, p.secret)
        primary = p.method == WORKFLOW or (p.method == ESC and found is not None and found[1])
        if primary:
            rotating.setdefault((p.env.name, p.esc_environment, p.secret.esc), p)
    out = []
    for p in items:
        owner = rotating.get((p.env.name, p.esc_environment, p.secret.esc))
        found = esc_rotation(p.integration, p.secret) if p.method == ESC else None
        if found is not None and not found[1]:  # rotated along: its owner names it in the same config
            config = p.integration.per_env[p.env.name].config
            name = config_at(config, found[0].secret)
            owner = next(
                (
                    o
                    for o in rotating.values()
                    if o.integration is p.integration and o.secret.name == name and o.env is p.env
                ),
                None,
            )
        owned = owner is not None and owner is not p
        out.append(replace(p, method=owner.method, why="", owner=owner.label) if owner and owned else p)
    return out


def variables(model: Model, env: str) -> list[str]:
    """The environment variables ``rotate`` reads in ``env``, as its ESC environment exports them: the
    secrets and settings of each integration with a secret it rotates (its rotator and health check
    read nothing else), but not the rotated secrets themselves (the check is given the new value)."""
    from ..targets.esc import application_variables

    items = [p for p in planned(model, env) if p.method == WORKFLOW and p.owner is None]
    names = {p.integration.name for p in items}
    rotated = {p.secret.env_var for p in items}  # the health check is given the new value, never the old
    found = {s.env_var for p in items for s in p.integration.secrets} - rotated
    environment = next(e for e in model.environments if e.name == env)
    found.update(application_variables(model, environment, names))
    return sorted(found)


@dataclass(frozen=True)
class Status:
    last_rotated: datetime | None
    next_due: datetime | None
    status: str


def status(item: Planned, record: Mapping[str, object] | None, now: datetime) -> Status:
    """Where a secret stands: ok until its interval has passed since it was last rotated, then due;
    overdue once a further overlap window (or a day) has gone by; unknown without a record."""
    rotated = parse_time(record.get("rotatedAt")) if record else None
    if rotated is None:
        return Status(None, None, UNKNOWN)
    due = rotated + timedelta(seconds=item.policy.interval_seconds)
    grace = timedelta(seconds=_overlap_seconds(item.policy) or 86400)
    state = OK if now < due else (DUE if now < due + grace else OVERDUE)
    return Status(rotated, due, state)


def _overlap_seconds(policy: RotationPolicy) -> int:
    from ..schemas import duration_seconds

    return duration_seconds(policy.overlap) if policy.overlap else 0


def overlap(policy: RotationPolicy) -> timedelta:
    """How long a replaced credential stays valid after its successor is written."""
    return timedelta(seconds=_overlap_seconds(policy))


def parse_time(value: object) -> datetime | None:
    """A recorded time: ISO 8601 text or a YAML timestamp (a hand edit may leave one unquoted); one
    without a time zone is UTC; None for anything else."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # noqa: UP017


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
