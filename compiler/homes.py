"""Who rotates each secret, and so which ESC environment holds its value.

Three ESC environments of an environment hold values:

- the admin-only bootstrap secrets environment: the bootstrap's own credentials (the GitHub App key,
  the Pulumi Cloud admin token); no pipeline identity may open it;
- the rotated environment: the values ``sophia-iac rotate`` issues (method ``workflow``) and their
  rotation records. The bootstrap creates it importing the secrets-only environment, so a value not
  yet rotated there is the one people put in the secrets environment; only the rotation workflow's
  identity writes it;
- the secrets-only environment: every other value, put there by people.

A secret's method is chosen here from its rotation policy and what its type can do:

- ``workflow``: the policy is automatic and the type's ``rotate.py`` can issue and revoke the credential
  through the service's API (``IntegrationType.rotators``), with an overlap in which both are valid;
- ``reminder``: everything else: people rotate it when reminded. A policy that asks for automatic
  rotation of a secret no rotator handles says why it is reminded instead.
"""

from __future__ import annotations

from .model import Environment, Integration, Model, RotationPolicy, Secret

WORKFLOW, REMINDER = "workflow", "reminder"


def bootstrap_only(integration: Integration) -> bool:
    """Whether an integration's secrets are the bootstrap's own credentials (never given to the pipeline)."""
    return integration.type.secrets_project == "bootstrap"


def method(integration: Integration, secret: Secret, policy: RotationPolicy) -> tuple[str, str]:
    """How ``secret`` is rotated, and why, when that is not what its policy asks."""
    if policy.method != "automatic":
        return REMINDER, ""
    if bootstrap_only(integration):
        return REMINDER, "the bootstrap's own credential: no pipeline identity may hold it"
    if secret.name in integration.type.rotators:
        if not policy.overlap:  # the replaced credential would be revoked while still in use
            return REMINDER, f"policy '{policy.name}' sets no overlap: the old credential must outlive its successor"
        return WORKFLOW, ""
    return REMINDER, f"policy '{policy.name}' asks for automatic rotation; no rotator handles this secret yet"


def rotated_paths(model: Model, env: Environment) -> frozenset[str]:
    """The ESC paths whose value the rotation workflow writes in ``env`` (those of its enabled integrations'
    secrets with method ``workflow``)."""
    policies = {p.name: p for p in model.rotation_policies}
    return frozenset(
        s.esc
        for i in model.integrations
        if i.enabled(env.name)
        for s in i.secrets
        if method(i, s, policies[s.rotation])[0] == WORKFLOW
    )


def home(env: Environment, integration: Integration, path: str, rotated: frozenset[str]) -> str:
    """The ESC environment (``project/name``) that holds the value at ``path`` of ``integration``, given the
    environment's :func:`rotated_paths`: every reader of a rotated value reads it where the rotator writes."""
    if bootstrap_only(integration):
        return env.esc_bootstrap_secrets
    return env.esc_rotated if path in rotated else env.esc_secrets
