"""Who may do what in the deploy pipeline: one derivation, read by every target and checked by the contracts.

Pull requests get no cloud identity at all: they validate, check the generated
output and run the offline plan. Every environment has two identities:

- **deploy**: the environment's deploy job, running in its GitHub environment
  (OIDC subject ``repo:<repo>:environment:<env>``). It is trusted by the AWS
  deploy role and by the Pulumi Cloud team that may update the stack. The GitHub
  environment admits only the refs that deploy it (the default branch, or
  release tags), so a pull request cannot present that subject.
- **reader**: scheduled drift detection and integration tests, from the default
  branch (``repo:<repo>:ref:refs/heads/<branch>``). It is trusted by a read-only
  AWS role and by a Pulumi Cloud team that may read the stack and open its ESC
  environment, never change them. The rotation workflow's reminder job acts as it too.
- **rotator**: only where sophia-iac rotates a secret of the environment: the rotation
  workflow's rotate job, from the default branch only, in its own GitHub environment
  (``<env>-rotation``, subject ``repo:<repo>:environment:<env>-rotation``). No AWS role
  trusts it; its Pulumi Cloud team may open the environment's ESC environments and write
  only the rotated one (the values it rotates and their records), and has no stack
  permission. The issuer trusts its subject from that workflow at the default branch only.

Every name derived here (stacks, roles, teams, subjects) is derived nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .homes import rotated_paths
from .integrations.base import CLOUD, REPOSITORY, STACKS
from .model import Environment, Integration, Model

# The workflow event that deploys an environment, by its spec's ``deploy.on``.
TRIGGERS = {"pull-request": "pull_request", "push": "push", "release": "release"}
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AWS_AUDIENCE = "sts.amazonaws.com"
DEFAULT_RELEASE_TAGS = "v*"
DEFAULT_DRIFT_CRON = "17 5 * * *"
# Pulumi Cloud stack permissions (TeamStackPermissionScope): read allows previews, edit allows updates.
STACK_READ, STACK_EDIT = 101, 102
STACK_NONE = 0  # no permission on the stack: no TeamStackPermission at all
# The generated workflows, by what they do; each identity trusts only the workflows meant to use it.
CHECKS_WORKFLOW = "specs.yml"
DEPLOY_WORKFLOW = "deploy.yml"
ROTATION_WORKFLOW = "rotate-secrets.yml"
# The reader also keeps the rotation reminder issue (the rotation workflow's remind job).
READER_WORKFLOWS = ("drift.yml", "integration-tests.yml", ROTATION_WORKFLOW)
# Failure notifications outside a deploy job run in this GitHub environment (no reviewers), which
# the bootstrap of the org-wide stack creates with the first alert route's webhook as its only secret.
NOTIFICATIONS_ENVIRONMENT = "notifications"


@dataclass(frozen=True)
class Identity:
    """What one kind of job presents (an OIDC subject) and what trusts it (an AWS role, a Pulumi team)."""

    kind: str
    subject: str
    aws_role: str
    aws_role_arn: str
    pulumi_team: str
    writes: bool
    # Writes the rotated ESC environment (the rotator: no stack permission, no AWS role).
    rotates: bool = False

    @property
    def stack_permission(self) -> int:
        if self.rotates:
            return STACK_NONE
        return STACK_EDIT if self.writes else STACK_READ

    @property
    def workflows(self) -> tuple[str, ...]:
        """The generated workflows whose jobs may act as this identity."""
        if self.writes:
            return (DEPLOY_WORKFLOW,)
        return (ROTATION_WORKFLOW,) if self.rotates else READER_WORKFLOWS


@dataclass(frozen=True)
class Gate:
    """The GitHub environment a deploy job runs in, and what it admits."""

    name: str
    branch_pattern: str | None
    tag_pattern: str | None
    reviewers: tuple[str, ...]


@dataclass(frozen=True)
class StackAccess:
    """One environment's stack, how it is deployed, and by whom."""

    env: Environment
    event: str
    stack: str
    esc_environment: str
    gate: Gate
    deploy: Identity
    reader: Identity
    # Where sophia-iac rotates a secret of the environment: the rotate job's identity and GitHub environment.
    rotator: Identity | None
    rotation_gate: Gate | None
    drift_cron: str
    aws_audience: str
    org_wide: bool

    @property
    def identities(self) -> tuple[Identity, ...]:
        return (self.deploy, self.reader) + ((self.rotator,) if self.rotator else ())


def pulumi_audience(organization: str) -> str:
    """The audience Pulumi Cloud requires of an OIDC token exchanged for a token of this organization."""
    return f"urn:pulumi:org:{organization}"


def pull_request_subject(model: Model) -> str:
    return f"repo:{model.project.repository}:pull_request"


