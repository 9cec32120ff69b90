"""Airbyte: an access token from the application's client credentials, then the environment's workspace.

Documented endpoints (reference.airbyte.com): ``POST {apiUrl}/applications/token``
with ``client_id``, ``client_secret`` and ``grant-type: client_credentials``, which
returns a short-lived ``access_token``; then ``GET {apiUrl}/workspaces/{workspaceId}``
with it as a Bearer token. ``apiUrl`` comes from the config (Airbyte Cloud by default).

The fake checks the client credentials, issues a random token and accepts only
that token for the configured workspace; it does not model token expiry.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import field, payload

DEFAULT_API = "https://api.airbyte.com/v1"


async def _access_token(ctx: ProbeContext, base: str) -> str:
    body = {
        "client_id": ctx.secret("client-id"),
        "client_secret": ctx.secret("client-secret"),
        "grant-type": "client_credentials",
    }
    response = await ctx.http.request("get access token", "POST", f"{base}/applications/token", json=body)
    return ctx.sensitive(str(field(payload(response), "access_token")))


async def probe(ctx: ProbeContext) -> None:
    base = ctx.base_url(str(ctx.config.get("apiUrl", DEFAULT_API)))
    headers = {"Authorization": f"Bearer {await _access_token(ctx, base)}"}
    workspace = str(ctx.config["workspaceId"])
    response = await ctx.http.request("get workspace", "GET", f"{base}/workspaces/{workspace}", headers=headers)
    ctx.http.note(f"workspace {field(payload(response), 'name')!r}")
