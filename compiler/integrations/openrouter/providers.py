"""OpenRouter: the monthly credit limit of the environment's API keys, kept through the key management
API (a dynamic provider).

The keys themselves are the rotation runner's (``sophia-iac rotate``, see rotate.py): it creates each
one with the spec's limit, writes it into the ESC secrets environment and deletes the one it replaces
after the policy's overlap. They are named ``<project>-<environment>`` plus a rotation stamp in
parentheses (:func:`belongs`). This resource keeps every such key's ``limit`` and ``limit_reset`` at
what the spec declares, so a budget edit is a change ``plan --diff`` shows and ``pulumi up`` applies;
it never creates or deletes a key.

Documented endpoints (OpenRouter's OpenAPI, "Management API keys"), all with ``Authorization: Bearer
<management key>``: ``GET /keys?offset=<n>`` lists keys (``data``, 100 a page) with ``hash``, ``name``,
``limit``, ``limit_reset``; ``PATCH /keys/{hash}`` (``name``, ``disabled``, ``limit``, ``limit_reset``)
answers ``{"data": {...}}``. Errors are ``{"error": {"code": <status>, "message": ...}}``.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .. import http
from .naming import keys

CREDENTIAL = "management_key"
SECRET_OUTPUTS = [CREDENTIAL]
# How the provider waits between retries; the tests record it instead.
SLEEP = time.sleep


def api(props: dict[str, Any]) -> http.Api:
    """The process's client for the props' URL and management key."""
    return http.shared(str(props["api_url"]), str(props[CREDENTIAL]), "OpenRouter API", sleep=SLEEP)


def _limits(props: dict[str, Any]) -> dict[str, Any]:
    return {"limit": props["limit"], "limit_reset": props["limit_reset"]}


class ApiKeyLimitProvider(ResourceProvider):
    """The limit of every key of the environment (its id is the keys' name)."""

    serialize_as_secret_always = False

    def _apply(self, props: dict[str, Any]) -> list[str]:
        client = api(props)
        held = keys(client, props["name"])
        for key in held:
            if {"limit": key.get("limit"), "limit_reset": key.get("limit_reset")} != _limits(props):
                client.call(props["name"], "set API key limit", "PATCH", f"/keys/{key['hash']}", _limits(props))
        return sorted(str(k["hash"]) for k in held)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(props["name"]), {**props, "hashes": self._apply(props)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        held = keys(api(props), id_)
        limits = {(k.get("limit"), k.get("limit_reset")) for k in held}
        # One limit on every key reads as that limit; keys that disagree read as none (a change to apply).
        limit, reset = next(iter(limits)) if len(limits) == 1 else (None, None)
        hashes = sorted(str(k["hash"]) for k in held)
        return ReadResult(id_, {**props, "limit": limit, "limit_reset": reset, "hashes": hashes})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("limit", "limit_reset", "api_url", CREDENTIAL) if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=["name"] if olds.get("name") != news.get("name") else [])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "hashes": self._apply(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing: the keys are the rotation runner's; removing the limit from the program leaves them as they are."""


class ApiKeyLimit(pulumi.dynamic.Resource, module="openrouter", name="ApiKeyLimit"):
    hashes: pulumi.Output[list[str]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(
            ApiKeyLimitProvider(), name, {**props, "hashes": None}, pulumi.ResourceOptions.merge(opts, secret)
        )
