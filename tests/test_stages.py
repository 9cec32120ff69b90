"""Unit tests of the checks, resolve and model stages, table-driven: a spec text, and the one problem
(code, line, column) it must produce, or none. The base a source is checked beside is in tests/units.py.
"""

from __future__ import annotations

import pytest

from compiler.load import load_bytes
from compiler.resolve import deep_merge, effective, effective_spec
from tests.units import analyse as units_analyse
from tests.units import integration, model, plain, problems

GONG = (
    "  description: Calls.\n  config:\n    baseUrl: https://api.gong.io\n"
    "    rateLimit: {requestsPerSecond: 1, requestsPerDay: 500}\n    webhookVerification: false\n"
)
KEY = "    access-key: {esc: gong.accessKey, rotation: manual}\n"

CHECKS = [
    ("a valid integration", integration("gong", "gong", GONG, KEY), None),
    (
        "an undefined rotation policy",
        integration("gong", "gong", GONG, "    access-key: {esc: gong.accessKey, rotation: ninty-day}\n"),
        ("E202", 12, 49),
    ),
    (
        "an override of an undefined environment",
        integration("gong", "gong", GONG + "  overrides:\n    prodution: {enabled: false}\n", ""),
        ("E203", 12, 5),
    ),
    (
        "an override that breaks the schema only in production",
        integration(
            "gong", "gong", GONG + "  overrides:\n    production:\n      config: {rateLimit: {requestsPerSecond: 9}}\n"
        ),
        ("E108", 13, 47),
    ),
    (
        "two secrets deriving one environment variable",
        integration(
            "gong",
            "gong",
            GONG,
            KEY + "    access-key-2: {esc: gong.other, rotation: manual, envVar: GONG_ACCESS_KEY}\n",
        ),
        ("E208", 13, 5),
    ),
    (
        "a name defined twice",
        integration("gong", "gong", GONG, KEY) + "---\n" + integration("gong", "gong", GONG, KEY),
        [("E201", 3, 18), ("E201", 16, 18)],  # the error at the second, a note at the first
    ),
    (
        "a GPU pool on an undefined integration",
        "apiVersion: sophia-iac/v1\nkind: GpuPool\nmetadata: {name: pool}\nspec:\n  integration: lambda\n"
        "  provider: lambda-labs\n"
        "  instanceType: gpu_1x_a10\n  regions: [us-east-1]\n  minCount: 0\n  maxCount: 1\n  hourlyBudgetUsd: 10\n",
        ("E205", 5, 16),
    ),
    (
        "a rotation overlap as long as the interval",
        "apiVersion: sophia-iac/v1\nkind: RotationPolicy\nmetadata: {name: weekly}\n"
        "spec: {interval: 7d, method: automatic, overlap: 1w, schedule: '0 6 * * 1', notify: {routes: [platform]}}\n",
        ("E403", 4, 50),
    ),
    (
        "a plaintext token in a config value",
        integration("gong", "gong", GONG.replace("api.gong.io", "api.gong.io\n    workspaceId: '1'"), KEY).replace(
            "description: Calls.", "description: ghp_" + "a1B2c3D4e5" * 4
        ),
        ("E301", 6, 16),
    ),
]


@pytest.mark.parametrize("source, problem", [(s, p) for _, s, p in CHECKS], ids=[c[0] for c in CHECKS])
def test_checks(source: str, problem: tuple[str, int, int] | list[tuple[str, int, int]] | None) -> None:
    assert problems(source) == (problem if isinstance(problem, list) else [problem] if problem else [])


