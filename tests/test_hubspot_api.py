"""HubSpot's webhook subscription and settings providers, driven directly against a fake of the Webhooks
v3 API on 127.0.0.1 (tests/fakes/hubspot_api.py), and the drift helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from compiler.harness import StackRun, secret_value
from compiler.integrations import http
from compiler.integrations.hubspot import providers
from tests.conftest import platform_model
from tests.fakes.hubspot_api import HubSpot, Server

KEY = "6a1f0c2e-90b4-4c1d-8e2a-" + "d3v3l0p3r" * 2
APP = "1234567"
SUBSCRIPTIONS = f"/webhooks/v3/{APP}/subscriptions"
SETTINGS = f"/webhooks/v3/{APP}/settings"

Service = tuple[HubSpot, Server, list[float]]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    waits: list[float] = []
    monkeypatch.setattr(providers, "SLEEP", waits.append)
    fake = HubSpot(KEY)
    fake.add_app(APP)
    server = Server(fake)
    try:
        yield fake, server, waits
    finally:
        server.stop()


def subscription(server: Server, **changes: Any) -> dict[str, Any]:
    base = {
        "api_url": server.url,
        "app_id": APP,
        "developer_api_key": KEY,
        "event_type": "contact.propertyChange",
        "property_name": "email",
        "object_type_id": None,
        "active": True,
    }
    return {**base, **changes}


def settings(server: Server, **changes: Any) -> dict[str, Any]:
    base = {
        "api_url": server.url,
        "app_id": APP,
        "developer_api_key": KEY,
        "target_url": "https://hooks.example.com/hubspot",
        "max_concurrent_requests": 10,
    }
    return {**base, **changes}


SUBSCRIPTION = providers.WebhookSubscriptionProvider()
SETTINGS_PROVIDER = providers.WebhookSettingsProvider()


# ---------------------------------------------------------------------- subscriptions


def test_a_subscription_is_created_with_the_key_in_the_query_only(service: Service) -> None:
    fake, server, _ = service
    made = SUBSCRIPTION.create(subscription(server))
    held = fake.subscriptions[APP][made.id]
    assert (held["eventType"], held["propertyName"], held["active"]) == ("contact.propertyChange", "email", True)
    assert "objectTypeId" not in held and made.outs["subscription_id"] == made.id
    assert set(fake.authorizations) == {""}  # the key never travels in a header
    assert providers.SECRET_OUTPUTS == ["developer_api_key"]


def test_an_object_event_is_created_with_its_object_type(service: Service) -> None:
    fake, server, _ = service
    made = SUBSCRIPTION.create(
        subscription(server, event_type="object.creation", property_name="", object_type_id="0-3")
    )
    held = fake.subscriptions[APP][made.id]
    assert (held["eventType"], held["objectTypeId"]) == ("object.creation", "0-3") and "propertyName" not in held


def test_pausing_is_patched_in_place_and_a_refresh_sees_changes_and_deletion(service: Service) -> None:
    fake, server, _ = service
    made = SUBSCRIPTION.create(subscription(server))
    news = subscription(server, active=False)
    diff = SUBSCRIPTION.diff(made.id, made.outs, news)
    assert diff.changes and not diff.replaces
    outs = SUBSCRIPTION.update(made.id, made.outs, news).outs
    assert fake.subscriptions[APP][made.id]["active"] is False and outs["subscription_id"] == made.id
    fake.subscriptions[APP][made.id]["active"] = True  # resumed in the developer account
    assert SUBSCRIPTION.read(made.id, outs).outs["active"] is True
    del fake.subscriptions[APP][made.id]
    assert SUBSCRIPTION.read(made.id, outs).id is None


def test_a_new_event_property_object_or_app_replaces_and_nothing_is_patched_for_them(service: Service) -> None:
    _, server, _ = service
    olds = subscription(server)
    assert SUBSCRIPTION.diff("1", olds, subscription(server, property_name="firstname")).replaces == ["property_name"]
    assert SUBSCRIPTION.diff("1", olds, subscription(server, event_type="deal.propertyChange")).replaces == [
        "event_type"
    ]
    assert SUBSCRIPTION.diff("1", olds, subscription(server, app_id="7654321")).replaces == ["app_id"]
    rotated = SUBSCRIPTION.diff("1", olds, subscription(server, developer_api_key="another-key"))
    assert rotated.changes and not rotated.replaces
    assert not SUBSCRIPTION.diff("1", {**olds, "object_type_id": ""}, olds).changes  # empty and absent are one


def test_delete_removes_the_subscription_and_tolerates_one_already_gone(service: Service) -> None:
    fake, server, _ = service
    made = SUBSCRIPTION.create(subscription(server))
    SUBSCRIPTION.delete(made.id, made.outs)
    assert fake.subscriptions[APP] == {}
    SUBSCRIPTION.delete(made.id, made.outs)


def test_a_lost_create_answer_adopts_the_subscription_it_made_rather_than_make_another(service: Service) -> None:
    fake, server, _ = service
    fake.fail_after("POST", SUBSCRIPTIONS, 502)
    made = SUBSCRIPTION.create(subscription(server))
    assert list(fake.subscriptions[APP]) == [made.id]
    assert [c[0] for c in fake.calls] == ["GET", "POST", "GET"]


def test_a_subscription_already_there_is_refused_not_adopted(service: Service) -> None:
    """Adopting it would let a renamed resource's old self delete it; a person decides."""
    fake, server, _ = service
    fake.subscriptions[APP]["55"] = {"id": "55", "eventType": "contact.propertyChange", "propertyName": "email"}
    fake.subscriptions[APP]["55"]["active"] = False
    fake.subscriptions[APP]["56"] = {"id": "56", "eventType": "contact.propertyChange", "propertyName": "phone"}
    with pytest.raises(http.ApiError, match=r"already holds this subscription \(id 55\)"):
        SUBSCRIPTION.create(subscription(server))
    assert fake.subscriptions[APP]["55"]["active"] is False and len(fake.subscriptions[APP]) == 2


