"""OpenRouter: the environment's API key, issued and revoked through the key management API with the
management key (``managementKeyRef``), for ``sophia-iac rotate``.

Documented endpoints (OpenRouter's OpenAPI, "Management API keys"), ``Authorization: Bearer <management
key>``: ``POST /keys`` ``{name, limit, limit_reset}`` answers 201 ``{"data": {hash, ...}, "key": ...}`` (the
key shown that once); ``GET /keys?offset=<n>`` lists them (100 a page); ``DELETE /keys/{hash}``. Each key
is made with the spec's monthly limit, which the program's ``ApiKeyLimit`` then keeps.
"""

from __future__ import annotations

from typing import Any

from ...rotation.context import RotateContext
from .. import http
from .naming import key_name, keys

API = "https://openrouter.ai/api/v1"


def _api(ctx: RotateContext) -> http.Api:
    management = ctx.secret(str(ctx.config["managementKeyRef"]))
    url = ctx.base_url(str(ctx.config.get("apiUrl", API)))
    return http.Api(base_url=url, credential=management, service="OpenRouter API", sleep=ctx.sleep)


def base_name(ctx: RotateContext) -> str:
    return key_name(ctx.project.name, ctx.env)


def create(ctx: RotateContext, secret: str, name: str) -> tuple[str, str]:
    body: dict[str, Any] = {"name": name, "limit": float(ctx.config["monthlyBudgetUsd"]), "limit_reset": "monthly"}
    answer = _api(ctx).call(name, "create API key", "POST", "/keys", body, idempotent=False)
    return str(answer["data"]["hash"]), str(answer["key"])


def find(ctx: RotateContext, secret: str, name: str) -> list[str]:
    return [str(k["hash"]) for k in keys(_api(ctx), base_name(ctx)) if k.get("name") == name]


def revoke(ctx: RotateContext, secret: str, id_: str) -> None:
    try:
        _api(ctx).call(id_, "delete API key", "DELETE", f"/keys/{id_}")
    except http.ApiError as error:
        if error.status != 404:
            raise


def existing(ctx: RotateContext, secret: str) -> list[str]:
    """The environment's keys already there (a first rotation retires them after the overlap)."""
    return [str(k["hash"]) for k in keys(_api(ctx), base_name(ctx))]
