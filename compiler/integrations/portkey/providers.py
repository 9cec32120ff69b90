"""Portkey: an environment's AI providers (formerly virtual keys) with their budget and rate limit, and
its gateway config saved in Portkey, as dynamic providers over the Admin API.

Portkey's Model Catalog replaced virtual keys (``/virtual-keys`` is deprecated): an *integration*
(org-level, made once in the dashboard) holds the LLM provider's real API key; an *AI provider*
(workspace-level, made from an integration) is what the gateway routes to, by its slug, and carries
the budget and rate limit. No raw provider key passes through here.

Endpoints relied on, all under ``https://api.portkey.ai/v1`` with the header ``x-portkey-api-key``
(an Admin key, which must name ``workspace_id``, or a workspace key, which need not). Verified in
Portkey's OpenAPI spec (github.com/Portkey-AI/openapi, openapi.yaml, June 2026), its Python SDK
(Portkey-AI/portkey-python-sdk: ``apis/providers.py``, ``apis/configs.py`` and their types) and its
Terraform provider (Portkey-AI/terraform-provider-portkey: ``internal/client/client.go``):

- ``POST /providers`` ``{name, integration_id (the integration's slug), slug, workspace_id,
  usage_limits, rate_limits}`` answers ``{id, slug}``; the slug is unique in the workspace.
- ``GET /providers/{slug}?workspace_id=`` answers ``{id, slug, name, integration_id, status,
  usage_limits, rate_limits, ...}``; ``PUT`` there takes ``{name, note, usage_limits (null clears),
  rate_limits, expires_at, reset_usage}`` and answers ``{id, slug}``: the slug, integration and
  workspace cannot change, so changing one replaces the provider; ``DELETE`` there answers ``{}``.
- ``usage_limits`` is ``{type: "cost" (USD) | "tokens", credit_limit (at least 1),
  periodic_reset: "monthly" | "weekly", alert_threshold}``; ``rate_limits`` is a list of
  ``{type: "requests" | "tokens", unit: "rpm" | "rph" | "rpd", value}``.
- ``POST /configs`` ``{name, config, workspace_id}`` answers ``{id, slug, version_id}`` (the slug is
  made by Portkey); ``GET /configs?workspace_id=`` lists ``{id, slug, name, status, ...}`` in
  ``data``; ``GET /configs/{slug}`` answers the config with ``config`` as an object or as JSON text;
  ``PUT /configs/{slug}`` ``{name, config}`` saves a new version and answers ``{version_id}``;
  ``DELETE /configs/{slug}``.
- Errors carry the status and one of the codes AB01-AB09 (Portkey-AI/docs-core, api-reference/admin-api/error.mdx):
  400 validation, 401 bad key, 403 not allowed, 404 not found, 409 already exists, 429 rate limited.

Not verified, and handled both ways or left as documented: the OpenAPI spec wraps the config answers
in ``{"success": true, "data": ...}`` and leaves the slug out of the create answer, where both SDKs
and the Terraform provider read them bare with the slug (both shapes are read; a missing slug is
found by listing); the spec gives ``rate_limits`` of a create as one object but a list everywhere
else (a list is sent); an empty ``rate_limits`` list clearing the limit; the error body's exact
shape; whether ``workspace_id`` accepts a workspace slug (documented as a UUID); and whether Portkey
lets an existing budget be changed (the product pages say budgets cannot be edited once set, the
Admin API documents ``usage_limits`` as updatable: this updates in place). Portkey's answer for the
integration may be its id rather than the slug given, so a refresh keeps the declared integration
and workspace. A refresh takes only a 404 for a deleted provider or config: a 403 (AB03) may also mean
one (the Terraform provider found so for workspaces) but equally a key without the scope, and is an error.

A create whose answer is lost is not repeated blind: a provider of that slug, or the one config of
that name, is adopted and given the declared settings (a provider's slug being unique, a repeated
create could not duplicate it; a config's slug is Portkey's, so its name is looked up first).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .. import http
from . import declared

CREDENTIAL = "api_key"
SECRET_OUTPUTS = [CREDENTIAL]
AUTH = "header:x-portkey-api-key"
# Settings of a provider that Portkey updates in place; the others (slug, integration, workspace) replace it.
PROVIDER_SETTINGS = ("name", "budget_usd", "budget_reset", "requests_per_minute")
PROVIDER_FIXED = ("slug", "integration", "workspace_id")
# How the providers wait between retries; the tests record it instead.
SLEEP = time.sleep


def api(props: dict[str, Any]) -> http.Api:
    """The process's client for the props' URL and API key."""
    return http.shared(str(props["api_url"]), str(props[CREDENTIAL]), "Portkey Admin API", sleep=SLEEP, auth=AUTH)


def _scoped(path: str, props: dict[str, Any]) -> str:
    """``path`` in the props' workspace (an Admin key must name it; a workspace key implies it)."""
    workspace = props.get("workspace_id")
    return f"{path}?workspace_id={quote(str(workspace), safe='')}" if workspace else path