def test_a_429_waits_its_retry_after_and_a_5xx_is_retried(service: Service) -> None:
    fake, server, waits = service
    made = SUBSCRIPTION.create(subscription(server))
    fake.fail("PATCH", f"{SUBSCRIPTIONS}/{made.id}", 429, {"Retry-After": "7"})
    SUBSCRIPTION.update(made.id, made.outs, subscription(server, active=False))
    assert 7.0 in waits and fake.subscriptions[APP][made.id]["active"] is False
    fake.fail("GET", f"{SUBSCRIPTIONS}/{made.id}", 503)
    assert SUBSCRIPTION.read(made.id, made.outs).id == made.id
    assert 1.0 in waits  # the layer's first backoff


def test_a_create_refused_for_good_is_not_looked_for_again(service: Service) -> None:
    fake, server, _ = service
    with pytest.raises(http.ApiError) as raised:
        SUBSCRIPTION.create(subscription(server, event_type="nonsense"))
    assert "HTTP 400" in str(raised.value) and [c[0] for c in fake.calls] == ["GET", "POST"]


# ---------------------------------------------------------------------- the key in errors


def test_a_wrong_key_is_a_clear_error_without_the_key(service: Service) -> None:
    _, server, _ = service
    wrong = "0000aaaa-bbbb-cccc-dddd-" + "wr0ngk3y" * 2
    with pytest.raises(http.ApiError) as raised:
        SUBSCRIPTION.create(subscription(server, developer_api_key=wrong))
    assert "HTTP 401" in str(raised.value) and "INVALID_AUTHENTICATION" in str(raised.value)
    assert wrong not in str(raised.value)


@pytest.mark.parametrize("key", [KEY, "k3y+with/signs=" + "x" * 20])
def test_an_answer_quoting_the_url_has_the_key_masked_as_sent(service: Service, key: str) -> None:
    fake, server, _ = service
    fake.developer_api_key = key
    with pytest.raises(http.ApiError) as raised:
        SUBSCRIPTION.create(subscription(server, developer_api_key=key, app_id="42"))  # an app it lacks
    text = str(raised.value)
    assert "HTTP 404" in text and "hapikey=***" in text
    assert key not in text and quote_plus(key) not in text


def test_an_error_of_any_kind_that_quotes_the_url_is_masked() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"could not send {request.url}")

    client = http.Api(
        base_url="https://api.hubapi.com",
        credential=KEY,
        service="HubSpot",
        auth="query:hapikey",
        transport=httpx.MockTransport(broken),
    )
    with pytest.raises(http.ApiError) as raised:
        client.call("webhook", "list subscriptions", "GET", SUBSCRIPTIONS)
    assert "RuntimeError" in str(raised.value) and "hapikey=***" in str(raised.value) and KEY not in str(raised.value)


def test_an_app_id_that_is_not_digits_never_reaches_a_url(service: Service) -> None:
    fake, server, _ = service
    with pytest.raises(http.ApiError, match="digits only"):
        SUBSCRIPTION.create(subscription(server, app_id="123/../../other"))
    assert fake.calls == []


