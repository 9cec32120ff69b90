"""HubSpot: an app's webhook subscriptions and webhook settings, through the Webhooks v3 API (dynamic providers).

Which apps: only legacy public apps ("can only be used with legacy public apps", HubSpot's Webhooks v3
guide, developers.hubspot.com/docs/api-reference/2026-03/webhooks/guide). A private app's subscriptions
are edited in its settings page only ("cannot be edited programmatically via an API", Legacy private
apps overview), and an app on the developer platform (projects) declares them in
``src/app/webhooks/*-hsmeta.json`` (``settings.targetUrl``, ``settings.maxConcurrentRequests``,
``subscriptions``), deployed with ``hs project upload``: neither is managed here.

Endpoints, verified in HubSpot's generated clients, which carry the OpenAPI paths and models
(HubSpot/hubspot-api-python ``hubspot/webhooks`` at a2a528a, November 2025; HubSpot/hubspot-api-nodejs
``codegen/webhooks`` at 395cd9b, March 2026) and in the reference pages under
developers.hubspot.com/docs/api-reference/legacy/webhooks; all under ``/webhooks/v3/{appId}``:

- ``GET /subscriptions``: 200 ``{"results": [subscription, ...]}``, a subscription being ``{id (a
  string), eventType, propertyName?, objectTypeId?, active, createdAt, updatedAt?}``;
- ``POST /subscriptions`` ``{eventType, propertyName?, objectTypeId?, active?}``: 201 with the
  subscription; ``active`` defaults to false; ``propertyName`` applies to ``*.propertyChange`` events,
  ``objectTypeId`` to the generic ``object.*`` ones;
- ``GET /subscriptions/{id}``: 200 with it; ``PATCH /subscriptions/{id}`` takes ``{active}`` and nothing
  else, so a subscription's event type, property and object type never change: a change replaces it;
- ``DELETE /subscriptions/{id}``: 204;
- ``POST /subscriptions/batch/update`` ``{"inputs": [{id, active}]}``: 200, or 207 with errors; not
  used, each subscription being a resource of its own;
- ``GET /settings`` and ``PUT /settings`` ``{targetUrl, throttling: {maxConcurrentRequests}}`` (both
  required): 200 with the settings and ``createdAt``/``updatedAt``; ``DELETE /settings``: 204.

Authentication: the developer account's API key as the ``hapikey`` query parameter of every call
(security scheme ``developer_hapikey``, ``in: query``). It is not a portal credential: a private
app's token or a service key does not manage an app. The shared layer sends it in the query
(``auth="query:hapikey"``) and masks it, as sent and percent-encoded, in every error. Errors are
``{"status": "error", "message", "correlationId", "category"}``; their text is reported, masked.

Not verified: what HubSpot answers to a create of a subscription that already exists (the provider
looks before it creates, so it never asks); that ``GET /settings`` answers 404 when none are set
(taken as "deleted outside Pulumi"); the rate limit of developer-key calls (spaced to 10 a second,
HubSpot's lowest documented burst limit of 100 per 10 seconds).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .. import http

API = "https://api.hubapi.com"
CREDENTIAL = "developer_api_key"
SECRET_OUTPUTS = [CREDENTIAL]
QUERY_KEY = "hapikey"
SERVICE = "HubSpot webhooks API"
PER_SECOND = 10.0
# How the providers wait before a retry or to keep to the rate; the tests record it.
SLEEP = time.sleep

# Each prop of a subscription and its field in HubSpot's answers.
FIELDS = {
    "event_type": "eventType",
    "property_name": "propertyName",
    "object_type_id": "objectTypeId",
    "active": "active",
}
# What a subscription is: PATCH takes only ``active``, so a change to any of these replaces it.
IDENTITY = ("event_type", "property_name", "object_type_id")


def api(props: Mapping[str, Any]) -> http.Api:
    """The process's client for the props' API URL and developer API key (the ``hapikey`` query
    parameter): resources created at once share its rate limit."""
    url, key = str(props.get("api_url") or API), str(props[CREDENTIAL])
    return http.shared(url, key, SERVICE, per_second=PER_SECOND, sleep=SLEEP, auth=f"query:{QUERY_KEY}")


def secret_options(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` with the developer API key kept encrypted in state (read and delete need it)."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))


def _app(props: Mapping[str, Any]) -> str:
    """``/webhooks/v3/{appId}`` for the props' app; an app id is digits only (nothing else reaches the URL)."""
    app = str(props["app_id"])
    if not (app.isascii() and app.isdigit()):
        raise http.ApiError(f"HubSpot app {app!r}", "check the app id", "a HubSpot app id is digits only")
    return f"/webhooks/v3/{app}"