def _unknown(error: http.ApiError) -> bool:
    """Whether a failed create may have happened all the same (no answer, or a 5xx)."""
    return error.status is None or error.status >= 500


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


# ---------------------------------------------------------------------- AI providers


def _limits(props: dict[str, Any]) -> dict[str, Any]:
    """The provider's budget (USD, reset monthly or weekly, or never) and request rate limit as Portkey
    takes them: ``usage_limits`` None and ``rate_limits`` [] where none is declared."""
    usage: dict[str, Any] | None = None
    if props.get("budget_usd") is not None:
        usage = {"type": "cost", "credit_limit": http.whole_numbers(props["budget_usd"])}
        if props.get("budget_reset"):
            usage["periodic_reset"] = props["budget_reset"]
    rpm = props.get("requests_per_minute")
    rate = [] if rpm is None else [{"type": "requests", "unit": "rpm", "value": int(rpm)}]
    return {"usage_limits": usage, "rate_limits": rate}


def _created_body(props: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"name": props["name"], "slug": props["slug"], "integration_id": props["integration"]}
    if props.get("workspace_id"):
        body["workspace_id"] = props["workspace_id"]
    body.update({k: v for k, v in _limits(props).items() if v})
    return body


def _updated_body(props: dict[str, Any]) -> dict[str, Any]:
    return {"name": props["name"], **_limits(props)}


class AiProviderProvider(ResourceProvider):
    """One AI provider of a workspace, made from an integration, with a USD budget and a rate limit."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        try:
            made = self._make(client, props)
        except http.ApiError as error:
            # Only a create whose answer was lost adopts what it may have made. A slug already taken
            # (409) is not adopted: it may be another resource's (this one renamed, whose old self
            # would then delete it) or made by hand; removing or importing it is a person's decision.
            if not _unknown(error):
                raise
            adopted = self._adopt(client, props)
            made = adopted if adopted is not None else self._make(client, props)  # else: never made
        return CreateResult(str(props["slug"]), {**props, "provider_id": str(made.get("id", ""))})

    def _adopt(self, client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        """The provider of the props' slug (made by a request whose answer was lost, by an earlier deploy
        or by hand), given the declared settings; None where there is none."""
        held = self._held(client, props)
        if held is not None:
            path = _scoped(f"/providers/{props['slug']}", props)
            client.call(str(props["slug"]), "update AI provider", "PUT", path, _updated_body(props))
        return held

    @staticmethod
    def _make(client: http.Api, props: dict[str, Any]) -> dict[str, Any]:
        made: dict[str, Any] = client.call(
            str(props["slug"]), "create AI provider", "POST", "/providers", _created_body(props), idempotent=False
        )
        return made

    @staticmethod
    def _held(client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        """Portkey's answer for the provider of the props' slug, or None where there is none."""
        path = _scoped(f"/providers/{props['slug']}", props)
        try:
            held: dict[str, Any] = client.call(str(props["slug"]), "read AI provider", "GET", path)
        except http.ApiError as error:
            if error.status == 404:
                return None
            raise
        return held

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        held = self._held(api(props), {**props, "slug": id_})
        if held is None:
            return ReadResult(None, {})  # deleted outside Pulumi
        outs = {**props, **declared.held_settings(held), "name": held.get("name", props.get("name"))}
        return ReadResult(id_, {**outs, "provider_id": str(held.get("id") or props.get("provider_id", ""))})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, PROVIDER_FIXED)
        changes = _changed(olds, news, (*PROVIDER_SETTINGS, *PROVIDER_FIXED, "api_url", CREDENTIAL))
        # A new provider of the same slug can only be made once the old one is gone.
        return DiffResult(
            changes=bool(changes), replaces=replaces, delete_before_replace=olds.get("slug") == news.get("slug")
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, PROVIDER_SETTINGS):
            path = _scoped(f"/providers/{id_}", news)
            api(news).call(id_, "update AI provider", "PUT", path, _updated_body(news))
        return UpdateResult({**news, "provider_id": olds.get("provider_id", "")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(id_, "delete AI provider", "DELETE", _scoped(f"/providers/{id_}", props))
        except http.ApiError as error:
            if error.status != 404:
                raise


# ---------------------------------------------------------------------- gateway config


def _config_body(props: dict[str, Any]) -> dict[str, Any]:
    return {"name": props["name"], "config": http.whole_numbers(props["config"])}


def _config_changed(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether the config's name or content changed (numbers compared as Portkey stores them)."""
    return bool(_config_body(olds) != _config_body(news))


