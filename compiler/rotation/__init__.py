"""Secret rotation: which method rotates each secret, when it is due, and the runner that rotates.

A secret's method is chosen here from its rotation policy and what its type can do:

- ``workflow``: the policy is automatic and the type's ``rotate.py`` can issue and revoke the credential
  through the service's API (``IntegrationType.rotators``); ``sophia-iac rotate`` does it;
- ``reminder``: everything else: people rotate it when reminded. A policy that asks for automatic
  rotation of a secret no rotator handles yet says so (``why``).

When each secret was last rotated is recorded beside it in its ESC secrets environment (see
:mod:`.state`), so it survives restarts; without access to ESC it is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..model import Environment, Integration, Model, RotationPolicy, Secret
from ..targets.esc import secrets_home

WORKFLOW, REMINDER = "workflow", "reminder"
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

    @property
    def esc_environment(self) -> str:
        """The ESC environment (``project/name``) that holds its value and its rotation record."""
        return secrets_home(self.env, self.integration)

    @property
    def label(self) -> str:
        return f"{self.integration.name}/{self.secret.name}"


def planned(model: Model, env: str | None = None) -> list[Planned]:
    """Every secret of every integration enabled in ``env`` (every environment when None), with its method."""
    policies = {p.name: p for p in model.rotation_policies}
    out = []
    for environment in model.environments:
        if env is not None and environment.name != env:
            continue
        for integration in model.integrations:
            if not integration.enabled(environment.name):
                continue
            for secret in integration.secrets:
                policy = policies[secret.rotation]
                method, why = _method(integration, secret, policy)
                out.append(Planned(integration, secret, environment, policy, method, why))
    return out


def _method(integration: Integration, secret: Secret, policy: RotationPolicy) -> tuple[str, str]:
    if policy.method != "automatic":
        return REMINDER, ""
    if secret.name in integration.type.rotators:
        if not policy.overlap:  # the replaced credential would be revoked while still in use
            return REMINDER, f"policy '{policy.name}' sets no overlap: the old credential must outlive its successor"
        return WORKFLOW, ""
    return REMINDER, f"policy '{policy.name}' asks for automatic rotation; no rotator handles this secret yet"


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
