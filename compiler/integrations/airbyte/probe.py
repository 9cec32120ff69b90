"""Airbyte: an access token from the application's client credentials, then the environment's workspace.

Documented endpoints (reference.airbyte.com): ``POST {apiUrl}/applications/token``
with ``client_id``, ``client_secret`` and ``grant-type: client_credentials``, which
returns a short-lived ``access_token``; then ``GET {apiUrl}/workspaces/{workspaceId}``
with it as a Bearer token. ``apiUrl`` comes from the config (Airbyte Cloud by default).

Then ``GET {apiUrl}/connections?workspaceIds=<id>`` (paged with ``limit`` and
``offset``): each declared connection's schedule, status and schema-change policy
that Airbyte holds otherwise is drift, and so is a declared connection it lacks.

The fake checks the client credentials, issues a random token and accepts only
that token for the configured workspace; it does not model token expiry.
"""

from __future__ import annotations

from typing import Any

from ...probes.context import ProbeContext
from ...probes.http import field, payload
from .declared import connection_drift, connection_props

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
    held = await _connections(ctx, base, headers, workspace)
    for connection in ctx.config.get("connections", []):
        name = connection["name"]
        if name not in held:
            ctx.drift(f"connection {name}", "exists", "absent")
            continue
        for what, declared, found in connection_drift(connection_props(connection), held[name]):
            ctx.drift(f"connection {name}: {what}", declared, found)


async def _connections(ctx: ProbeContext, base: str, headers: dict[str, str], workspace: str) -> dict[str, Any]:
    """The workspace's connections by name, every page of them."""
    found: dict[str, Any] = {}
    offset, page = 0, 100
    while True:
        params = {"workspaceIds": workspace, "limit": str(page), "offset": str(offset)}
        url = f"{base}/connections"
        response = await ctx.http.request("list connections", "GET", url, headers=headers, params=params)
        data = field(payload(response), "data")
        found.update({c["name"]: c for c in data if isinstance(c, dict) and "name" in c})
        if len(data) < page:
            return found
        offset += page
