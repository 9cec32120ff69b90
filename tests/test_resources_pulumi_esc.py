"""The pulumi-esc bootstrap module, run by the real Pulumi SDK under mocks for every stack of the bootstrap project."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi_pulumiservice as pulumiservice
import pytest
import yaml

from compiler.harness import StackRun
from compiler.model import thaw
from compiler.names import alert_webhook_key
from tests.conftest import ROOT, platform_generated, platform_model

MODEL = platform_model()
assert MODEL is not None
ENVIRONMENTS = [e.name for e in MODEL.environments]
ENV = {e.name: e for e in MODEL.environments}
INTEGRATION = next(i for i in MODEL.integrations if i.type.name == "pulumi-esc")
NAME = INTEGRATION.name
ORG = MODEL.project.organization
SDK_FILTERS = [f.value for f in pulumiservice.WebhookFilters]


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/bootstrap run once per stack."""
    return {env: stack_run(env, "bootstrap") for env in ENVIRONMENTS}


def config(env: str) -> dict[str, Any]:
    return thaw(INTEGRATION.per_env[env].config)


def protected(env: str) -> bool:
    override = INTEGRATION.per_env[env].protect
    return ENV[env].protect if override is None else override


def component(run: StackRun) -> dict[str, Any]:
    return run.component("sophia:bootstrap:PulumiEsc")