def _normal(prop: str, value: Any) -> Any:
    """A prop as compared: ``active`` a bool; any other a string, absent and empty being the same (None)."""
    if prop == "active":
        return bool(value)
    return None if value is None or value == "" else str(value)


def _changed(olds: Mapping[str, Any], news: Mapping[str, Any], props: tuple[str, ...]) -> list[str]:
    return [p for p in props if _normal(p, olds.get(p)) != _normal(p, news.get(p))]


def _unknown(error: http.ApiError) -> bool:
    """Whether a failed create may have happened all the same (no answer, or a 5xx)."""
    return error.status is None or error.status >= 500


def subscription_drift(declared: Mapping[str, Any], held: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Where a subscription HubSpot holds (its answer, camelCase fields) differs from the declared one (the
    props): ``(prop, declared, held)`` for each of event type, property name, object type and active that
    differ, in that order; empty when they agree. An absent property and an empty one are the same."""
    drift = []
    for prop, field in FIELDS.items():
        want, have = _normal(prop, declared.get(prop)), _normal(prop, held.get(field))
        if want != have:
            drift.append((prop, want, have))
    return drift


def _label(props: Mapping[str, Any]) -> str:
    """How errors name a subscription: its event, property or object type, and app."""
    what = " ".join(str(props[p]) for p in IDENTITY if props.get(p))
    return f"HubSpot webhook {what} (app {props['app_id']})"


def _subscription_body(props: Mapping[str, Any]) -> dict[str, Any]:
    body = {FIELDS[p]: props[p] for p in IDENTITY if _normal(p, props.get(p)) is not None}
    return {**body, "active": bool(props["active"])}


class WebhookSubscriptionProvider(ResourceProvider):
    """One event subscription of a public app: an event type (with its property or object type), active
    or paused. Pausing and resuming are updates in place; any other change replaces it."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        held = self._matching(client, props)
        if held is not None:
            # Not adopted: it may be another resource's (this one renamed, whose old self would then
            # delete it) or made by hand. Removing it, or importing it, is a person's decision.
            message = f"the app already holds this subscription (id {held['id']}), which this stack did not make"
            raise http.ApiError(_label(props), "subscribe", message + "; delete it in HubSpot or import it")
        path = f"{_app(props)}/subscriptions"
        try:
            found = client.call(_label(props), "subscribe", "POST", path, _subscription_body(props), idempotent=False)
        except http.ApiError as error:
            # The answer was lost: the subscription this very request may have made is adopted.
            found = self._matching(client, props) if _unknown(error) else None
            if found is None:
                raise
        subscription_id = str(found["id"])
        if any(prop == "active" for prop, _, _ in subscription_drift(props, found)):
            self._set_active(client, props, subscription_id)
        return CreateResult(subscription_id, {**props, "subscription_id": subscription_id})

    @staticmethod
    def _matching(client: http.Api, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The app's subscription to the same event, property and object type, if it has one."""
        listed = client.call(_label(props), "list subscriptions", "GET", f"{_app(props)}/subscriptions")["results"]
        same = [s for s in listed if not any(p in IDENTITY for p, _, _ in subscription_drift(props, s))]
        if len(same) > 1:
            ids = ", ".join(str(s["id"]) for s in same)
            raise http.ApiError(_label(props), "subscribe", f"the app holds several such subscriptions ({ids})")
        return same[0] if same else None

    @staticmethod
    def _set_active(client: http.Api, props: Mapping[str, Any], subscription_id: str) -> None:
        path = f"{_app(props)}/subscriptions/{subscription_id}"
        call = "resume subscription" if props["active"] else "pause subscription"
        client.call(_label(props), call, "PATCH", path, {"active": bool(props["active"])})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            held = api(props).call(_label(props), "read subscription", "GET", f"{_app(props)}/subscriptions/{id_}")
        except http.ApiError as error:
            if error.status == 404:
                return ReadResult(None, {})  # deleted outside Pulumi: refresh drops it
            raise
        outs = {prop: held.get(FIELDS[prop]) for prop in IDENTITY}
        return ReadResult(id_, {**props, **outs, "active": bool(held.get("active")), "subscription_id": id_})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("app_id", *IDENTITY))
        changes = replaces or _changed(olds, news, ("active", "api_url", CREDENTIAL))
        return DiffResult(changes=bool(changes), replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, ("active",)):
            self._set_active(api(news), news, id_)
        return UpdateResult({**news, "subscription_id": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        path = f"{_app(props)}/subscriptions/{id_}"
        try:
            api(props).call(_label(props), "delete subscription", "DELETE", path)
        except http.ApiError as error:
            if error.status != 404:
                raise


def _settings_body(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "targetUrl": str(props["target_url"]),
        "throttling": {"maxConcurrentRequests": int(props["max_concurrent_requests"])},
    }


class WebhookSettingsProvider(ResourceProvider):
    """A public app's webhook settings: where HubSpot posts events and how many requests at once. One per
    app, set whole with PUT; its id is the app id. Deleting it clears them."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._put(props)
        return CreateResult(str(props["app_id"]), dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            held = api(props).call(self._label(props), "read settings", "GET", f"{_app(props)}/settings")
        except http.ApiError as error:
            if error.status == 404:
                return ReadResult(None, {})
            raise
        concurrency = (held.get("throttling") or {}).get("maxConcurrentRequests")
        return ReadResult(id_, {**props, "target_url": held.get("targetUrl"), "max_concurrent_requests": concurrency})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("app_id",))
        changes = replaces or _changed(olds, news, ("target_url", "max_concurrent_requests", "api_url", CREDENTIAL))
        return DiffResult(changes=bool(changes), replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, ("target_url", "max_concurrent_requests")):
            self._put(news)
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(self._label(props), "clear settings", "DELETE", f"{_app(props)}/settings")
        except http.ApiError as error:
            if error.status != 404:
                raise

    @classmethod
    def _put(cls, props: Mapping[str, Any]) -> None:
        api(props).call(cls._label(props), "set settings", "PUT", f"{_app(props)}/settings", _settings_body(props))

    @staticmethod
    def _label(props: Mapping[str, Any]) -> str:
        return f"HubSpot webhook settings (app {props['app_id']})"


# ---------------------------------------------------------------------- resources
# Each its own Pulumi type (pulumi-python:dynamic/hubspot:<Name>), fixed before any deploy: a type
# changed later would change URNs and replace what exists.


class WebhookSubscription(pulumi.dynamic.Resource, module="hubspot", name="WebhookSubscription"):
    subscription_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        inputs = {"api_url": API, "property_name": None, "object_type_id": None, **props, "subscription_id": None}
        super().__init__(WebhookSubscriptionProvider(), name, inputs, secret_options(opts))


class WebhookSettings(pulumi.dynamic.Resource, module="hubspot", name="WebhookSettings"):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(WebhookSettingsProvider(), name, {"api_url": API, **props}, secret_options(opts))
