"""The slack module of the infrastructure program: alert route wiring, and no invented resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.harness import StackRun
from compiler.model import thaw
from compiler.names import alert_webhook_key
from compiler.targets.esc import reference
from tests.conftest import platform_generated, platform_model

MODEL = platform_model()
assert MODEL is not None
ENVIRONMENTS = [e.name for e in MODEL.environments]
ENV = {e.name: e for e in MODEL.environments}
INTEGRATION = next(i for i in MODEL.integrations if i.type.name == "slack")
NAME = INTEGRATION.name


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/pulumi run once per stack."""
    return {env: stack_run(env) for env in ENVIRONMENTS}


def component(run: StackRun) -> dict[str, Any]:
    return run.component("sophia:integrations:Slack")


def config(env: str) -> dict[str, Any]:
    return thaw(INTEGRATION.per_env[env].config)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_resource_is_invented(runs: dict[str, StackRun], env: str) -> None:
    # There is no official Slack provider: the component owns nothing.
    slack = component(runs[env])
    assert slack["name"] == NAME
    assert slack["parent"].endswith(f"pulumi:pulumi:Stack::sophia-ai-{env}")
    assert [r for r in runs[env].resources if r["parent"] == slack["urn"]] == []
    assert [r for r in runs[env].resources if "slack" in r["type"].lower() and r is not slack] == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alert_route_wiring(runs: dict[str, StackRun], env: str) -> None:
    outputs = component(runs[env])["outputs"]
    assert outputs["alertRoutes"] == {
        r.name: {"channel": r.channel, "configKey": alert_webhook_key(r.name), "esc": r.webhook_esc}
        for r in MODEL.project.alert_routes
    }
    route = ENV[env].alert_route
    assert route
    assert outputs["alertRoute"] == route
    assert outputs["alertChannel"] == next(r.channel for r in MODEL.project.alert_routes if r.name == route)
    assert outputs["alertChannel"] == ("#sophia-oncall" if env == "production" else "#sophia-platform")
    assert outputs["deployChannel"] == config(env)["channels"]["deploys"]
    assert outputs["workspace"] == config(env)["workspace"]
    assert outputs.get("mention") == (config(env)["mentionOnProduction"] if ENV[env].tier == "production" else None)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_webhook_urls_stay_in_esc(runs: dict[str, StackRun], env: str) -> None:
    # The infrastructure program posts nowhere, so neither it nor its ESC environment has a webhook URL;
    # the bootstrap's ESC environment maps exactly the routes the bootstrap posts to.
    def mapped(name: str) -> dict[str, str]:
        text = (platform_generated() / "esc" / f"{name}.yaml").read_text(encoding="utf-8")
        return dict(YAML(typ="safe").load(text)["values"]["pulumiConfig"])

    keys = {f"{MODEL.project.pulumi_project}:{alert_webhook_key(r.name)}": r for r in MODEL.project.alert_routes}
    assert not set(mapped(env)) & set(keys)
    bootstrap = {k: v for k, v in mapped(f"{env}-bootstrap").items() if k in keys}
    routes = {"platform", "oncall"} if env == "production" else {"platform"}
    secrets = ENV[env].esc_secrets
    assert bootstrap == {k: reference(secrets, r.webhook_esc) for k, r in keys.items() if r.name in routes}
    assert "mock-secret" not in repr(component(runs[env]))