def environment_subject(model: Model, environment: str) -> str:
    return f"repo:{model.project.repository}:environment:{environment}"


def branch_subject(model: Model, branch: str) -> str:
    return f"repo:{model.project.repository}:ref:refs/heads/{branch}"


def rotation_environment(env: Environment) -> str:
    """The GitHub environment the rotation workflow's rotate job of ``env`` runs in."""
    return f"{env.name}-rotation"


def stack_name(model: Model, env: Environment) -> str:
    return f"{model.project.organization}/{model.project.pulumi_project}/{env.name}"


def of_role(model: Model, role: str) -> Integration | None:
    """The integration that fills ``role`` (``integrations.base.ROLES``), if any."""
    return next((i for i in model.integrations if role in i.type.roles), None)


def _config(model: Model, role: str, env: Environment) -> dict[str, Any]:
    """The resolved config of the integration filling ``role`` in one environment ({} when there is none)."""
    integration = of_role(model, role)
    if integration is None or not integration.per_env[env.name].enabled:
        return {}
    return dict(integration.per_env[env.name].config)


def _gate(model: Model, env: Environment) -> Gate:
    if env.deploy_on == "push":
        return Gate(env.name, model.project.default_branch, None, env.reviewers)
    if env.deploy_on == "release":
        tags = str(_config(model, REPOSITORY, env).get("releaseTagPattern", DEFAULT_RELEASE_TAGS))
        return Gate(env.name, None, tags, env.reviewers)
    return Gate(env.name, None, None, env.reviewers)  # a pull request's ref cannot be restricted


def _rotator(model: Model, env: Environment) -> tuple[Identity | None, Gate | None]:
    """The rotator identity and its GitHub environment, where sophia-iac rotates a secret of ``env``."""
    if not rotated_paths(model, env).workflow:
        return None, None
    gate = Gate(rotation_environment(env), model.project.default_branch, None, ())
    project = model.project.pulumi_project
    rotator = Identity(
        "rotator",
        environment_subject(model, gate.name),
        "",
        "",
        f"{project}-{env.name}-rotator",
        writes=False,
        rotates=True,
    )
    return rotator, gate


def _identities(model: Model, env: Environment) -> tuple[Identity, Identity]:
    project = model.project.pulumi_project
    role = _config(model, CLOUD, env).get("deployRole") or {}
    deploy_role = str(role.get("name", f"{project}-deploy"))
    reader_role = f"{project}-drift"
    arn = f"arn:aws:iam::{env.account}:role/"
    deploy = Identity(
        "deploy",
        environment_subject(model, env.name),
        deploy_role,
        arn + deploy_role,
        f"{project}-{env.name}-deploy",
        writes=True,
    )
    reader = Identity(
        "reader",
        branch_subject(model, model.project.default_branch),
        reader_role,
        arn + reader_role,
        f"{project}-{env.name}-reader",
        writes=False,
    )
    return deploy, reader


def org_wide_environment(model: Model) -> Environment:
    """The environment whose stacks own what the whole repository or organization shares.

    Branch protection, the notifications environment and the Pulumi Cloud OIDC issuer each exist
    once; the first production-tier environment (else the last by tier) manages them.
    """
    production = [e for e in model.environments if e.tier == "production"]
    return production[0] if production else model.environments[-1]


def stacks(model: Model) -> list[StackAccess]:
    """Every environment's stack access, in tier order."""
    owner = org_wide_environment(model)
    out = []
    for env in model.environments:
        deploy, reader = _identities(model, env)
        rotator, rotation_gate = _rotator(model, env)
        out.append(
            StackAccess(
                env,
                TRIGGERS[env.deploy_on],
                stack_name(model, env),
                f"{model.project.organization}/{env.esc_environment}",
                _gate(model, env),
                deploy,
                reader,
                rotator,
                rotation_gate,
                str(_config(model, STACKS, env).get("driftSchedule", DEFAULT_DRIFT_CRON)),
                str((_config(model, CLOUD, env).get("oidc") or {}).get("audience", AWS_AUDIENCE)),
                env is owner,
            )
        )
    return out


def required_checks(model: Model) -> tuple[str, ...]:
    """The status checks branch protection requires (set by the org-wide stack's repository integration config)."""
    protection = _config(model, REPOSITORY, org_wide_environment(model)).get("branchProtection") or {}
    return tuple(protection.get("requiredStatusChecks", ()))


def notifications_route(model: Model) -> str | None:
    """The alert route whose webhook the notifications environment holds: the Project's first."""
    return model.project.alert_routes[0].name if model.project.alert_routes else None


