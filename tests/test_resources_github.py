"""The github bootstrap module, run by the real Pulumi SDK under mocks for every stack of the bootstrap project."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.access import NOTIFICATIONS_ENVIRONMENT
from compiler.harness import StackRun, run_stack
from compiler.model import Environment, thaw
from compiler.names import alert_webhook_key
from tests.conftest import Result, platform_model

MODEL = platform_model()
assert MODEL is not None
ENVIRONMENTS = [e.name for e in MODEL.environments]
ENV = {e.name: e for e in MODEL.environments}
INTEGRATION = next(i for i in MODEL.integrations if i.type.name == "github")
NAME = INTEGRATION.name
OWNER, REPOSITORY = MODEL.project.repository.split("/", 1)
PRODUCTION = [e.name for e in MODEL.environments if e.tier == "production"]


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
    return run.component("sophia:bootstrap:GitHub")


def children(run: StackRun) -> list[dict[str, Any]]:
    return run.children(component(run))


def of_type(run: StackRun, kind: str) -> list[dict[str, Any]]:
    return run.of_type(f"github:index/{kind[0].lower()}{kind[1:]}:{kind}")


def test_the_bundled_specs_have_a_production_environment() -> None:
    assert PRODUCTION == ["production"]
    assert len(ENVIRONMENTS) > len(PRODUCTION)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_component_child_of_the_stack(runs: dict[str, StackRun], env: str) -> None:
    found = component(runs[env])
    assert found["name"] == NAME
    assert found["parent"].endswith(f"pulumi:pulumi:Stack::sophia-ai-bootstrap-{env}")
    assert NAME in runs[env].outputs["integrations"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_is_a_child_of_the_component_through_one_provider(runs: dict[str, StackRun], env: str) -> None:
    run = runs[env]
    ours = [r for r in run.resources if r["name"].startswith(f"{NAME}.")]
    assert ours and all(r["parent"] == component(run)["urn"] for r in ours)
    (provider,) = [r for r in ours if r["type"] == "pulumi:providers:github"]
    assert provider["name"] == f"{NAME}.provider"
    for resource in ours:
        if resource is not provider:
            assert resource["type"].startswith("github:index/"), resource["type"]
            assert resource["provider"].startswith(provider["urn"] + "::"), resource["name"]
    assert len(children(run)) == len(ours)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_authenticates_as_the_app_with_the_key_from_esc(runs: dict[str, StackRun], env: str) -> None:
    (provider,) = runs[env].of_type("pulumi:providers:github")
    inputs = provider["inputs"]
    assert inputs["owner"] == OWNER
    assert "token" not in inputs
    app = json.loads(inputs["appAuth"]["__secret__"])
    expected = config(env)["app"]
    assert app == {
        "id": str(expected["appId"]),
        "installationId": str(expected["installationId"]),
        "pemFile": "mock-secret-for-githubAppPrivateKey",
    }


def own(run: StackRun, kind: str) -> list[dict]:
    """Resources of this stack's own GitHub environment (not the shared notifications one, nor its rotation's)."""
    others = (NOTIFICATIONS_ENVIRONMENT, *(f"{e}-rotation" for e in ENVIRONMENTS))
    return [r for r in of_type(run, kind) if r["inputs"].get("environment") not in others]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_rotation_environment_admits_only_the_default_branch_and_holds_no_secret(
    runs: dict[str, StackRun], env: str
) -> None:
    name = f"{env}-rotation"
    (environment,) = [r for r in of_type(runs[env], "RepositoryEnvironment") if r["inputs"]["environment"] == name]
    inputs = environment["inputs"]
    assert inputs["deploymentBranchPolicy"] == {"customBranchPolicies": True, "protectedBranches": False}
    assert inputs["canAdminsBypass"] is False and "reviewers" not in inputs
    (policy,) = [
        p for p in of_type(runs[env], "RepositoryEnvironmentDeploymentPolicy") if p["inputs"]["environment"] == name
    ]
    assert policy["inputs"] == {"environment": name, "repository": REPOSITORY, "branchPattern": "main"}
    assert [s for s in of_type(runs[env], "ActionsEnvironmentSecret") if s["inputs"]["environment"] == name] == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_repository_environment_per_stack_named_after_it(runs: dict[str, StackRun], env: str) -> None:
    (environment,) = own(runs[env], "RepositoryEnvironment")
    assert environment["name"] == f"{NAME}.environment"
    assert environment["inputs"]["environment"] == env
    assert environment["inputs"]["repository"] == REPOSITORY
    # Deleting it deletes its secrets and deployment history: protected where the environment is.
    assert environment["protect"] is environment["retainOnDelete"] is protected(env)
    assert protected("production")


def expected_reviewers(env: Environment) -> list[dict[str, list[int]]]:
    ids = config(env.name)["reviewerIds"]
    teams = [ids[r] for r in env.reviewers if "/" in r]
    users = [ids[r] for r in env.reviewers if "/" not in r]
    found = {k: v for k, v in (("teams", teams), ("users", users)) if v}
    return [found] if found else []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_admits_only_the_refs_that_deploy_it(runs: dict[str, StackRun], env: str) -> None:
    (environment,) = own(runs[env], "RepositoryEnvironment")
    inputs = environment["inputs"]
    assert inputs["deploymentBranchPolicy"] == {"customBranchPolicies": True, "protectedBranches": False}
    assert inputs["canAdminsBypass"] is False  # GitHub's default is true
    (policy,) = own(runs[env], "RepositoryEnvironmentDeploymentPolicy")
    pattern = {"push": {"branchPattern": "main"}, "release": {"tagPattern": "v*"}}[ENV[env].deploy_on]
    assert policy["inputs"] == {"environment": env, "repository": REPOSITORY, **pattern}
    assert environment["urn"] in policy["dependencies"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_reviewers_where_the_environment_names_them(runs: dict[str, StackRun], env: str) -> None:
    (environment,) = own(runs[env], "RepositoryEnvironment")
    inputs = environment["inputs"]
    if not ENV[env].reviewers:
        assert "reviewers" not in inputs and "preventSelfReview" not in inputs
        return
    assert inputs["reviewers"] == expected_reviewers(ENV[env]) == [{"teams": [7654321]}]
    assert inputs["preventSelfReview"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_branch_protection_only_in_the_production_stack_on_the_default_branch(
    runs: dict[str, StackRun], env: str
) -> None:
    protections = of_type(runs[env], "BranchProtection") + of_type(runs[env], "BranchProtectionV3")
    if env not in PRODUCTION:
        assert protections == []
        return
    (protection,) = protections
    wanted = config(env)["branchProtection"]
    assert protection["name"] == f"{NAME}.branchProtection"
    assert protection["inputs"] == {
        "repositoryId": REPOSITORY,
        "pattern": MODEL.project.default_branch,
        "enforceAdmins": wanted["enforceAdmins"],
        "allowsDeletions": False,
        "allowsForcePushes": False,
        "requiredPullRequestReviews": [
            {
                "requiredApprovingReviewCount": wanted["requiredApprovals"],
                "requireCodeOwnerReviews": wanted["requireCodeOwnerReviews"],
                "dismissStaleReviews": wanted["dismissStaleReviews"],
            }
        ],
        "requiredStatusChecks": [{"contexts": ["validate", "preview"], "strict": True}],
    }
    assert protection["protect"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_secrets_are_secret_and_come_from_the_alert_route(runs: dict[str, StackRun], env: str) -> None:
    secrets = own(runs[env], "ActionsEnvironmentSecret")
    route = ENV[env].alert_route
    assert route
    assert {s["inputs"]["secretName"]: s["inputs"]["value"] for s in secrets} == {
        "SLACK_WEBHOOK_URL": {"__secret__": f"mock-secret-for-{alert_webhook_key(route)}"}
    }
    for secret in secrets:
        assert secret["inputs"]["environment"] == env
        assert secret["inputs"]["repository"] == REPOSITORY
        assert secret["name"] == f"{NAME}.secret.{secret['inputs']['secretName']}"
        assert "plaintextValue" not in secret["inputs"]


def test_each_environment_gets_its_own_route_webhook(runs: dict[str, StackRun]) -> None:
    values = {env: own(runs[env], "ActionsEnvironmentSecret")[0]["inputs"]["value"] for env in ENVIRONMENTS}
    assert values["production"] == {"__secret__": "mock-secret-for-alertWebhookOncall"}
    assert values["staging"] == {"__secret__": "mock-secret-for-alertWebhookPlatform"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_variables_nothing_reads_them(runs: dict[str, StackRun], env: str) -> None:
    assert of_type(runs[env], "ActionsEnvironmentVariable") == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_component_outputs_name_no_secret_value(runs: dict[str, StackRun], env: str) -> None:
    outputs = component(runs[env])["outputs"]
    assert outputs["repository"] == MODEL.project.repository
    assert outputs["environment"] == env
    assert outputs["secrets"] == ["SLACK_WEBHOOK_URL"]
    assert outputs.get("branchProtection") == (MODEL.project.default_branch if env in PRODUCTION else None)
    assert "mock-secret" not in repr(outputs)


def test_a_reviewer_without_an_id_fails_compile_at_the_reviewer(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    # Reviewer ids come from the spec, never from a lookup: a missing one must stop the
    # compile rather than leave production without its reviewers.
    root = project(None)
    spec = root / "specs" / "integrations" / "github.yaml"
    text = spec.read_text()
    lines = ["    reviewerIds:\n", "      payready/platform: 7654321\n"]
    assert all(line in text for line in lines)
    spec.write_text(text.replace("".join(lines), ""))
    result = cli("compile")
    assert result.code == 1
    assert result.out.startswith("specs/environments.yaml:50:17: error[E505]: deploy reviewer 'payready/platform'")
    assert not (root / "generated").exists()


def test_token_authentication(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    root = project(None)
    spec = root / "specs" / "integrations" / "github.yaml"
    text = spec.read_text()
    app = "    app:\n      appId: 123456\n      installationId: 45678901\n      privateKeySecret: app-private-key\n"
    assert app in text
    spec.write_text(text.replace(app, "    tokenSecret: app-private-key\n"))
    assert cli("compile").code == 0
    (provider,) = run_stack(root / "generated", "staging", project="bootstrap").of_type("pulumi:providers:github")
    assert provider["inputs"]["token"] == {"__secret__": "mock-secret-for-githubAppPrivateKey"}
    assert "appAuth" not in provider["inputs"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_notifications_environment_only_in_the_production_stack(runs: dict[str, StackRun], env: str) -> None:
    """Non-deploy workflows notify Slack from this environment, so no secret is used outside one."""
    shared = [
        r
        for r in of_type(runs[env], "RepositoryEnvironment")
        if r["inputs"]["environment"] == NOTIFICATIONS_ENVIRONMENT
    ]
    secrets = [
        r for r in of_type(runs[env], "ActionsEnvironmentSecret") if r["inputs"]["environment"] == "notifications"
    ]
    if ENV[env].tier != "production":
        assert shared == [] and secrets == []
        return
    (environment,) = shared
    assert environment["inputs"]["environment"] == NOTIFICATIONS_ENVIRONMENT
    assert "reviewers" not in environment["inputs"]
    # Only default-branch jobs (scheduled tests, drift) notify from it.
    assert environment["inputs"]["canAdminsBypass"] is False
    (policy,) = [
        p
        for p in of_type(runs[env], "RepositoryEnvironmentDeploymentPolicy")
        if p["inputs"]["environment"] == NOTIFICATIONS_ENVIRONMENT
    ]
    assert policy["inputs"] == {
        "environment": NOTIFICATIONS_ENVIRONMENT,
        "repository": REPOSITORY,
        "branchPattern": "main",
    }
    (secret,) = secrets
    assert secret["inputs"]["secretName"] == "SLACK_WEBHOOK_URL"
    assert secret["inputs"]["value"] == {"__secret__": "mock-secret-for-alertWebhookPlatform"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_release_managers_may_create_release_tags(runs: dict[str, StackRun], env: str) -> None:
    """A release tag is what production admits: whoever could push one could start a production deploy."""
    rulesets = of_type(runs[env], "RepositoryRuleset")
    if env not in PRODUCTION:
        assert rulesets == []
        return
    (ruleset,) = rulesets
    assert ruleset["inputs"] == {
        "name": "release tags v*",
        "repository": REPOSITORY,
        "target": "tag",
        "enforcement": "active",
        "conditions": {"refName": {"includes": ["refs/tags/v*"], "excludes": []}},
        "rules": {"creation": True, "update": True, "deletion": True},
        "bypassActors": [{"actorType": "Team", "actorId": 7654321, "bypassMode": "always"}],
    }
    assert ruleset["protect"] is True