class GatewayConfigProvider(ResourceProvider):
    """The environment's gateway config saved in its workspace: a content change saves a new version
    under the same slug; another workspace replaces it."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        held = self._named(client, props)
        if held is not None:  # not adopted, for the reason AiProviderProvider.create gives
            message = f"the workspace already holds a config named {props['name']!r} (slug {held['slug']})"
            raise http.ApiError(str(props["name"]), "create config", message + ", which this stack did not make")
        try:
            return self._make(client, props)
        except http.ApiError as error:
            if not _unknown(error):
                raise
            held = self._named(client, props)
            if held is None:  # the create never happened
                return self._make(client, props)
        # The request whose answer was lost made it: it takes this config.
        version = self._save(client, str(held["slug"]), props)
        return CreateResult(str(held["slug"]), self._outs(props, held, version))

    def _make(self, client: http.Api, props: dict[str, Any]) -> CreateResult:
        body = _config_body(props)
        if props.get("workspace_id"):
            body["workspace_id"] = props["workspace_id"]
        made = declared.unwrap(client.call(props["name"], "create config", "POST", "/configs", body, idempotent=False))
        slug = made.get("slug") or self._slug_of(client, props, str(made["id"]))
        return CreateResult(str(slug), self._outs(props, {**made, "slug": slug}, str(made.get("version_id", ""))))

    @staticmethod
    def _outs(props: dict[str, Any], held: dict[str, Any], version: str) -> dict[str, Any]:
        return {**props, "config_id": str(held.get("id", "")), "slug": str(held["slug"]), "version_id": version}

    @staticmethod
    def _listed(client: http.Api, props: dict[str, Any]) -> list[dict[str, Any]]:
        listed = declared.unwrap(client.call(props["name"], "list configs", "GET", _scoped("/configs", props)))
        return list(listed["data"] if isinstance(listed, dict) else listed)

    def _slug_of(self, client: http.Api, props: dict[str, Any], config_id: str) -> str:
        """The slug of a config Portkey answered the create of with its id only."""
        found = next((c for c in self._listed(client, props) if str(c.get("id")) == config_id), None)
        if found is None:
            raise http.ApiError(props["name"], "create config", f"the new config {config_id} is not listed")
        return str(found["slug"])

    def _named(self, client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        """The workspace's one config of the props' name; several are an error (which one is ours?)."""
        named = [c for c in self._listed(client, props) if c.get("name") == props["name"]]
        if len(named) > 1:
            slugs = ", ".join(str(c.get("slug")) for c in named)
            raise http.ApiError(
                props["name"], "create config", f"the workspace has several configs of this name ({slugs})"
            )
        return named[0] if named else None

    @staticmethod
    def _save(client: http.Api, slug: str, props: dict[str, Any]) -> str:
        """The version id of the config saved with the props' name and content."""
        answer = declared.unwrap(
            client.call(props["name"], "update config", "PUT", f"/configs/{slug}", _config_body(props))
        )
        return str((answer or {}).get("version_id", ""))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            held = declared.unwrap(api(props).call(props["name"], "read config", "GET", f"/configs/{id_}"))
        except http.ApiError as error:
            if error.status == 404:
                return ReadResult(None, {})  # deleted outside Pulumi
            raise
        outs = {**props, "name": held.get("name", props["name"]), "config": declared.held_config(held)}
        return ReadResult(id_, {**outs, "version_id": str(held.get("version_id") or props.get("version_id", ""))})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = _config_changed(olds, news) or _changed(olds, news, ("workspace_id", "api_url", CREDENTIAL))
        return DiffResult(changes=bool(changes), replaces=_changed(olds, news, ("workspace_id",)))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        version = str(olds.get("version_id", ""))
        if _config_changed(olds, news):
            version = self._save(api(news), id_, news)
        return UpdateResult({**news, "config_id": olds.get("config_id", ""), "slug": id_, "version_id": version})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(props["name"], "delete config", "DELETE", f"/configs/{id_}")
        except http.ApiError as error:
            if error.status != 404:
                raise


# ---------------------------------------------------------------------- resources
# Each its own Pulumi type (pulumi-python:dynamic/portkey:<Name>), fixed before any deploy: a type
# changed later would change URNs and replace what exists.


def _secret(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` with the API key kept encrypted in state."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))


class AiProvider(pulumi.dynamic.Resource, module="portkey", name="AiProvider"):
    provider_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(AiProviderProvider(), name, {**props, "provider_id": None}, _secret(opts))


class GatewayConfig(pulumi.dynamic.Resource, module="portkey", name="GatewayConfig"):
    config_id: pulumi.Output[str]
    slug: pulumi.Output[str]
    version_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        outs = {**props, "config_id": None, "slug": None, "version_id": None}
        super().__init__(GatewayConfigProvider(), name, outs, _secret(opts))
