"""OpenRouter: the environment's API key, managed through the key management API (a dynamic provider).

Documented endpoints (OpenRouter's OpenAPI, "Management API keys"), all with ``Authorization:
Bearer <management key>``: ``POST /keys`` ``{name, limit, limit_reset}`` answers 201 with
``{"data": {hash, name, limit, limit_reset, disabled, ...}, "key": "sk-or-v1-..."}``, the key
shown that once; ``GET /keys/{hash}`` and ``PATCH /keys/{hash}`` (name, disabled, limit,
limit_reset) answer ``{"data": {...}}``; ``DELETE /keys/{hash}`` answers ``{"deleted": true}``.
Errors are ``{"error": {"code": <status>, "message": ...}}``.

The new key is a secret output (never in a plain output or log); writing it into the ESC secrets
environment is the rotation runner's job. A create whose answer is lost cannot be recovered (the
key is shown once), so a key of the same name made since the request is deleted and made again.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .. import http

CREDENTIAL = "management_key"
SECRET_OUTPUTS = [CREDENTIAL, "key"]
PAGE = 100  # the most keys one ``GET /keys`` answers
# How the provider waits between retries; the tests record it instead.
SLEEP = time.sleep


def api(props: dict[str, Any]) -> http.Api:
    """The process's client for the props' URL and management key."""
    return http.shared(str(props["api_url"]), str(props[CREDENTIAL]), "OpenRouter API", sleep=SLEEP)


# Clock difference tolerated between this machine and OpenRouter when telling a key made by a lost
# request from an older one.
SKEW = timedelta(minutes=2)


def _created(key: dict[str, Any]) -> datetime:
    """When a key was made (its ``created_at``); the distant past when it does not say."""
    try:
        return datetime.fromisoformat(str(key.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)  # noqa: UP017


def _settings(props: dict[str, Any]) -> dict[str, Any]:
    return {"name": props["name"], "limit": props["limit"], "limit_reset": props["limit_reset"]}


class ApiKeyProvider(ResourceProvider):
    """One API key with a USD credit limit that resets (``limit_reset``)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        asked = datetime.now(timezone.utc) - SKEW  # noqa: UP017 - Python 3.10 runs it too
        try:
            answer = client.call(props["name"], "create API key", "POST", "/keys", _settings(props), idempotent=False)
        except http.ApiError as error:
            if error.status is not None and error.status < 500:
                raise
            # Lost answer: a key made then cannot be read again. Delete a key of this name made since the
            # request (never an older one: it may be in use), then make it anew.
            for found in self._named(client, props):
                if _created(found) >= asked:
                    client.call(props["name"], "delete API key", "DELETE", f"/keys/{found['hash']}")
            answer = client.call(props["name"], "create API key", "POST", "/keys", _settings(props), idempotent=False)
        data = answer["data"]
        return CreateResult(str(data["hash"]), {**props, "hash": str(data["hash"]), "key": answer["key"]})

    @staticmethod
    def _named(client: http.Api, props: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:  # every page (``offset``), until a short or empty one
            page = client.call(props["name"], "list API keys", "GET", f"/keys?offset={len(found)}")["data"]
            found += page
            if len(page) < PAGE:
                return [k for k in found if k.get("name") == props["name"]]

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            data = api(props).call(props["name"], "read API key", "GET", f"/keys/{id_}")["data"]
        except http.ApiError as error:
            if error.status == 404:
                return ReadResult(None, {})  # deleted outside Pulumi
            raise
        return ReadResult(
            id_, {**props, "name": data["name"], "limit": data["limit"], "limit_reset": data["limit_reset"]}
        )

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("name", "limit", "limit_reset", "api_url", CREDENTIAL) if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if any(olds.get(k) != news.get(k) for k in ("name", "limit", "limit_reset")):
            api(news).call(news["name"], "update API key", "PATCH", f"/keys/{id_}", _settings(news))
        return UpdateResult({**news, "hash": olds.get("hash", id_), "key": olds.get("key")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(props["name"], "delete API key", "DELETE", f"/keys/{id_}")
        except http.ApiError as error:
            if error.status != 404:
                raise


class ApiKey(pulumi.dynamic.Resource, module="openrouter", name="ApiKey"):
    hash: pulumi.Output[str]
    key: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(
            ApiKeyProvider(), name, {**props, "hash": None, "key": None}, pulumi.ResourceOptions.merge(opts, secret)
        )
