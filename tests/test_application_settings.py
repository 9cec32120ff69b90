"""Non-secret settings the application reads from its ESC environment (a type's ``application`` hook):
OpenRouter's model per task, fallback order and provider routing, per environment."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from tests.conftest import platform_generated, platform_model

ENVIRONMENTS = ["development", "staging", "production"]


def exported(env: str) -> dict[str, str]:
    text = (platform_generated() / "esc" / f"{env}.yaml").read_text(encoding="utf-8")
    return dict(YAML(typ="safe").load(text)["values"]["environmentVariables"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_openrouter_routing_reaches_the_application(env: str) -> None:
    integration = next(i for i in platform_model().integrations if i.type.name == "openrouter")
    config = integration.per_env[env].config
    routing = json.loads(exported(env)["OPENROUTER_ROUTING"])
    assert routing["default"] == {"models": [config["defaultModel"]]}
    assert routing["tasks"] == {m["task"]: {"models": [m["model"], *m.get("fallbacks", [])]} for m in config["models"]}
    assert routing["provider"] == {
        "sort": config["providerSort"],
        "data_collection": config["dataCollection"],
        "allow_fallbacks": True,
    }
    assert routing["provider"]["sort"] == ("latency" if env == "production" else "price")


def test_a_disabled_integration_exports_no_settings(tmp_path: object) -> None:
    from compiler.model import Environment
    from compiler.targets.esc import application_variables

    model = platform_model()
    env = next(e for e in model.environments if e.name == "staging")
    assert "OPENROUTER_ROUTING" in application_variables(model, env)
    integration = next(i for i in model.integrations if i.type.name == "openrouter")
    off = type(integration.per_env["staging"])(**{**integration.per_env["staging"].__dict__, "enabled": False})
    disabled = type(integration)(**{**integration.__dict__, "per_env": {**integration.per_env, "staging": off}})
    stripped = type(model)(**{**model.__dict__, "integrations": (disabled,)})
    assert isinstance(env, Environment) and application_variables(stripped, env) == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gong_and_hubspot_settings_and_webhook_material_reach_the_application(env: str) -> None:
    variables = exported(env)
    model = platform_model()
    gong = next(i for i in model.integrations if i.type.name == "gong").per_env[env].config
    hubspot = next(i for i in model.integrations if i.type.name == "hubspot").per_env[env].config
    assert json.loads(variables["GONG_SETTINGS"])["rateLimit"] == dict(gong["rateLimit"])
    assert json.loads(variables["HUBSPOT_SETTINGS"])["rateLimit"] == dict(hubspot["rateLimit"])
    # Verification material: from the secrets environment, never a value in the repository.
    secrets = f"${{environments.sophia-ai.{env}-secrets."
    assert variables["GONG_WEBHOOK_PUBLIC_KEY"] == f"{secrets}gong.webhookPublicKey}}"
    assert variables["HUBSPOT_CLIENT_SECRET"] == f"{secrets}hubspot.clientSecret}}"


def test_only_the_application_reads_webhook_material() -> None:
    stack = (platform_generated() / "pulumi" / "Pulumi.production.yaml").read_text(encoding="utf-8")
    reads = YAML(typ="safe").load(stack)["config"]["sophia-ai:secrets"]
    assert "webhook-public-key" not in reads.get("gong", {}) and "client-secret" not in reads.get("hubspot", {})
    esc = (platform_generated() / "esc" / "production.yaml").read_text(encoding="utf-8")
    assert "webhookPublicKey" not in str(YAML(typ="safe").load(esc)["values"]["pulumiConfig"])