MERGES = [
    ("maps merge", {"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
    ("lists replace", {"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    ("null removes", {"a": 1, "b": 2}, {"a": None}, {"b": 2}),
    ("a scalar replaces a map", {"a": {"x": 1}}, {"a": 5}, {"a": 5}),
    ("a map replaces a scalar", {"a": 5}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ("new keys are added", {}, {"a": {"b": 1}}, {"a": {"b": 1}}),
]


@pytest.mark.parametrize("base, patch, merged", [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_resolve_merges(base: dict[str, object], patch: dict[str, object], merged: dict[str, object]) -> None:
    before = repr(base)
    assert deep_merge(base, patch) == merged
    assert repr(base) == before  # the base is never changed


def test_an_effective_document_locates_overridden_values_at_the_override() -> None:
    text = "spec:\n  config: {size: S}\n  overrides:\n    production:\n      config: {size: L}\n"
    (doc,) = load_bytes(text.encode(), "x.yaml")[0]
    assert effective_spec(doc, "production") == {"config": {"size": "L"}}
    assert effective_spec(doc, "staging") == {"config": {"size": "S"}}
    production, staging = effective(doc, "production"), effective(doc, "staging")
    assert (production.locate(("spec", "config", "size")).line, staging.locate(("spec", "config", "size")).line) == (
        5,
        2,
    )


def test_model_resolves_each_environment() -> None:
    source = integration(
        "gong",
        "gong",
        GONG + "  overrides:\n    production:\n      enabled: false\n    staging:\n      config:\n"
        "        rateLimit: {requestsPerDay: 1500}\n",
        KEY,
    )
    built = model(source)
    (gong,) = built.integrations
    assert [e.name for e in built.environments] == ["development", "staging", "production"]
    assert {env: e.enabled for env, e in gong.per_env.items()} == {
        "development": True,
        "staging": True,
        "production": False,
    }
    assert plain(gong.per_env["staging"].config)["rateLimit"] == {"requestsPerSecond": 1, "requestsPerDay": 1500}
    assert plain(gong.per_env["development"].config)["rateLimit"]["requestsPerDay"] == 500
    assert gong.per_env["development"].config is gong.per_env["production"].config  # no override: one object
    (secret,) = gong.secrets
    assert (secret.env_var, secret.config_key, secret.rotation) == ("GONG_ACCESS_KEY", "gongAccessKey", "manual")
    assert gong.per_env["development"].health_check.timeout_seconds == 10


def test_a_gpu_pool_is_protected_where_its_environment_is_unless_it_opts_out() -> None:
    from compiler.targets.pulumi import MAIN, stack_config

    source = integration(
        "gpus",
        "lambda-labs",
        "  description: GPUs.\n  config: {defaultRegion: us-east-1, sshKeyNames: [ops]}\n",
        "    api-key: {esc: lambda.apiKey, rotation: manual}\n",
    )
    pool = (
        "apiVersion: sophia-iac/v1\nkind: GpuPool\nmetadata: {name: pool}\nspec:\n  provider: lambda-labs\n"
        "  integration: gpus\n  instanceType: gpu_1x_a10\n  regions: [us-east-1]\n  minCount: 0\n  maxCount: 1\n"
        "  hourlyBudgetUsd: 10\n  sshKeyName: ops\n"
    )
    built = model(source + "---\n" + pool)
    settings = {e.name: stack_config(built, e, MAIN)["demo:gpuPools"]["pool"] for e in built.environments}
    assert {env: s["protect"] for env, s in settings.items()} == {
        "development": False,
        "staging": False,
        "production": True,
    }
    assert settings["production"]["integration"] == "gpus"
    opted_out = model(source + "---\n" + pool + "  overrides:\n    production: {protect: false}\n")
    production = next(e for e in opted_out.environments if e.name == "production")
    assert stack_config(opted_out, production, MAIN)["demo:gpuPools"]["pool"]["protect"] is False


def test_a_gpu_pool_takes_only_an_ssh_key_its_integration_lists() -> None:
    host = integration(
        "gpus",
        "lambda-labs",
        "  description: GPUs.\n  config: {defaultRegion: us-east-1, sshKeyNames: [ops]}\n",
        "    api-key: {esc: lambda.apiKey, rotation: manual}\n",
    )
    pool = (
        "apiVersion: sophia-iac/v1\nkind: GpuPool\nmetadata: {name: pool}\nspec:\n  provider: lambda-labs\n"
        "  integration: gpus\n  instanceType: gpu_1x_a10\n  regions: [us-east-1]\n  minCount: 0\n  maxCount: 1\n"
        "  hourlyBudgetUsd: 10\n  sshKeyName: KEY\n"
    )
    assert problems(host + "---\n" + pool.replace("KEY", "ops")) == []
    line = len((host + "---\n").splitlines()) + 12
    assert problems(host + "---\n" + pool.replace("KEY", "opz")) == [("E211", line, 15)]


PORTKEY = (
    "  description: Gateway.\n  config:\n    workspace: demo\n"
    "    virtualKeys: [{slug: anthropic-main, integration: anthropic}, {slug: openai-main, integration: openai}]\n"
    "    routing: {strategy: fallback, targets: [{virtualKey: anthropic-main}, {virtualKey: openai-main}]}\n"
)
PORTKEY_KEY = "    api-key: {esc: portkey.apiKey, rotation: manual}\n"
SERVICE_RULES = [
    ("a valid gateway", integration("portkey", "portkey", PORTKEY, PORTKEY_KEY), None),
    (
        "a target naming no virtual key",
        integration(
            "portkey", "portkey", PORTKEY.replace("{virtualKey: openai-main}", "{virtualKey: openai}"), PORTKEY_KEY
        ),
        ("E210", 10, 88),
    ),
    (
        "a production load balance with every weight 0",
        integration(
            "portkey",
            "portkey",
            PORTKEY
            + "  overrides:\n    production:\n      config:\n        routing:\n          strategy: loadbalance\n"
            "          targets: [{virtualKey: anthropic-main, weight: 0}]\n",
            PORTKEY_KEY,
        ),
        ("E210", 16, 20),
    ),
    (
        "a cache shorter than Portkey keeps anything",
        integration("portkey", "portkey", PORTKEY + "    cache: {mode: simple, maxAge: 30s}\n", PORTKEY_KEY),
        ("E210", 11, 12),
    ),
]


@pytest.mark.parametrize("source, problem", [(s, p) for _, s, p in SERVICE_RULES], ids=[c[0] for c in SERVICE_RULES])
def test_what_the_service_would_refuse_fails_validate(source: str, problem: tuple[str, int, int] | None) -> None:
    assert problems(source) == ([problem] if problem else [])


def test_the_gateway_config_is_rendered_as_portkey_documents_it() -> None:
    from compiler.integrations.portkey import gateway

    config = {
        "routing": {
            "strategy": "loadbalance",
            "onStatusCodes": [429],
            "targets": [{"virtualKey": "a", "weight": 0.7}, {"virtualKey": "b", "weight": 0.3, "model": "gpt-4o"}],
        },
        "retry": {"attempts": 3, "onStatusCodes": [429, 503]},
        "cache": {"mode": "semantic", "maxAge": "1h"},
    }
    assert gateway(config) == {
        "strategy": {"mode": "loadbalance"},  # on_status_codes moves a fallback on; a load balance has none
        "targets": [
            {"virtual_key": "a", "weight": 0.7},
            {"virtual_key": "b", "weight": 0.3, "override_params": {"model": "gpt-4o"}},
        ],
        "retry": {"attempts": 3, "on_status_codes": [429, 503]},
        "cache": {"mode": "semantic", "max_age": 3600},
    }


def test_gong_webhook_verification_needs_the_key_it_verifies_with() -> None:
    base = (
        "  description: Calls.\n  config:\n    baseUrl: https://api.gong.io\n"
        "    rateLimit: {requestsPerSecond: 1, requestsPerDay: 500}\n"
    )
    on = base + "    webhookVerification: true\n"
    assert problems(integration("gong", "gong", on, KEY)) == [("E210", 10, 26)]
    assert problems(integration("gong", "gong", base, KEY)) == []  # not asked for: nothing to wire
    wired = on + "    webhookPublicKeyRef: webhook-key\n"
    assert problems(integration("gong", "gong", wired, KEY)) == [("E209", 11, 26)]  # no such secret
    declared = KEY + "    webhook-key: {esc: gong.webhookKey, rotation: manual}\n"
    assert problems(integration("gong", "gong", wired, declared)) == []


def test_a_new_legacy_hubspot_private_app_is_a_warning_and_an_existing_one_is_not() -> None:
    token = "    token: {esc: hubspot.token, rotation: manual}\n"
    base = "  description: CRM.\n  config:\n    portalId: '23456789'\n    scopes: [crm.objects.deals.read]\n"
    legacy = base + "    tokenKind: private-app\n"
    found, _ = units_analyse(integration("hubspot", "hubspot", legacy, token))
    (warned,) = [d for d in found if d.code == "W201"]
    assert not warned.is_error and (warned.location.line, warned.location.column) == (10, 16)
    assert "service key" in warned.message
    assert problems(integration("hubspot", "hubspot", legacy + "    privateAppId: '42'\n", token)) == []
    assert problems(integration("hubspot", "hubspot", base + "    tokenKind: service-key\n", token)) == []


def test_hubspot_webhook_subscriptions_are_one_per_event_and_property() -> None:
    secrets = "    token: {esc: hubspot.token, rotation: manual}\n    dev: {esc: hubspot.dev, rotation: manual}\n"
    body = (
        "  description: CRM.\n  config:\n    portalId: '23456789'\n    scopes: [crm.objects.deals.read]\n"
        "    webhooks:\n      appId: '7'\n      developerApiKeyRef: dev\n      targetUrl: https://example.com/h\n"
        "      subscriptions:\n        - {eventType: deal.creation}\n        - {eventType: deal.creation}\n"
    )
    assert problems(integration("hubspot", "hubspot", body, secrets)) == [("E210", 16, 11)]
    assert problems(integration("hubspot", "hubspot", body.replace("dev\n", "nokey\n", 1), secrets))[0][0] == "E209"


def test_depends_on_names_another_integration_and_never_comes_back() -> None:
    gong = GONG
    one = integration("a", "gong", gong + "  dependsOn: [b]\n", KEY)
    other = integration("b", "gong", gong + "  dependsOn: [a]\n", KEY.replace("gong.accessKey", "gong.other"))
    found = problems(one + "---\n" + other)
    assert [code for code, _, _ in found] == ["E212", "E212"]
    assert [code for code, _, _ in problems(integration("a", "gong", gong + "  dependsOn: [nobody]\n", KEY))] == [
        "E205"
    ]
    assert [code for code, _, _ in problems(integration("a", "gong", gong + "  dependsOn: [a]\n", KEY))] == ["E205"]
    ordered = model(integration("a", "gong", gong + "  dependsOn: [b]\n", KEY) + "---\n" + other.replace("[a]", "[]"))
    from compiler.targets.pulumi import MAIN

    assert [i.name for i in MAIN.integrations(ordered)] == ["b", "a"]  # what it waits for first
