"""OpenRouter's key limit provider, driven directly against a fake of the key management API on
127.0.0.1 (tests/fakes/openrouter_keys.py), and the limit as the generated program registers it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value
from compiler.integrations import http
from compiler.integrations.openrouter import providers
from tests.conftest import platform_model
from tests.fakes.openrouter_keys import OpenRouter, Server

MANAGEMENT = "sk-or-v1-" + "m4n4g3" * 10


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OpenRouter, Server, list[float]]]:
    waits: list[float] = []
    monkeypatch.setattr(providers, "SLEEP", waits.append)
    fake = OpenRouter(MANAGEMENT)
    server = Server(fake)
    try:
        yield fake, server, waits
    finally:
        server.stop()


def props(server: Server, **changes: Any) -> dict[str, Any]:
    base = {
        "api_url": server.url,
        "management_key": MANAGEMENT,
        "name": "sophia-ai-production",
        "limit": 1500.0,
        "limit_reset": "monthly",
    }
    return {**base, **changes}


PROVIDER = providers.ApiKeyLimitProvider()


def key(fake: OpenRouter, name: str, limit: float | None = None, reset: str | None = None) -> str:
    """A key in the account, as the rotation runner (or anyone) made it."""
    digest = f"h{len(fake.keys)}"
    fake.keys[digest] = {"hash": digest, "name": name, "limit": limit, "limit_reset": reset}
    return digest


def test_the_limit_reaches_every_key_of_the_environment_and_no_other(service: Any) -> None:
    fake, server, _ = service
    mine = [key(fake, "sophia-ai-production"), key(fake, "sophia-ai-production (20261201T0600Z)", 5.0, "daily")]
    other = [key(fake, "sophia-ai-production-old"), key(fake, "sophia-ai-staging (20261201T0600Z)")]
    made = PROVIDER.create(props(server))
    assert made.id == "sophia-ai-production" and made.outs["hashes"] == sorted(mine)
    assert all((fake.keys[h]["limit"], fake.keys[h]["limit_reset"]) == (1500.0, "monthly") for h in mine)
    assert all(fake.keys[h]["limit"] is None for h in other)
    assert providers.SECRET_OUTPUTS == ["management_key"]  # kept encrypted in state


def test_a_new_budget_is_patched_in_place_and_a_refresh_sees_changes(service: Any) -> None:
    fake, server, _ = service
    digest = key(fake, "sophia-ai-production")
    made = PROVIDER.create(props(server))
    news = props(server, limit=2000.0)
    assert PROVIDER.diff(made.id, made.outs, news).changes and not PROVIDER.diff(made.id, made.outs, news).replaces
    PROVIDER.update(made.id, made.outs, news)
    assert fake.keys[digest]["limit"] == 2000.0
    fake.keys[digest]["limit"] = 10.0  # changed in the dashboard
    assert PROVIDER.read(made.id, news).outs["limit"] == 10.0
    del fake.keys[digest]  # deleted outside Pulumi: no key left to hold the limit
    assert PROVIDER.read(made.id, news).outs["hashes"] == [] and PROVIDER.read(made.id, news).outs["limit"] is None
    assert PROVIDER.diff(made.id, made.outs, props(server, name="sophia-ai-prod")).replaces == ["name"]


def test_delete_leaves_the_keys_to_the_rotation_runner(service: Any) -> None:
    fake, server, _ = service
    digest = key(fake, "sophia-ai-production")
    made = PROVIDER.create(props(server))
    PROVIDER.delete(made.id, made.outs)
    assert list(fake.keys) == [digest]


def test_every_page_of_keys_is_read(service: Any) -> None:
    fake, server, _ = service
    for n in range(150):
        key(fake, f"other-{n}")
    digest = key(fake, "sophia-ai-production (20261201T0600Z)")
    assert PROVIDER.create(props(server)).outs["hashes"] == [digest]  # found on the second page
    assert fake.keys[digest]["limit"] == 1500.0


def test_429_waits_and_a_5xx_is_retried_and_a_key_that_cannot_manage_is_a_clear_error(service: Any) -> None:
    fake, server, waits = service
    key(fake, "sophia-ai-production")
    fake.fail("GET", "/keys", 429, {"Retry-After": "5"})
    fake.fail("GET", "/keys", 503)
    PROVIDER.create(props(server))
    assert 5.0 in waits
    wrong = "sk-or-v1-" + "n0tm4n" * 10
    with pytest.raises(http.ApiError) as raised:
        PROVIDER.create(props(server, management_key=wrong))
    assert "HTTP 403" in str(raised.value) and "Only management keys" in str(raised.value)
    assert wrong not in str(raised.value)


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ("development", "production")}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_program_keeps_the_environment_keys_limit_at_its_budget(runs: dict[str, StackRun], env: str) -> None:
    integration = next(i for i in platform_model().integrations if i.type.name == "openrouter")
    (limit,) = [r for r in runs[env].resources if r["type"] == "pulumi-python:dynamic/openrouter:ApiKeyLimit"]
    inputs = limit["inputs"]
    assert (inputs["name"], inputs["limit"], inputs["limit_reset"]) == (
        f"sophia-ai-{env}",
        integration.per_env[env].config["monthlyBudgetUsd"],
        "monthly",
    )
    assert secret_value(inputs["management_key"]).startswith("mock-secret-for-openrouterManagementKey")
    assert limit["additionalSecretOutputs"] == ["management_key"]