def of_type(run: StackRun, kind: str) -> list[dict[str, Any]]:
    return run.of_type(f"pulumiservice:index:{kind}")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_is_a_child_of_the_component_through_one_provider(runs: dict[str, StackRun], env: str) -> None:
    run = runs[env]
    owner = component(run)
    assert owner["name"] == NAME
    assert owner["parent"].endswith(f"pulumi:pulumi:Stack::sophia-ai-bootstrap-{env}")
    ours = [r for r in run.resources if r["name"].startswith(f"{NAME}.")]
    assert ours == [r for r in run.resources if r["parent"] == owner["urn"]]
    (provider,) = [r for r in ours if r["type"] == "pulumi:providers:pulumiservice"]
    assert provider["name"] == f"{NAME}.provider"
    for resource in ours:
        if resource is not provider:
            assert resource["type"].startswith("pulumiservice:index:"), resource["type"]
            assert resource["provider"].startswith(provider["urn"] + "::"), resource["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_token_is_the_secret_from_esc(runs: dict[str, StackRun], env: str) -> None:
    (provider,) = runs[env].of_type("pulumi:providers:pulumiservice")
    assert config(env)["accessTokenSecret"] == "access-token"
    assert provider["inputs"]["accessToken"] == {"__secret__": "mock-secret-for-pulumiEscAccessToken"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_esc_environment_is_the_generated_definition(runs: dict[str, StackRun], env: str) -> None:
    environment = next(e for e in of_type(runs[env], "Environment") if e["name"] == f"{NAME}.environment")
    project, name = ENV[env].esc_environment.split("/", 1)
    inputs = environment["inputs"]
    assert environment["name"] == f"{NAME}.environment"
    assert (inputs["organization"], inputs["project"], inputs["name"]) == (ORG, project, name)
    assert inputs["yaml"]["text"] == (platform_generated() / "esc" / f"{env}.yaml").read_text(encoding="utf-8")
    # Stateful: protected and retained where the environment protects its resources.
    assert environment["protect"] is environment["retainOnDelete"] is protected(env)
    assert protected("production")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_rotated_environment_is_created_from_its_definition_and_then_left_to_the_rotator(
    runs: dict[str, StackRun], env: str
) -> None:
    (rotated,) = [e for e in of_type(runs[env], "Environment") if e["name"] == f"{NAME}.rotated"]
    project, name = ENV[env].esc_rotated.split("/", 1)
    inputs = rotated["inputs"]
    assert (inputs["organization"], inputs["project"], inputs["name"]) == (ORG, project, name)
    text = (platform_generated() / "esc" / f"{env}-rotated.yaml").read_text(encoding="utf-8")
    assert inputs["yaml"]["text"] == text
    assert yaml.safe_load(text) == {"imports": [ENV[env].esc_secrets], "values": {}}
    # The rotation workflow writes it: an update from the definition would wipe the rotated credentials.
    assert rotated["ignoreChanges"] == ["yaml"]
    assert rotated["protect"] is rotated["retainOnDelete"] is protected(env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_esc_rotators_are_created_once_and_rotated_on_the_schedule_the_policy_allows(
    runs: dict[str, StackRun], env: str
) -> None:
    (rotators,) = [e for e in of_type(runs[env], "Environment") if e["name"] == f"{NAME}.rotators"]
    project, name = ENV[env].esc_rotators.split("/", 1)
    inputs = rotators["inputs"]
    assert (inputs["organization"], inputs["project"], inputs["name"]) == (ORG, project, name)
    text = (platform_generated() / "esc" / f"{env}-rotators.yaml").read_text(encoding="utf-8")
    assert inputs["yaml"]["text"] == text
    declared = yaml.safe_load(text)["values"]["sophiaIacRotators"]["snowflake"]["privateKey"]
    assert set(declared) == {"fn::rotate::snowflake-user"}
    # ESC writes each rotator's state into the definition: an update from it would wipe the key pair.
    assert rotators["ignoreChanges"] == ["yaml"]
    assert rotators["protect"] is rotators["retainOnDelete"] is protected(env)
    (schedule,) = of_type(runs[env], "EnvironmentRotationSchedule")
    assert schedule["inputs"] == {
        "organization": ORG,
        "project": project,
        "environment": name,
        "scheduleCron": "0 6 1 * *",  # 90 days, Mondays at 06:00: monthly (a key is valid two runs), at 06:00
    }
    assert rotators["urn"] in schedule["dependencies"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_team_permissions_on_both_esc_environments(runs: dict[str, StackRun], env: str) -> None:
    environment = of_type(runs[env], "Environment")[0]
    config_env = ENV[env].esc_environment.split("/", 1)
    secrets_env = ENV[env].esc_secrets.split("/", 1)
    expected = {}
    for team in config(env)["teams"]:
        go = {"8h": "8h0m0s", "1h": "1h0m0s"}  # as the provider reads it back, so a refresh sees no change
        duration = {"maxOpenDuration": go[team["maxOpenDuration"]]} if "maxOpenDuration" in team else {}
        rotated_env = ENV[env].esc_rotated.split("/", 1)
        rotators_env = ENV[env].esc_rotators.split("/", 1)
        targets = (("", config_env), (".secrets", secrets_env), (".rotated", rotated_env), (".rotators", rotators_env))
        for suffix, (project, name) in targets:
            expected[f"{NAME}.permission.{team['name']}{suffix}"] = {
                "organization": ORG,
                "project": project,
                "environment": name,
                "team": team["name"],
                "permission": team["permission"],
                **duration,
            }
    permissions = [p for p in of_type(runs[env], "TeamEnvironmentPermission") if ".permission." in p["name"]]
    assert {p["name"]: p["inputs"] for p in permissions} == expected
    on_generated = [p for p in permissions if not p["name"].endswith((".secrets", ".rotated", ".rotators"))]
    assert all(environment["urn"] in p["dependencies"] for p in on_generated)


def test_team_permissions_follow_the_production_override(runs: dict[str, StackRun]) -> None:
    def levels(env: str) -> dict[str, tuple[str, str | None]]:
        found = [p for p in of_type(runs[env], "TeamEnvironmentPermission") if ".permission." in p["name"]]
        return {
            p["inputs"]["team"]: (p["inputs"]["permission"], p["inputs"].get("maxOpenDuration"))
            for p in found
            if not p["name"].endswith((".secrets", ".rotated", ".rotators"))
        }

    assert levels("production") == {"platform": ("admin", "1h0m0s"), "developers": ("read", None)}
    assert levels("development") == {"platform": ("admin", None), "developers": ("open", "8h0m0s")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_infrastructure_stack_is_created_here_and_protected(runs: dict[str, StackRun], env: str) -> None:
    (stack,) = of_type(runs[env], "Stack")
    assert stack["name"] == f"{NAME}.stack"
    assert stack["inputs"] == {"organizationName": ORG, "projectName": MODEL.project.pulumi_project, "stackName": env}
    # Deleting the stack deletes its state.
    assert stack["protect"] is stack["retainOnDelete"] is protected(env)
    # Drift is detected by drift.yml, so Pulumi Deployments needs no settings or identity of its own.
    assert of_type(runs[env], "DriftSchedule") == [] and of_type(runs[env], "DeploymentSettings") == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_machine_team_per_identity_with_least_privilege(runs: dict[str, StackRun], env: str) -> None:
    run = runs[env]
    (stack,) = of_type(run, "Stack")
    teams = {t["inputs"]["name"]: t for t in of_type(run, "Team")}
    rotator = f"sophia-ai-{env}-rotator"
    assert set(teams) == {f"sophia-ai-{env}-deploy", f"sophia-ai-{env}-reader", rotator}
    assert all(t["inputs"]["teamType"] == "pulumi" and t["inputs"]["members"] == [] for t in teams.values())
    stack_permissions = {p["inputs"]["team"]: p for p in of_type(run, "TeamStackPermission")}
    assert {t: p["inputs"]["permission"] for t, p in stack_permissions.items()} == {
        f"sophia-ai-{env}-deploy": 102,  # edit: pulumi up
        f"sophia-ai-{env}-reader": 101,  # read: previews only
    }  # the rotator: no stack permission at all
    for permission in stack_permissions.values():
        # The stack exists before anything targets it.
        assert stack["urn"] in permission["dependencies"]
        assert (permission["inputs"]["project"], permission["inputs"]["stack"]) == ("sophia-ai", env)
    esc = [p["inputs"] for p in of_type(run, "TeamEnvironmentPermission") if ".team." in p["name"]]
    environments = {(p["team"], p["project"], p["environment"], p["permission"]) for p in esc}
    # Every team opens the ESC environments (opening the generated one resolves its references into the
    # others); only the rotator writes, and only the rotated one (the rotators' state is ESC's).
    e = ENV[env]
    assert environments == {
        (team, *where.split("/", 1), "write" if (team, where) == (rotator, e.esc_rotated) else "open")
        for team in teams
        for where in (e.esc_environment, e.esc_secrets, e.esc_rotated, e.esc_rotators)
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_org_wide_stack_registers_the_oidc_issuer(runs: dict[str, StackRun], env: str) -> None:
    issuers = of_type(runs[env], "OidcIssuer")
    if ENV[env].tier != "production":
        assert issuers == []
        return
    (issuer,) = issuers
    inputs = issuer["inputs"]
    assert inputs["url"] == "https://token.actions.githubusercontent.com"
    assert inputs["maxExpirationSeconds"] == 3600
    repo = MODEL.project.repository
    workflows = f"{repo}/.github/workflows"
    expected = []
    for e in ENVIRONMENTS:
        expected.append((f"sophia-ai-{e}-deploy", f"repo:{repo}:environment:{e}", f"{workflows}/deploy.yml@*"))
        for reader in ("drift.yml", "integration-tests.yml", "rotate-secrets.yml"):
            at = f"{workflows}/{reader}@refs/heads/main"  # the default branch's code only
            expected.append((f"sophia-ai-{e}-reader", f"repo:{repo}:ref:refs/heads/main", at))
        # The rotator: its own GitHub environment's subject, from the rotation workflow at main only.
        rotation = f"{workflows}/rotate-secrets.yml@refs/heads/main"
        expected.append((f"sophia-ai-{e}-rotator", f"repo:{repo}:environment:{e}-rotation", rotation))
    policies = inputs["policies"]
    assert [(p["teamName"], p["rules"]["sub"], p["rules"]["job_workflow_ref"]) for p in policies] == expected
    for policy in policies:
        # A team token for exactly one subject from one workflow: never an organization (admin) token.
        assert (policy["decision"], policy["tokenType"]) == ("allow", "team")
        assert set(policy["rules"]) == {"aud", "sub", "job_workflow_ref"}
        assert policy["rules"]["aud"] == f"urn:pulumi:org:{ORG}"
        assert "authorizedPermissions" not in policy
    assert issuer["protect"] is issuer["retainOnDelete"] is True


def is_environment_event(event: str) -> bool:
    return event.startswith(("environment_", "imported_environment_"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_slack_webhooks_on_the_stack_and_the_esc_environment(runs: dict[str, StackRun], env: str) -> None:
    wanted = config(env)["webhook"]
    url = {"__secret__": f"mock-secret-for-{alert_webhook_key(wanted['alertRoute'])}"}
    hooks = {h["name"]: h["inputs"] for h in of_type(runs[env], "Webhook")}
    rotation = {f"{NAME}.webhook.environment.rotated", f"{NAME}.webhook.environment.rotators"}
    assert set(hooks) == {f"{NAME}.webhook.environment", f"{NAME}.webhook.stack"} | rotation
    for inputs in hooks.values():
        assert inputs["format"] == "slack"
        assert inputs["payloadUrl"] == url
        assert inputs["organizationName"] == ORG
        assert inputs["active"] is True
        assert set(inputs["filters"]) <= set(SDK_FILTERS)
    project, name = ENV[env].esc_environment.split("/", 1)
    on_environment = hooks[f"{NAME}.webhook.environment"]
    assert (on_environment["projectName"], on_environment["environmentName"]) == (project, name)
    assert "stackName" not in on_environment
    assert on_environment["filters"] == [e for e in wanted["events"] if is_environment_event(e)]
    # The environments written by rotation are watched the same way: a change nobody planned is seen; and
    # ESC's own rotations are always reported, succeeded (a copy of the key needs a deploy) or failed.
    rotations = ["environment_rotation_succeeded", "environment_rotation_failed"]
    for suffix, where in ((".rotated", ENV[env].esc_rotated), (".rotators", ENV[env].esc_rotators)):
        on_rotation = hooks[f"{NAME}.webhook.environment{suffix}"]
        assert (on_rotation["projectName"], on_rotation["environmentName"]) == tuple(where.split("/", 1))
        extra = [e for e in rotations if e not in on_environment["filters"]] if suffix == ".rotators" else []
        assert on_rotation["filters"] == on_environment["filters"] + extra
    # The generated environment references the rotation ones: ESC checks references on save.
    (generated,) = [e for e in of_type(runs[env], "Environment") if e["name"] == f"{NAME}.environment"]
    created = {e["urn"] for e in of_type(runs[env], "Environment") if e["name"] != f"{NAME}.environment"}
    assert len(created) == 2 and created <= set(generated["dependencies"])
    on_stack = hooks[f"{NAME}.webhook.stack"]
    assert (on_stack["projectName"], on_stack["stackName"]) == (MODEL.project.pulumi_project, env)
    (stack,) = of_type(runs[env], "Stack")
    assert (
        stack["urn"] in next(h for h in of_type(runs[env], "Webhook") if h["name"].endswith(".stack"))["dependencies"]
    )
    assert "environmentName" not in on_stack
    assert on_stack["filters"] == [e for e in wanted["events"] if not is_environment_event(e)]


def test_webhooks_follow_the_production_override(runs: dict[str, StackRun]) -> None:
    stack_filters = {env: of_type(runs[env], "Webhook") for env in ENVIRONMENTS}
    production = {h["name"]: h["inputs"] for h in stack_filters["production"]}
    assert production[f"{NAME}.webhook.stack"]["filters"] == ["update_failed"]
    assert production[f"{NAME}.webhook.stack"]["payloadUrl"] == {"__secret__": "mock-secret-for-alertWebhookOncall"}
    staging = {h["name"]: h["inputs"] for h in stack_filters["staging"]}
    assert staging[f"{NAME}.webhook.stack"]["payloadUrl"] == {"__secret__": "mock-secret-for-alertWebhookPlatform"}


def test_the_schema_offers_exactly_the_sdk_webhook_filters() -> None:
    schema = json.loads((ROOT / "schema" / "integrations" / "pulumi-esc.json").read_text())
    events = schema["properties"]["webhook"]["properties"]["events"]["items"]["enum"]
    assert events == SDK_FILTERS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_component_outputs_name_no_secret_value(runs: dict[str, StackRun], env: str) -> None:
    outputs = component(runs[env])["outputs"]
    assert outputs["escEnvironment"] == f"{ORG}/{ENV[env].esc_environment}"
    assert outputs["stack"] == f"{ORG}/{MODEL.project.pulumi_project}/{env}"
    assert outputs["teams"] == [f"sophia-ai-{env}-deploy", f"sophia-ai-{env}-reader", f"sophia-ai-{env}-rotator"]
    assert outputs.get("oidcIssuer") == ("sophia-ai-github-actions" if env == "production" else None)
    assert set(outputs["webhooks"]) == {"environment", "environment.rotated", "environment.rotators", "stack"}
    assert "mock-secret" not in repr(outputs)
