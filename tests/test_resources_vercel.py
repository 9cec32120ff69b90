"""The vercel module creates real pulumiverse_vercel resources, run by the Pulumi SDK under mocks for every stack."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value

ENVIRONMENTS = ["development", "staging", "production"]
COMPONENT = "sophia:integrations:Vercel"
PROVIDER = "pulumi:providers:vercel"
PROJECT = "vercel:index/project:Project"
DOMAIN = "vercel:index/projectDomain:ProjectDomain"
VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"

# Per environment, from specs/integrations/vercel.yaml and its overrides.
PROJECT_NAME = {"development": "sophia-ai-dev", "staging": "sophia-ai-staging", "production": "sophia-ai"}
DOMAINS = {
    "development": ["dev.sophia.payready.com"],
    "staging": ["staging.sophia.payready.com"],
    "production": ["sophia.payready.com", "www.sophia.payready.com"],
}
API_URL = {
    "development": dict.fromkeys(["production", "preview", "development"], "https://api.dev.sophia.payready.com"),
    "staging": dict.fromkeys(["production", "preview", "development"], "https://api.staging.sophia.payready.com"),
    "production": {
        "production": "https://api.sophia.payready.com",
        "preview": "https://api.staging.sophia.payready.com",
        "development": "https://api.staging.sophia.payready.com",
    },
}
SESSION_SECRET = "mock-secret-for-vercelSessionSecret"


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/ run once per stack."""
    return {env: stack_run(env) for env in ENVIRONMENTS}


def component(run: StackRun) -> dict[str, Any]:
    return run.component(COMPONENT, "vercel")


def children(run: StackRun) -> list[dict[str, Any]]:
    return run.children(component(run))


def one(run: StackRun, type_token: str) -> dict[str, Any]:
    (found,) = [r for r in children(run) if r["type"] == type_token]
    return found


secret = secret_value


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_resource_types_and_names(runs: dict[str, StackRun], env: str) -> None:
    counts = Counter(r["type"] for r in children(runs[env]))
    # One variable per key and target: NEXT_PUBLIC_API_URL in 3 targets, SESSION_SECRET in 2.
    assert counts == {PROVIDER: 1, PROJECT: 1, DOMAIN: len(DOMAINS[env]), VARIABLE: 5}
    assert sorted(r["name"] for r in children(runs[env])) == sorted(
        ["vercel.provider", "vercel.project"]
        + [f"vercel.domain.{domain}" for domain in DOMAINS[env]]
        + [f"vercel.env.NEXT_PUBLIC_API_URL.{target}" for target in ("production", "preview", "development")]
        + [f"vercel.env.SESSION_SECRET.{target}" for target in ("production", "preview")]
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_is_explicit_with_the_team_and_a_secret_token(runs: dict[str, StackRun], env: str) -> None:
    provider = one(runs[env], PROVIDER)
    assert provider["inputs"]["team"] == "payready"
    assert secret(provider["inputs"]["apiToken"]) == "mock-secret-for-vercelApiToken"
    assert set(provider["inputs"]) == {"team", "apiToken"}
    reference = f"{provider['urn']}::{provider['name']}-id"
    for resource in children(runs[env]):
        if resource["type"] != PROVIDER:
            assert resource["provider"] == reference, resource["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_is_parented_to_the_component(runs: dict[str, StackRun], env: str) -> None:
    run = runs[env]
    vercel = [r for r in run.resources if r["type"].startswith(("vercel:", "pulumi:providers:vercel"))]
    assert vercel and all(r["parent"] == component(run)["urn"] for r in vercel)
    assert len(vercel) == len(children(run))
    # Only the project is stateful (deleting it deletes its deployments): protected where the environment is.
    kept = {r["type"] for r in vercel if r["protect"] and r["retainOnDelete"]}
    assert kept == ({"vercel:index/project:Project"} if env == "production" else set())
    assert not any(r["protect"] != r["retainOnDelete"] for r in vercel)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_project_per_environment(runs: dict[str, StackRun], env: str) -> None:
    assert one(runs[env], PROJECT)["inputs"] == {
        "name": PROJECT_NAME[env],
        "framework": "nextjs",
        "rootDirectory": "frontend",
        "gitRepository": {"type": "github", "repo": "payready/sophia-ai", "productionBranch": "main"},
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_domains_per_environment(runs: dict[str, StackRun], env: str) -> None:
    domains = [r["inputs"] for r in children(runs[env]) if r["type"] == DOMAIN]
    assert sorted(d["domain"] for d in domains) == DOMAINS[env]
    assert all(d["projectId"] == "vercel.project-id" for d in domains)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_variables_per_target_with_sensitive_set(runs: dict[str, StackRun], env: str) -> None:
    variables = [r["inputs"] for r in children(runs[env]) if r["type"] == VARIABLE]
    assert all(v["projectId"] == "vercel.project-id" and len(v["targets"]) == 1 for v in variables)
    by_key = {(v["key"], v["targets"][0]): v for v in variables}
    assert sorted(by_key) == sorted(
        [("NEXT_PUBLIC_API_URL", t) for t in ("production", "preview", "development")]
        + [("SESSION_SECRET", t) for t in ("production", "preview")]
    )
    for target, url in API_URL[env].items():
        plain = by_key[("NEXT_PUBLIC_API_URL", target)]
        assert plain["sensitive"] is False
        assert secret(plain["value"]) == url  # the SDK stores every value as a secret
    for target in ("production", "preview"):
        sensitive = by_key[("SESSION_SECRET", target)]
        assert sensitive["sensitive"] is True
        # Write-only: the value never reaches the state; its version (a digest) changes when it does.
        assert "value" not in sensitive
        assert secret(sensitive["valueWo"]) == SESSION_SECRET
        digest = int.from_bytes(hashlib.sha256(SESSION_SECRET.encode()).digest()[:4], "big")
        assert secret(sensitive["valueWoVersion"]) == digest


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_component_outputs(runs: dict[str, StackRun], env: str) -> None:
    outputs = component(runs[env])["outputs"]
    assert outputs["project"] == PROJECT_NAME[env]
    assert outputs["domains"] == DOMAINS[env]
    assert outputs["secretNames"] == ["api-token", "session-secret"]
    assert SESSION_SECRET not in repr(outputs)
