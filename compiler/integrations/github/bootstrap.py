"""GitHub (bootstrap): this environment's GitHub environment,
which admits only the refs that deploy it, the secret its deploy workflow reads, the GitHub environment
of its secret rotation (where sophia-iac rotates one), and (in the org-wide stack) branch protection
of the default branch and the notifications environment.

What each environment admits comes from stack config (``access``, derived by the compiler
in one place and checked against the workflows at compile time)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_github as github

from .. import runtime


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    # The repository is the Project's; every environment's stack manages only its own GitHub environment.
    owner, repository = str(stack.project["repository"]).split("/", 1)
    provider = github.Provider(
        f"{component.name}.provider", owner=owner, **_credentials(component), opts=component.child()
    )
    gate = stack.access["githubEnvironment"]
    environment = _environment(gate, _reviewers(stack, config), repository, provider, component)

    # The workflows authenticate to Pulumi Cloud and AWS with GitHub OIDC, so no
    # Pulumi or AWS credential is stored here; the only secret is the Slack webhook.
    secret_names = []
    if stack.alert_route:
        _slack_secret(
            stack,
            f"{component.name}.secret.SLACK_WEBHOOK_URL",
            stack.alert_route,
            environment,
            repository,
            provider,
            component,
        )
        secret_names.append("SLACK_WEBHOOK_URL")

    notifications = stack.access.get("notificationsEnvironment")
    if notifications and notifications.get("alertRoute"):
        shared = _environment(notifications, {}, repository, provider, component, suffix=f".{notifications['name']}")
        _slack_secret(
            stack,
            f"{component.name}.secret.{notifications['name']}.SLACK_WEBHOOK_URL",
            notifications["alertRoute"],
            shared,
            repository,
            provider,
            component,
        )

    # Where sophia-iac rotates a secret of this environment: the GitHub environment its rotate job runs in.
    # It admits only the default branch, so only that branch's code can present its OIDC subject (which
    # the rotator team trusts); it holds no secret, and has no reviewers (the job runs on a schedule).
    rotation = stack.access.get("rotationEnvironment")
    if rotation:
        _environment(rotation, {}, repository, provider, component, suffix=f".{rotation['name']}")

    for i, tags in enumerate(stack.access.get("releaseTags", [])):
        _release_tags(f"{component.name}.releaseTags.{i}", tags, config, repository, provider, component)

    protection = config.get("branchProtection")
    # Branch protection belongs to the repository every environment shares: only
    # the org-wide stack (the production-tier environment's) manages it.
    protected = bool(stack.access.get("orgWide")) and protection is not None
    if protected and protection is not None:
        _branch_protection(stack, repository, protection, provider, component)

    return component.done(
        {
            "repository": f"{owner}/{repository}",
            "environment": stack.environment,
            "secrets": secret_names,
            "deploymentPolicy": {k: v for k, v in gate.items() if k in ("branchPattern", "tagPattern")},
            "branchProtection": stack.project["defaultBranch"] if protected else None,
        }
    )


def _environment(
    gate: dict[str, Any],
    reviewers: dict[str, list[int]],
    repository: str,
    provider: github.Provider,
    component: runtime.Component,
    suffix: str = "",
) -> github.RepositoryEnvironment:
    """A GitHub environment that admits only its branch or tag pattern, and whose reviewers no admin bypasses."""
    restricted = "branchPattern" in gate or "tagPattern" in gate
    environment = github.RepositoryEnvironment(
        f"{component.name}.environment{suffix}",
        repository=repository,
        environment=gate["name"],
        can_admins_bypass=bool(gate.get("canAdminsBypass", False)),
        prevent_self_review=True if reviewers else None,
        reviewers=[github.RepositoryEnvironmentReviewerArgs(**reviewers)] if reviewers else None,
        deployment_branch_policy={"protected_branches": False, "custom_branch_policies": True} if restricted else None,
        # Deleting a GitHub environment deletes its secrets and deployment history.
        opts=component.child(provider=provider, stateful=True),
    )
    for key, argument in (("branchPattern", "branch_pattern"), ("tagPattern", "tag_pattern")):
        if key in gate:
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{component.name}.deploymentPolicy{suffix}",
                repository=repository,
                environment=environment.environment,
                **{argument: gate[key]},
                opts=component.child(provider=provider),
            )
    return environment


# GitHub's id of the repository admin role, as a ruleset bypass actor.
REPOSITORY_ADMIN_ROLE = 5


def _release_tags(
    name: str,
    tags: dict[str, Any],
    config: dict[str, Any],
    repository: str,
    provider: github.Provider,
    component: runtime.Component,
) -> None:
    """Only the release managers (the deploy reviewers; repository admins where there are none) may create,
    move or delete a tag that deploys: anyone else's would present the environment's OIDC subject."""
    known: dict[str, int] = config.get("reviewerIds") or {}
    actors: list[github.RepositoryRulesetBypassActorArgsDict] = [
        {"actor_type": "Team" if "/" in manager else "User", "actor_id": int(known[manager]), "bypass_mode": "always"}
        for manager in tags["managers"]
    ] or [{"actor_type": "RepositoryRole", "actor_id": REPOSITORY_ADMIN_ROLE, "bypass_mode": "always"}]
    github.RepositoryRuleset(
        name,
        name=f"release tags {tags['pattern']}",
        repository=repository,
        target="tag",
        enforcement="active",
        conditions={"ref_name": {"includes": [f"refs/tags/{tags['pattern']}"], "excludes": []}},
        rules={"creation": True, "update": True, "deletion": True},
        bypass_actors=actors,
        opts=component.child(provider=provider, stateful=True),
    )


def _slack_secret(
    stack: runtime.Stack,
    name: str,
    route: str,
    environment: github.RepositoryEnvironment,
    repository: str,
    provider: github.Provider,
    component: runtime.Component,
) -> None:
    github.ActionsEnvironmentSecret(
        name,
        repository=repository,
        environment=environment.environment,
        secret_name="SLACK_WEBHOOK_URL",
        value=stack.alert_webhook(route),
        opts=component.child(provider=provider),
    )


def _credentials(component: runtime.Component) -> dict[str, Any]:
    """GitHub App credentials (or a token) from ESC, never from this repository."""
    app = component.config.get("app")
    if app:
        return {
            "app_auth": github.ProviderAppAuthArgs(
                id=str(app["appId"]),
                installation_id=str(app["installationId"]),
                pem_file=component.secrets[app["privateKeySecret"]],
            )
        }
    return {"token": component.secrets[component.config["tokenSecret"]]}


def _reviewers(stack: runtime.Stack, config: dict[str, Any]) -> dict[str, list[int]]:
    """The environment's deploy reviewers as the numeric ids GitHub's environment API takes.

    Ids come from the spec (config.reviewerIds), not from a lookup when the stack
    runs: a lookup would need the App to read organization members, and would make
    a preview depend on the GitHub API. Compile refuses a reviewer without an id.
    """
    known: dict[str, int] = config.get("reviewerIds") or {}
    found: dict[str, list[int]] = {"teams": [], "users": []}
    for reviewer in stack.access["githubEnvironment"].get("reviewers", []):
        found["teams" if "/" in reviewer else "users"].append(int(known[reviewer]))
    return {kind: ids for kind, ids in found.items() if ids}


def _branch_protection(
    stack: runtime.Stack,
    repository: str,
    protection: dict[str, Any],
    provider: github.Provider,
    component: runtime.Component,
) -> github.BranchProtection:
    checks = list(protection.get("requiredStatusChecks", []))
    return github.BranchProtection(
        f"{component.name}.branchProtection",
        repository_id=repository,
        pattern=stack.project["defaultBranch"],
        enforce_admins=bool(protection.get("enforceAdmins", True)),
        allows_deletions=False,
        allows_force_pushes=False,
        required_pull_request_reviews=[
            {
                "required_approving_review_count": int(protection.get("requiredApprovals", 1)),
                "require_code_owner_reviews": bool(protection.get("requireCodeOwnerReviews", False)),
                "dismiss_stale_reviews": bool(protection.get("dismissStaleReviews", True)),
            }
        ],
        # Strict: the checks must have passed on the branch as it would merge, not on a stale base.
        required_status_checks=[{"contexts": checks, "strict": True}] if checks else None,
        opts=component.child(provider=provider, stateful=True),
    )
