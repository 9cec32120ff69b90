"""Pulumi ESC (bootstrap): this environment's infrastructure stack,
its ESC environment, the Pulumi Cloud teams the workflows act as, team permissions, webhooks posting
events to Slack and, in the org-wide stack, the OIDC issuer that trusts GitHub Actions.

Who may act comes from stack config (``access``, derived by the compiler in one place and checked
against the workflows at compile time): the deploy team may update the stack and open its ESC
environments, the reader team may only read the stack and open them, and the rotator team (where
sophia-iac rotates a secret) may open them and write the rotated one, with no stack permission. Each
team is reachable only through the OIDC issuer's policy for its own subject; no workflow gets an
organization token."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_pulumiservice as pulumiservice

from .. import runtime

# Webhook filters about ESC environments; every other filter is about the stack.
ENVIRONMENT_EVENTS = ("environment_", "imported_environment_")
ROTATION_EVENTS = ("environment_rotation_succeeded", "environment_rotation_failed")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    provider = pulumiservice.Provider(
        f"{component.name}.provider",
        access_token=component.secrets[config["accessTokenSecret"]],
        opts=component.child(),
    )
    organization = str(stack.project["organization"])
    esc_project, esc_name = str(stack.esc["environment"]).split("/", 1)
    secrets_project, secrets_name = str(stack.esc["secretsEnvironment"]).split("/", 1)

    # The infrastructure stack the workflows deploy: created here, before anything targets it.
    # Deleting it would delete its state, so it is protected where the spec protects stateful resources.
    target = stack.access["stack"]
    infrastructure = pulumiservice.Stack(
        f"{component.name}.stack",
        organization_name=target["organization"],
        project_name=target["project"],
        stack_name=target["name"],
        opts=component.child(provider=provider, stateful=True),
    )

    created = _created_environments(stack, organization, provider, component)
    # The ESC environment the infrastructure stack opens; it holds references, never values (ESC checks
    # them when it is saved: the environments it references are made first).
    environment = pulumiservice.Environment(
        f"{component.name}.environment",
        organization=organization,
        project=esc_project,
        name=esc_name,
        # The generated definition (generated/esc/<environment>.yaml), carried by this stack's config.
        yaml=pulumi.StringAsset(stack.config.require("escDefinition")),
        opts=component.child(provider=provider, stateful=True, depends_on=list(created.values())),
    )
    # This environment's ESC environments: the generated one above, the secrets-only one it references
    # (managed outside this repository) and, where sophia-iac rotates a secret, the rotated one.
    targets: dict[str, tuple[Any, Any]] = {
        "": (esc_project, environment.name),
        ".secrets": (secrets_project, secrets_name),
    }
    targets.update({suffix: (made.project, made.name) for suffix, made in created.items()})

    access = Access(organization, targets, provider, component)
    for team in config.get("teams", []):
        duration = _go_duration(team.get("maxOpenDuration"))
        access.environments(f"permission.{team['name']}", team["name"], team["permission"], duration)
    teams = _pipeline_teams(stack, infrastructure, access)

    issuer = _oidc_issuer(stack, organization, teams, provider, component)
    webhooks = _webhooks(stack, config, organization, environment, created, infrastructure, provider, component)
    return component.done(
        {
            "escEnvironment": f"{organization}/{stack.esc['environment']}",
            "stack": f"{target['organization']}/{target['project']}/{target['name']}",
            "teams": sorted(teams),
            "oidcIssuer": issuer,
            "webhooks": webhooks,
        }
    )


class Access:
    """Grants on this environment's two ESC environments, through this module's provider."""

    def __init__(
        self,
        organization: str,
        targets: dict[str, tuple[Any, Any]],
        provider: pulumiservice.Provider,
        component: runtime.Component,
    ) -> None:
        self.organization, self.targets, self.provider, self.component = organization, targets, provider, component

    def environments(
        self,
        label: str,
        team: Any,
        permission: str,
        max_open: str | None = None,
        instead: dict[str, str] | None = None,
    ) -> None:
        """One team's permission on each of the environment's ESC environments; ``instead`` grants another
        on some of them (by suffix: ``.rotated``)."""
        for suffix, (project, environment) in self.targets.items():
            if (instead or {}).get(suffix) == "none":
                continue
            pulumiservice.TeamEnvironmentPermission(
                f"{self.component.name}.{label}{suffix}",
                organization=self.organization,
                project=project,
                environment=environment,
                team=team,
                permission=pulumiservice.EnvironmentPermission((instead or {}).get(suffix, permission)),
                max_open_duration=max_open,
                opts=self.component.child(provider=self.provider),
            )


def _pipeline_teams(
    stack: runtime.Stack, infrastructure: pulumiservice.Stack, access: Access
) -> dict[str, pulumiservice.Team]:
    """One machine team per identity (deploy, reader, rotator): no members, reachable only through OIDC."""
    made = {}
    for kind, identity in sorted(stack.access["identities"].items()):
        name = identity["pulumiTeam"]
        team = pulumiservice.Team(
            f"{access.component.name}.team.{kind}",
            organization_name=access.organization,
            name=name,
            team_type="pulumi",
            display_name=name,
            description=f"GitHub Actions {kind} jobs of {stack.environment} ({identity['subject']})",
            members=[],
            # Losing a team locks its workflows out until the next bootstrap.
            opts=access.component.child(provider=access.provider, stateful=True),
        )
        if identity["stackPermission"]:  # the rotator has none
            pulumiservice.TeamStackPermission(
                f"{access.component.name}.team.{kind}.stack",
                organization=access.organization,
                project=infrastructure.project_name,
                stack=infrastructure.stack_name,
                team=team.name,
                permission=identity["stackPermission"],
                opts=access.component.child(provider=access.provider),
            )
        # Open, never write: deploys and reads need the values (opening the generated environment resolves
        # its references into the others), nothing may change the definitions; the rotator alone writes,
        # and only the rotated environment (the values it rotates, their records).
        writes = {".rotated": "write"} if identity.get("rotates") else {}
        access.environments(f"team.{kind}.esc", team.name, "open", instead=writes)
        made[name] = team
    return made


def _created_environments(
    stack: runtime.Stack, organization: str, provider: pulumiservice.Provider, component: runtime.Component
) -> dict[str, pulumiservice.Environment]:
    """The ESC environments created from their generated definitions and never updated from them, by target
    suffix: the rotated one (generated/esc/<environment>-rotated.yaml), where the rotation workflow writes
    the values it rotates and their records, and the rotators one (<environment>-rotators.yaml), whose
    rotators' state ESC writes, with its rotation schedule. An update from the definition would wipe
    rotated credentials; each holds the only copy of some, so it is protected where the spec protects
    stateful resources."""
    made = {}
    for suffix, setting, definition in (
        (".rotated", "rotatedEnvironment", "escRotatedDefinition"),
        (".rotators", "rotatorsEnvironment", "escRotatorsDefinition"),
    ):
        name = stack.esc.get(setting)
        if not name:
            continue
        project, environment = str(name).split("/", 1)
        made[suffix] = pulumiservice.Environment(
            f"{component.name}{suffix}",
            organization=organization,
            project=project,
            name=environment,
            yaml=pulumi.StringAsset(stack.config.require(definition)),
            opts=pulumi.ResourceOptions.merge(
                component.child(provider=provider, stateful=True), pulumi.ResourceOptions(ignore_changes=["yaml"])
            ),
        )
    rotators = made.get(".rotators")
    if rotators is not None:
        # ESC runs the rotators declared there (the Snowflake service user's key pair) on this schedule,
        # derived by the compiler from their policies' interval and schedule.
        pulumiservice.EnvironmentRotationSchedule(
            f"{component.name}.rotators.schedule",
            organization=organization,
            project=rotators.project,
            environment=rotators.name,
            schedule_cron=str(stack.esc["rotationSchedule"]),
            opts=component.child(provider=provider),
        )
    return made


def _oidc_issuer(
    stack: runtime.Stack,
    organization: str,
    teams: dict[str, pulumiservice.Team],
    provider: pulumiservice.Provider,
    component: runtime.Component,
) -> str | None:
    """GitHub Actions as an OIDC issuer of the organization (org-wide stack only).

    Each policy lets exactly one subject have a token of exactly one team; every other
    token request is refused. The teams of other environments are created by their own
    bootstrap stacks, which are applied before this one (README: first-time set-up).
    """
    issuer = stack.access.get("oidcIssuer")
    if not issuer:
        return None
    pulumiservice.OidcIssuer(
        f"{component.name}.oidcIssuer",
        organization=organization,
        name=issuer["name"],
        url=issuer["url"],
        max_expiration_seconds=3600,
        policies=[
            pulumiservice.AuthPolicyDefinitionArgs(
                decision=pulumiservice.AuthPolicyDecision.ALLOW,
                token_type=pulumiservice.AuthPolicyTokenType.TEAM,
                team_name=policy["team"],
                rules=policy["rules"],
            )
            for policy in issuer["policies"]
        ],
        # Losing the issuer locks every workflow of every environment out.
        opts=component.child(provider=provider, stateful=True, depends_on=list(teams.values())),
    )
    return str(issuer["name"])


def _webhooks(
    stack: runtime.Stack,
    config: dict[str, Any],
    organization: str,
    environment: pulumiservice.Environment,
    created: dict[str, pulumiservice.Environment],
    infrastructure: pulumiservice.Stack,
    provider: pulumiservice.Provider,
    component: runtime.Component,
) -> dict[str, list[str]]:
    """A Slack-format webhook on the ESC environment, one on each it created once (the rotated one, which the
    rotation workflow writes, and the rotators one, which ESC writes: a change nobody planned is seen), and
    one on the stack, each with its own filters."""
    webhook = config.get("webhook")
    if not webhook:
        return {}
    route = webhook["alertRoute"]
    payload_url = stack.alert_webhook(route)
    events = list(webhook["events"])
    # Scope -> (its events, the keyword arguments naming what it watches, what to call it).
    scopes: dict[str, tuple[list[str], dict[str, Any], str]] = {
        "environment": (
            [e for e in events if e.startswith(ENVIRONMENT_EVENTS)],
            {"project_name": environment.project, "environment_name": environment.name},
            f"{stack.esc['environment']} ESC environment",
        ),
        **{
            f"environment{suffix}": (
                [e for e in events if e.startswith(ENVIRONMENT_EVENTS)]
                # ESC's own rotations, succeeded (a copy of the credential elsewhere needs a deploy) or failed.
                + [e for e in ROTATION_EVENTS if suffix == ".rotators" and e not in events],
                {"project_name": made.project, "environment_name": made.name},
                f"{stack.esc[setting]} ESC environment",
            )
            for suffix, made, setting in (
                (s, created[s], k)
                for s, k in ((".rotated", "rotatedEnvironment"), (".rotators", "rotatorsEnvironment"))
                if s in created
            )
        },
        "stack": (
            [e for e in events if not e.startswith(ENVIRONMENT_EVENTS)],
            {"project_name": infrastructure.project_name, "stack_name": infrastructure.stack_name},
            f"{stack.project['name']}/{stack.environment} stack",
        ),
    }
    made = {}
    for scope, (filters, target, what) in scopes.items():
        if not filters:
            continue
        pulumiservice.Webhook(
            f"{component.name}.webhook.{scope}",
            organization_name=organization,
            display_name=f"{what} events to the {route} alert route",
            format=webhook.get("format", "slack"),
            payload_url=payload_url,
            filters=[pulumiservice.WebhookFilters(f) for f in filters],
            active=True,
            **target,
            opts=component.child(provider=provider),
        )
        made[scope] = filters
    return made


def _go_duration(text: str | None) -> str | None:
    """A spec duration (1h, 2d) as Go's time.Duration prints it (1h0m0s, 48h0m0s): the form the provider
    reads back, so a refresh shows no difference (any other spelling would replace the permission)."""
    if not text:
        return None
    hours, rest = divmod(int(text[:-1]) * SECONDS[text[-1]], 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"
