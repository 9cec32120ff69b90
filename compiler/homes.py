"""Who rotates each secret, and so which ESC environment holds its value.

Four ESC environments of an environment hold values:

- the admin-only bootstrap secrets environment: the bootstrap's own credentials (the GitHub App key,
  the Pulumi Cloud admin token); no pipeline identity may open it;
- the rotated environment: the values ``sophia-iac rotate`` issues (method ``workflow``) and their
  rotation records. The bootstrap creates it importing the secrets-only environment, so a value not
  yet rotated there is the one people put in the secrets environment; only the rotation workflow's
  identity writes it;
- the rotators environment: the Pulumi ESC rotators (method ``esc``) and their state, which ESC writes
  when it rotates; the bootstrap creates it and its schedule, and no pipeline identity writes it;
- the secrets-only environment: every other value, put there by people.

A secret's method is chosen here from its rotation policy and what its type can do:

- ``esc``: the policy is automatic and a Pulumi ESC rotator can rotate it (``IntegrationType.esc_rotators``,
  the Snowflake service user's key pair): it is declared in the rotated environment and rotated on ESC's
  schedule; a secret rotated along with it (the public key the user is created with) is used once;
- ``workflow``: the policy is automatic and the type's ``rotate.py`` can issue and revoke the credential
  through the service's API (``IntegrationType.rotators``), with an overlap in which both are valid;
- ``reminder``: everything else: people rotate it when reminded. A policy that asks for automatic
  rotation of a secret no rotator handles says why it is reminded instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .integrations.base import EscRotator
from .model import Environment, Integration, Model, RotationPolicy, Secret, derived

ESC, WORKFLOW, REMINDER = "esc", "workflow", "reminder"


def bootstrap_only(integration: Integration) -> bool:
    """Whether an integration's secrets are the bootstrap's own credentials (never given to the pipeline)."""
    return integration.type.secrets_project == "bootstrap"


def method(integration: Integration, secret: Secret, policy: RotationPolicy) -> tuple[str, str]:
    """How ``secret`` is rotated, and why, when that is not what its policy asks."""
    if policy.method != "automatic":
        return REMINDER, ""
    if bootstrap_only(integration):
        return REMINDER, "the bootstrap's own credential: no pipeline identity may hold it"
    if esc_rotation(integration, secret) is not None:
        return ESC, ""
    if secret.name in integration.type.rotators:
        if not policy.overlap:  # the replaced credential would be revoked while still in use
            return REMINDER, f"policy '{policy.name}' sets no overlap: the old credential must outlive its successor"
        return WORKFLOW, ""
    return REMINDER, f"policy '{policy.name}' asks for automatic rotation; no rotator handles this secret yet"


def config_at(config: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a config, or None."""
    found: Any = config
    for key in path.split("."):
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


def esc_rotation(integration: Integration, secret: Secret) -> tuple[EscRotator, bool] | None:
    """The ESC rotator of ``secret`` (the one whose config path names it in some environment), and whether
    its value is the rotator's output (else it rotates along with it)."""
    for rotator in integration.type.esc_rotators:
        for per_env in integration.per_env.values():
            if config_at(per_env.config, rotator.secret) == secret.name:
                return rotator, True
            if any(config_at(per_env.config, path) == secret.name for path in rotator.along):
                return rotator, False
    return None


def esc_rotated(model: Model, env: Environment) -> list[tuple[Integration, Secret, EscRotator, RotationPolicy]]:
    """The secrets of ``env``'s enabled integrations an ESC rotator rotates (its output is their value)."""
    return list(derived(model, "esc-rotated", env.name, lambda: _esc_rotated(model, env)))


def _esc_rotated(model: Model, env: Environment) -> list[tuple[Integration, Secret, EscRotator, RotationPolicy]]:
    policies = {p.name: p for p in model.rotation_policies}
    out = []
    for i in model.integrations:
        if not i.enabled(env.name):
            continue
        for s in i.secrets:
            found = esc_rotation(i, s)
            if found and found[1] and method(i, s, policies[s.rotation])[0] == ESC:
                out.append((i, s, found[0], policies[s.rotation]))
    return out


@dataclass(frozen=True)
class Rotated:
    """The ESC paths of an environment whose value is not read from its secrets environment."""

    workflow: frozenset[str]  # written by the rotation workflow, into the rotated environment
    esc: frozenset[str]  # an ESC rotator's output, in the rotators environment

    def __bool__(self) -> bool:
        return bool(self.workflow or self.esc)


def rotated_paths(model: Model, env: Environment) -> Rotated:
    """The ESC paths of ``env``'s enabled integrations' secrets that the rotation workflow writes (method
    ``workflow``), and those an ESC rotator rotates (its output; not what is rotated along with it,
    which is used once and read where people put it)."""
    return derived(model, "rotated-paths", env.name, lambda: _rotated_paths(model, env))


def _rotated_paths(model: Model, env: Environment) -> Rotated:
    policies = {p.name: p for p in model.rotation_policies}
    workflow = frozenset(
        s.esc
        for i in model.integrations
        if i.enabled(env.name)
        for s in i.secrets
        if method(i, s, policies[s.rotation])[0] == WORKFLOW
    )
    return Rotated(workflow, frozenset(s.esc for _, s, _, _ in esc_rotated(model, env)))


def home(env: Environment, integration: Integration, path: str, rotated: Rotated) -> str:
    """The ESC environment (``project/name``) that holds the value at ``path`` of ``integration``, given the
    environment's :func:`rotated_paths`: every reader of a rotated value reads it where it is rotated."""
    if bootstrap_only(integration):
        return env.esc_bootstrap_secrets
    if path in rotated.esc:
        return env.esc_rotators
    return env.esc_rotated if path in rotated.workflow else env.esc_secrets


# Calendar schedules ESC can run a rotation on, each with the longest gap between two of its runs (days):
# the day-of-month, month and day-of-week fields of the cron expression.
CALENDAR = (
    (366, ("1", "1", "*")),
    (184, ("1", "*/6", "*")),
    (123, ("1", "*/4", "*")),
    (92, ("1", "*/3", "*")),
    (62, ("1", "*/2", "*")),
    (31, ("1", "*", "*")),
    (7, ("*", "*", "{dow}")),
)


def esc_schedule(model: Model, env: Environment) -> str | None:
    """The cron expression (UTC) of the rotators environment's ESC rotation schedule, or None without an ESC
    rotator. ESC rotates every rotator of the environment each time it runs, and a key stays valid for two
    runs (in RSA_PUBLIC_KEY, then in RSA_PUBLIC_KEY_2), so it runs on the least frequent calendar schedule
    whose two longest gaps fit the shortest of their policies' intervals: no key outlives the interval
    (90 days: the first of every month), at the minute and hour of that policy's ``schedule`` (06:00
    without one), never more often than daily."""
    found = [policy for _, _, _, policy in esc_rotated(model, env)]
    if not found:
        return None
    policy = min(found, key=lambda p: (p.interval_seconds, p.name))
    minute, hour, dow = "0", "6", "1"
    if policy.schedule:
        from croniter import croniter  # here: validate never needs it

        fields = croniter(policy.schedule).expanded
        minute, hour = str(fields[0][0]), str(fields[1][0])
        dow = str(fields[4][0]) if fields[4] != ["*"] else "1"
    days = policy.interval_seconds // 86400
    for gap, (dom, month, weekday) in CALENDAR:
        if days >= 2 * gap:
            return f"{minute} {hour} {dom} {month} {weekday.format(dow=dow)}"
    return f"{minute} {hour} * * *"