# ---------------------------------------------------------------------- settings


def test_settings_are_put_read_updated_and_cleared(service: Service) -> None:
    fake, server, _ = service
    made = SETTINGS_PROVIDER.create(settings(server))
    assert made.id == APP and fake.settings[APP]["targetUrl"] == "https://hooks.example.com/hubspot"
    assert fake.settings[APP]["throttling"] == {"maxConcurrentRequests": 10}
    news = settings(server, max_concurrent_requests=20)
    diff = SETTINGS_PROVIDER.diff(made.id, made.outs, news)
    assert diff.changes and not diff.replaces
    outs = SETTINGS_PROVIDER.update(made.id, made.outs, news).outs
    assert fake.settings[APP]["throttling"]["maxConcurrentRequests"] == 20
    fake.settings[APP]["targetUrl"] = "https://elsewhere.example.com/"  # changed in the developer account
    assert SETTINGS_PROVIDER.read(made.id, outs).outs["target_url"] == "https://elsewhere.example.com/"
    SETTINGS_PROVIDER.delete(made.id, outs)
    assert APP not in fake.settings
    assert SETTINGS_PROVIDER.read(made.id, outs).id is None  # cleared outside Pulumi: refresh drops it
    SETTINGS_PROVIDER.delete(made.id, outs)


def test_settings_of_another_app_replace(service: Service) -> None:
    _, server, _ = service
    olds = settings(server)
    assert SETTINGS_PROVIDER.diff(APP, olds, settings(server, app_id="7654321")).replaces == ["app_id"]
    assert not SETTINGS_PROVIDER.diff(APP, olds, settings(server)).changes


def test_settings_wait_out_a_429_and_retry_a_5xx_and_hide_the_key(service: Service) -> None:
    fake, server, waits = service
    fake.fail("PUT", SETTINGS, 429, {"Retry-After": "3"})
    fake.fail("PUT", SETTINGS, 500)
    SETTINGS_PROVIDER.create(settings(server))
    assert 3.0 in waits and 2.0 in waits and fake.settings[APP]["targetUrl"].startswith("https://")
    wrong = "ffff0000-1111-2222-3333-" + "n0tth3k3y" * 2
    with pytest.raises(http.ApiError) as raised:
        SETTINGS_PROVIDER.read(APP, settings(server, developer_api_key=wrong))
    assert "HTTP 401" in str(raised.value) and wrong not in str(raised.value)


# ---------------------------------------------------------------------- drift


def test_drift_names_each_field_that_differs_with_both_values() -> None:
    declared = {"event_type": "contact.propertyChange", "property_name": "email", "active": True}
    held = {"id": "5", "eventType": "contact.propertyChange", "propertyName": "phone", "active": False}
    assert providers.subscription_drift(declared, held) == [
        ("property_name", "email", "phone"),
        ("active", True, False),
    ]
    assert providers.subscription_drift({**declared, "object_type_id": ""}, {**held, "propertyName": "email"}) == [
        ("active", True, False)
    ]
    assert providers.subscription_drift({**declared, "active": False}, {**held, "propertyName": "email"}) == []


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ("development", "production")}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_program_keeps_the_declared_webhook_settings_and_subscriptions(runs: dict[str, StackRun], env: str) -> None:
    hooks = next(i for i in platform_model().integrations if i.type.name == "hubspot").per_env[env].config["webhooks"]
    made = {r["name"]: r for r in runs[env].resources if r["type"].startswith("pulumi-python:dynamic/hubspot:")}
    settings = made.pop("hubspot.webhook-settings")
    assert (settings["inputs"]["app_id"], settings["inputs"]["target_url"]) == (hooks["appId"], hooks["targetUrl"])
    assert settings["inputs"]["max_concurrent_requests"] == hooks["maxConcurrentRequests"]
    assert secret_value(settings["inputs"]["developer_api_key"]).startswith("mock-secret-for-hubspotDeveloperApiKey")
    declared = {(h["eventType"], h.get("propertyName"), h.get("active", True)) for h in hooks["subscriptions"]}
    assert {
        (r["inputs"]["event_type"], r["inputs"].get("property_name"), r["inputs"]["active"]) for r in made.values()
    } == declared
    for subscription in made.values():
        assert settings["urn"] in subscription["dependencies"]  # the target is set before events are asked for
        assert subscription["additionalSecretOutputs"] == ["developer_api_key"]
