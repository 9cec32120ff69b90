"""OpenRouter's API key provider, driven directly against a fake of the key management API on
127.0.0.1 (tests/fakes/openrouter_keys.py), and the key as the generated program registers it."""

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


PROVIDER = providers.ApiKeyProvider()


def test_a_key_is_created_with_its_monthly_limit_and_its_value_kept_as_a_secret(service: Any) -> None:
    fake, server, _ = service
    made = PROVIDER.create(props(server))
    assert fake.keys[made.id] == {**fake.keys[made.id], "name": "sophia-ai-production", "limit": 1500.0}
    assert fake.keys[made.id]["limit_reset"] == "monthly"
    assert made.outs["key"] == fake.values[made.id] and made.outs["hash"] == made.id
    assert providers.SECRET_OUTPUTS == ["management_key", "key"]  # both kept encrypted in state


def test_a_new_budget_is_patched_in_place_and_a_refresh_sees_changes(service: Any) -> None:
    fake, server, _ = service
    made = PROVIDER.create(props(server))
    news = props(server, limit=2000.0)
    assert PROVIDER.diff(made.id, made.outs, news).changes and not PROVIDER.diff(made.id, made.outs, news).replaces
    updated = PROVIDER.update(made.id, made.outs, news).outs
    assert fake.keys[made.id]["limit"] == 2000.0 and updated["key"] == made.outs["key"]
    fake.keys[made.id]["limit"] = 10.0  # changed in the dashboard
    assert PROVIDER.read(made.id, updated).outs["limit"] == 10.0
    del fake.keys[made.id]
    assert PROVIDER.read(made.id, updated).id is None


def test_delete_removes_the_key_and_tolerates_one_already_gone(service: Any) -> None:
    fake, server, _ = service
    made = PROVIDER.create(props(server))
    PROVIDER.delete(made.id, made.outs)
    assert fake.keys == {}
    PROVIDER.delete(made.id, made.outs)


def test_a_lost_answer_leaves_exactly_one_key_whose_value_is_known(service: Any) -> None:
    fake, server, _ = service
    fake.keys["old"] = {"hash": "old", "name": "sophia-ai-production", "created_at": "2026-01-01T00:00:00Z"}
    fake.fail_after("POST", "/keys", 502)
    made = PROVIDER.create(props(server))
    # The key the lost request made is gone; an older key of the same name (maybe in use) is left alone.
    assert sorted(fake.keys) == sorted(["old", made.id]) and made.outs["key"] == fake.values[made.id]


def test_429_waits_and_a_key_that_cannot_manage_is_a_clear_error(service: Any) -> None:
    fake, server, waits = service
    fake.fail("GET", "/keys", 429, {"Retry-After": "5"})
    fake.fail_after("POST", "/keys", 503)
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
def test_the_program_keeps_one_key_per_environment_with_its_budget(runs: dict[str, StackRun], env: str) -> None:
    integration = next(i for i in platform_model().integrations if i.type.name == "openrouter")
    (key,) = [r for r in runs[env].resources if r["type"] == "pulumi-python:dynamic/openrouter:ApiKey"]
    inputs = key["inputs"]
    assert (inputs["name"], inputs["limit"], inputs["limit_reset"]) == (
        f"sophia-ai-{env}",
        integration.per_env[env].config["monthlyBudgetUsd"],
        "monthly",
    )
    assert secret_value(inputs["management_key"]).startswith("mock-secret-for-openrouterManagementKey")
    assert sorted(key["additionalSecretOutputs"]) == ["key", "management_key"]
    assert key["protect"] == (env == "production")  # the key the application holds, and its spend
    component = next(r for r in runs[env].resources if r["urn"] == key["parent"])
    assert set(component["outputs"]["apiKey"]) == {"__secret__"}  # for the rotation runner to write to ESC


def test_a_lost_answer_finds_its_key_beyond_the_first_page(service: Any) -> None:
    fake, server, _ = service
    for n in range(150):  # other keys of the account fill the first page
        fake.keys[f"other-{n}"] = {"hash": f"other-{n}", "name": f"other-{n}", "created_at": "2026-01-01T00:00:00Z"}
    fake.fail_after("POST", "/keys", 502)
    made = PROVIDER.create(props(server))
    mine = [k for k in fake.keys.values() if k["name"] == "sophia-ai-production"]
    assert [k["hash"] for k in mine] == [made.id]  # the lost request's key found on page 2 and deleted