def alert_routes_read(model: Model, env: Environment, project: str) -> list[str]:
    """The alert routes whose webhook URL ``project``'s program reads in ``env`` (the bootstrap's only).

    The repository integration's module stores the environment's route as its GitHub environment's
    secret (and, in the org-wide stack, the first route as the notifications environment's); the
    stacks integration's module posts its webhooks to the route its config names.
    """
    if project != "bootstrap":
        return []
    routes: set[str] = set()
    if _config(model, REPOSITORY, env):
        routes.update([env.alert_route] if env.alert_route else [])
        if env is org_wide_environment(model) and notifications_route(model):
            routes.add(str(notifications_route(model)))
    webhook = _config(model, STACKS, env).get("webhook") or {}
    routes.update([webhook["alertRoute"]] if webhook else [])
    return sorted(routes)


def _identity_settings(identity: Identity) -> dict[str, Any]:
    return {
        "subject": identity.subject,
        "awsRole": identity.aws_role,
        "pulumiTeam": identity.pulumi_team,
        "writes": identity.writes,
        "rotates": identity.rotates,
        "stackPermission": identity.stack_permission,
    }


def _gate_settings(gate: Gate) -> dict[str, Any]:
    out: dict[str, Any] = {"name": gate.name, "reviewers": list(gate.reviewers), "canAdminsBypass": False}
    if gate.branch_pattern:
        out["branchPattern"] = gate.branch_pattern
    if gate.tag_pattern:
        out["tagPattern"] = gate.tag_pattern
    return out


def workflow_ref(model: Model, workflow: str, ref: str = "*") -> str:
    """The ``job_workflow_ref`` claim of a job of one generated workflow, at ``ref`` (any ref: ``*``)."""
    return f"{model.project.repository}/{model.project.workflows_dir}/{workflow}@{ref}"


def _trusted_ref(model: Model, identity: Identity) -> str:
    """The ref the issuer trusts ``identity``'s workflows at: the reader's and the rotator's at the default
    branch only (the deploy identity's at whatever ref its GitHub environment admits: a branch or tags)."""
    return "*" if identity.writes else f"refs/heads/{model.project.default_branch}"


def issuer_policies(model: Model) -> list[dict[str, Any]]:
    """One allow policy per identity and workflow: that subject, from that workflow, may have a token of its
    team, and nothing else. (Pulumi reads ``*``, ``?`` and ``.`` in rule values as wildcards; the subjects
    and workflow paths here hold no ``*`` or ``?``, and a ``.`` matches itself among others.)"""
    audience = pulumi_audience(model.project.organization)
    return [
        {
            "team": identity.pulumi_team,
            "rules": {
                "aud": audience,
                "job_workflow_ref": workflow_ref(model, workflow, _trusted_ref(model, identity)),
                "sub": identity.subject,
            },
        }
        for stack in stacks(model)
        for identity in stack.identities
        for workflow in identity.workflows
    ]


def release_tags(model: Model) -> list[dict[str, Any]]:
    """Tag patterns that deploy an environment, and who alone may create, move or delete such a tag.

    A release tag is what production's GitHub environment admits, so whoever can push one can start
    a production deploy (its reviewers must still approve); only those reviewers may make one.
    """
    out: dict[str, set[str]] = {}
    for stack in stacks(model):
        if stack.gate.tag_pattern:
            out.setdefault(stack.gate.tag_pattern, set()).update(stack.gate.reviewers)
    return [{"pattern": pattern, "managers": sorted(managers)} for pattern, managers in sorted(out.items())]


def bootstrap_settings(model: Model, env: Environment) -> dict[str, Any]:
    """What one bootstrap stack creates for the pipeline, as stack config (``<namespace>:access``)."""
    stack = next(s for s in stacks(model) if s.env is env)
    out: dict[str, Any] = {
        "stack": {
            "organization": model.project.organization,
            "project": model.project.pulumi_project,
            "name": env.name,
        },
        "githubEnvironment": _gate_settings(stack.gate),
        "identities": {i.kind: _identity_settings(i) for i in stack.identities},
        "awsAudience": stack.aws_audience,
        "orgWide": stack.org_wide,
    }
    if stack.rotation_gate:
        out["rotationEnvironment"] = _gate_settings(stack.rotation_gate)
    if stack.org_wide:
        out["notificationsEnvironment"] = {
            "name": NOTIFICATIONS_ENVIRONMENT,
            "branchPattern": model.project.default_branch,
            "alertRoute": notifications_route(model),
        }
        out["releaseTags"] = release_tags(model)
        out["oidcIssuer"] = {
            "name": f"{model.project.pulumi_project}-github-actions",
            "url": GITHUB_OIDC_URL,
            "policies": issuer_policies(model),
        }
    return out
