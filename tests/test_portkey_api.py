"""Portkey's AI provider and gateway config providers, driven directly against a fake of the Admin API
on 127.0.0.1 (tests/fakes/portkey_api.py), and the drift helpers the health check uses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value
from compiler.integrations import http
from compiler.integrations.portkey import declared as spec
from compiler.integrations.portkey import providers
from tests.conftest import platform_model
from tests.fakes.portkey_api import Portkey, Server

KEY = "pk-admin-" + "Zq7Lm2Wx" * 4
WORKSPACE = "0b9f6c1e-dev"
OTHER = "7d41aa02-prod"
GATEWAY = {
    "strategy": {"mode": "fallback", "on_status_codes": [429.0, 503.0]},  # numbers as Pulumi hands them over
    "targets": [{"virtual_key": "anthropic-main"}, {"virtual_key": "openai-main"}],
    "retry": {"attempts": 2.0},
    "cache": {"mode": "simple", "max_age": 3600.0},
}

Service = tuple[Portkey, Server, list[float]]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    waits: list[float] = []
    monkeypatch.setattr(providers, "SLEEP", waits.append)
    enabled = {"anthropic-org", "openai-org"}
    fake = Portkey(KEY, integrations={WORKSPACE: set(enabled), OTHER: set(enabled)}, default_workspace=WORKSPACE)
    server = Server(fake)
    try:
        yield fake, server, waits
    finally:
        server.stop()


def provider_props(server: Server, **changes: Any) -> dict[str, Any]:
    base = {
        "api_url": server.url,
        "api_key": KEY,
        "workspace_id": WORKSPACE,
        "slug": "anthropic-main",
        "name": "anthropic-main",
        "integration": "anthropic-org",
        "budget_usd": 50.0,
        "budget_reset": "monthly",
        "requests_per_minute": 60.0,
    }
    return {**base, **changes}


def config_props(server: Server, **changes: Any) -> dict[str, Any]:
    base = {"api_url": server.url, "api_key": KEY, "workspace_id": WORKSPACE, "name": "sophia-dev", "config": GATEWAY}
    return {**base, **changes}


AI = providers.AiProviderProvider()
CONFIG = providers.GatewayConfigProvider()


# ---------------------------------------------------------------------- AI providers


def test_a_provider_is_made_from_its_integration_with_its_budget_and_rate_limit(service: Service) -> None:
    fake, server, _ = service
    made = AI.create(provider_props(server))
    held = fake.providers[(WORKSPACE, "anthropic-main")]
    assert made.id == "anthropic-main" and made.outs["provider_id"] == held["id"]
    assert held["integration_id"] == "anthropic-org"
    assert held["usage_limits"] == {"type": "cost", "credit_limit": 50, "periodic_reset": "monthly"}
    assert held["rate_limits"] == [{"type": "requests", "unit": "rpm", "value": 60}]
    assert providers.SECRET_OUTPUTS == ["api_key"]


def test_new_limits_update_in_place_and_a_refresh_sees_changes_made_in_the_dashboard(service: Service) -> None:
    fake, server, _ = service
    made = AI.create(provider_props(server))
    news = provider_props(server, budget_usd=2000.0, budget_reset="weekly", requests_per_minute=None)
    diff = AI.diff(made.id, made.outs, news)
    assert diff.changes and not diff.replaces
    AI.update(made.id, made.outs, news)
    held = fake.providers[(WORKSPACE, "anthropic-main")]
    assert held["usage_limits"] == {"type": "cost", "credit_limit": 2000, "periodic_reset": "weekly"}
    assert held["rate_limits"] == []
    AI.update(made.id, news, provider_props(server, budget_usd=None, requests_per_minute=None))
    assert held["usage_limits"] is None
    held.update(
        usage_limits={"type": "cost", "credit_limit": 10.0},
        rate_limits=[{"type": "requests", "unit": "rpm", "value": 5}],
    )
    outs = AI.read(made.id, made.outs).outs
    assert (outs["budget_usd"], outs["budget_reset"], outs["requests_per_minute"]) == (10.0, None, 5)
    assert AI.diff(made.id, outs, provider_props(server)).changes


def test_another_integration_workspace_or_slug_replaces_the_provider(service: Service) -> None:
    _, server, _ = service
    olds = provider_props(server)
    for change, same_slug in (
        ({"integration": "openai-org"}, True),
        ({"workspace_id": OTHER}, True),
        ({"slug": "x"}, False),
    ):
        diff = AI.diff("anthropic-main", olds, provider_props(server, **change))
        assert diff.replaces == list(change) and diff.delete_before_replace is same_slug
    assert not AI.diff("anthropic-main", olds, provider_props(server)).changes


def test_a_provider_deleted_outside_pulumi_is_dropped_and_delete_tolerates_it(service: Service) -> None:
    fake, server, _ = service
    made = AI.create(provider_props(server))
    AI.delete(made.id, made.outs)
    assert fake.providers == {}
    assert AI.read(made.id, made.outs).id is None
    AI.delete(made.id, made.outs)


def test_a_lost_create_answer_adopts_the_provider_instead_of_making_another(service: Service) -> None:
    fake, server, _ = service
    fake.fail_after("POST", "/providers", 502)
    made = AI.create(provider_props(server))
    assert list(fake.providers) == [(WORKSPACE, "anthropic-main")] and fake.calls_to("POST", "/providers") == 1
    assert made.outs["provider_id"] == fake.providers[(WORKSPACE, "anthropic-main")]["id"]
    # One already there (another resource's, or made by hand) is not adopted: a rename would delete it.
    fake.providers[(WORKSPACE, "openai-main")] = {
        **fake.providers[(WORKSPACE, "anthropic-main")],
        "slug": "openai-main",
    }
    with pytest.raises(http.ApiError, match="HTTP 409"):
        AI.create(provider_props(server, slug="openai-main", integration="openai-org", budget_usd=7.0))
    assert fake.providers[(WORKSPACE, "openai-main")]["usage_limits"]["credit_limit"] != 7


def test_an_unknown_outcome_with_nothing_made_creates_again_and_a_refusal_is_not_retried(service: Service) -> None:
    fake, server, _ = service
    fake.fail("POST", "/providers", 503)
    AI.create(provider_props(server))
    assert list(fake.providers) == [(WORKSPACE, "anthropic-main")] and fake.calls_to("POST", "/providers") == 2
    with pytest.raises(http.ApiError) as raised:
        AI.create(provider_props(server, slug="groq-main", integration="groq-org"))
    assert "HTTP 400" in str(raised.value) and "groq-org is not enabled" in str(raised.value)
    assert fake.calls_to("POST", "/providers") == 3


def test_a_provider_call_waits_out_429_and_retries_a_5xx(service: Service) -> None:
    fake, server, waits = service
    made = AI.create(provider_props(server))
    fake.fail("GET", "/providers/anthropic-main", 429, {"Retry-After": "7"})
    assert AI.read(made.id, made.outs).id == made.id
    assert waits == [7.0]
    fake.fail("PUT", "/providers/anthropic-main", 502)
    AI.update(made.id, made.outs, provider_props(server, budget_usd=75.0))
    assert fake.providers[(WORKSPACE, "anthropic-main")]["usage_limits"]["credit_limit"] == 75
    assert len(waits) == 2


def test_a_wrong_key_is_a_clear_error_that_never_shows_the_key(service: Service) -> None:
    _, server, _ = service
    wrong = "pk-admin-" + "Wr0ngK3y" * 4
    for attempt in (
        lambda: AI.create(provider_props(server, api_key=wrong)),
        lambda: CONFIG.create(config_props(server, api_key=wrong)),
    ):
        with pytest.raises(http.ApiError) as raised:
            attempt()
        assert "HTTP 401" in str(raised.value) and "Invalid API key" in str(raised.value)
        assert wrong not in str(raised.value) and KEY not in str(raised.value)


def test_provider_drift_reports_the_budget_and_rate_limit_portkey_holds_otherwise() -> None:
    declared = {"budget_usd": 50, "budget_reset": "monthly", "requests_per_minute": 60}
    held = {
        "usage_limits": {"type": "cost", "credit_limit": 50.0, "periodic_reset": "monthly"},
        "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60}],
    }
    assert spec.provider_drift(declared, held) == []
    hourly = [{"type": "requests", "unit": "rph", "value": 600}]
    changed = {"usage_limits": {"type": "cost", "credit_limit": 10}, "rate_limits": hourly}
    assert spec.provider_drift(declared, changed) == [
        ("budget_usd", 50, 10),
        ("budget_reset", "monthly", None),
        ("requests_per_minute", 60, hourly),
    ]
    assert spec.provider_drift({}, {"usage_limits": None, "rate_limits": None}) == []


# ---------------------------------------------------------------------- gateway config


def test_the_gateway_config_is_saved_in_its_workspace_with_whole_numbers(service: Service) -> None:
    fake, server, _ = service
    made = CONFIG.create(config_props(server))
    (held,) = fake.configs.values()
    assert made.id == held["slug"] and made.outs["version_id"] == held["version_id"]
    assert made.outs["config_id"] == held["id"] and held["workspace_id"] == WORKSPACE and held["name"] == "sophia-dev"
    assert json.loads(held["config"]) == GATEWAY
    assert '"on_status_codes": [429, 503]' in held["config"] and '"max_age": 3600}' in held["config"]


def test_new_content_saves_a_new_version_and_another_workspace_replaces(service: Service) -> None:
    fake, server, _ = service
    made = CONFIG.create(config_props(server))
    assert not CONFIG.diff(made.id, CONFIG.read(made.id, made.outs).outs, config_props(server)).changes
    news = config_props(server, config={**GATEWAY, "retry": {"attempts": 3}})
    diff = CONFIG.diff(made.id, made.outs, news)
    assert diff.changes and not diff.replaces
    updated = CONFIG.update(made.id, made.outs, news).outs
    assert updated["version_id"] == fake.configs[made.id]["version_id"] != made.outs["version_id"]
    assert updated["slug"] == made.id and CONFIG.read(made.id, updated).outs["config"]["retry"] == {"attempts": 3}
    assert CONFIG.diff(made.id, updated, config_props(server, config=news["config"], workspace_id=OTHER)).replaces == [
        "workspace_id"
    ]


def test_a_config_deleted_outside_pulumi_is_dropped_and_delete_tolerates_it(service: Service) -> None:
    fake, server, _ = service
    made = CONFIG.create(config_props(server))
    CONFIG.delete(made.id, made.outs)
    assert fake.configs == {}
    assert CONFIG.read(made.id, made.outs).id is None
    CONFIG.delete(made.id, made.outs)


def test_a_lost_config_create_adopts_the_one_made_and_gives_it_the_declared_content(service: Service) -> None:
    fake, server, _ = service
    fake.fail_after("POST", "/configs", 504)
    made = CONFIG.create(config_props(server))
    assert list(fake.configs) == [made.id] and fake.calls_to("POST", "/configs") == 1
    assert fake.configs[made.id]["config"].startswith('{"strategy"')  # the declared content
    # One already there is not adopted (another resource's, or made by hand): the create says so.
    with pytest.raises(http.ApiError, match="already holds a config named"):
        CONFIG.create(config_props(server))
    fake.configs["pc-twin"] = {**fake.configs[made.id], "slug": "pc-twin"}
    with pytest.raises(http.ApiError, match="several configs of this name"):
        CONFIG.create(config_props(server))


def test_a_config_call_waits_out_429_and_retries_a_5xx(service: Service) -> None:
    fake, server, waits = service
    fake.fail("POST", "/configs", 429, {"Retry-After": "4"})
    made = CONFIG.create(config_props(server))
    assert waits == [4.0] and len(fake.configs) == 1
    fake.fail("GET", f"/configs/{made.id}", 500)
    assert CONFIG.read(made.id, made.outs).id == made.id and len(waits) == 2


def test_the_answers_as_the_openapi_spec_documents_them_are_read_too(service: Service) -> None:
    fake, server, _ = service
    fake.envelope = True  # {"success": true, "data": ...}, and a create answer without the slug
    made = CONFIG.create(config_props(server))
    assert made.id in fake.configs and made.outs["version_id"] == fake.configs[made.id]["version_id"]
    assert CONFIG.read(made.id, made.outs).outs["config"]["targets"][0] == {"virtual_key": "anthropic-main"}


def test_config_drift_reports_each_part_portkey_holds_otherwise() -> None:
    held = {"config": '{"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"}], "retry": {"attempts": 5}}'}
    declared = {"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"}], "retry": {"attempts": 2.0}}
    assert spec.config_drift(declared, held) == [("retry", {"attempts": 2}, {"attempts": 5})]
    assert spec.config_drift({**declared, "retry": {"attempts": 5}}, {"success": True, "data": held}) == []
    assert spec.config_drift(declared, {"config": {}})[0] == ("retry", {"attempts": 2}, None)


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ("development", "production")}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_program_keeps_the_workspace_providers_and_gateway_config(runs: dict[str, StackRun], env: str) -> None:
    config = next(i for i in platform_model().integrations if i.type.name == "portkey").per_env[env].config
    made = {r["name"]: r for r in runs[env].resources if r["type"].startswith("pulumi-python:dynamic/portkey:")}
    slugs = [k["slug"] for k in config["virtualKeys"]]
    assert set(made) == {*(f"portkey.provider.{s}" for s in slugs), "portkey.gateway-config"}
    for key in config["virtualKeys"]:
        inputs = made[f"portkey.provider.{key['slug']}"]["inputs"]
        assert (inputs["slug"], inputs["integration"], inputs["workspace_id"]) == (
            key["slug"],
            key["integration"],
            config["workspace"],
        )
        assert (inputs["budget_usd"], inputs.get("requests_per_minute")) == (
            key["budgetUsd"],
            key.get("requestsPerMinute"),
        )
        assert inputs["budget_reset"] == key.get("budgetReset", "monthly")
        assert secret_value(inputs["api_key"]).startswith("mock-secret-for-portkeyApiKey")
    saved = made["portkey.gateway-config"]
    assert saved["inputs"]["name"] == f"sophia-ai-{env}"  # the name the health check looks the config up by
    assert saved["inputs"]["config"] == spec.gateway(config)
    assert saved["additionalSecretOutputs"] == ["api_key"]
    assert {f"{made[f'portkey.provider.{s}']['urn']}" for s in slugs} <= set(saved["dependencies"])
