"""Estuary Flow: the refresh token exchanged for an access token, then one live spec under the prefix.

Estuary publishes no REST API reference. Its documented interface is flowctl
with a refresh token (docs.estuary.dev, "How to generate an Estuary Flow
Refresh Token"); this check makes the calls flowctl makes, against the control
plane's PostgREST API (flowctl's default ``https://eyrcnmuzzyriypdajwdk.supabase.co/rest/v1``,
with Estuary's public anonymous ``apikey``, which flowctl ships): ``POST
/rpc/generate_access_token`` with the token's ``id`` and ``secret`` (a refresh
token is base64 of that JSON), then ``GET /live_specs_ext`` limited to one row
under ``<tenant>/<prefix>/``. An empty answer is still a success: it shows the
token is valid, and specs may not be published yet.

The fake checks the apikey, the token id and secret, issues a random access token
and accepts only it; it does not model PostgREST filtering or row-level security.
"""

from __future__ import annotations

import base64
import binascii
import json

from ...probes.context import ProbeContext, ProbeFailed
from ...probes.http import field, payload

BASE = "https://eyrcnmuzzyriypdajwdk.supabase.co/rest/v1"
# Estuary's public anonymous key of the control-plane API (not a credential: flowctl ships it).
PUBLIC_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImV5cmNubXV6enlyaXlwZGFqd2RrIiwicm9sZSI6"
    "ImFub24iLCJpYXQiOjE2NDg3NTA1NzksImV4cCI6MTk2NDMyNjU3OX0.y1OyXD3-DYMz10eGxzo1eeamVMMUwIIeOoMryTRAoco"
)


def refresh_token(value: str) -> tuple[str, str]:
    """The ``(id, secret)`` of a Flow refresh token."""
    try:
        data = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("secret"), str):
        raise ProbeFailed('the secret \'refresh-token\' is not a Flow refresh token (base64 of {"id", "secret"})')
    return data["id"], data["secret"]


async def probe(ctx: ProbeContext) -> None:
    token_id, secret = refresh_token(ctx.secret("refresh-token"))
    ctx.sensitive(secret)
    base = ctx.base_url(BASE)
    body = {"refresh_token_id": token_id, "secret": secret}
    exchange = await ctx.http.request(
        "exchange refresh token", "POST", f"{base}/rpc/generate_access_token", headers={"apikey": PUBLIC_KEY}, json=body
    )
    access = ctx.sensitive(str(field(payload(exchange), "access_token")))
    prefix = f"{ctx.config['tenant']}/{ctx.config['prefix']}/"
    params = {"select": "catalog_name", "catalog_name": f"like.{prefix}*", "limit": "1"}
    headers = {"apikey": PUBLIC_KEY, "Authorization": f"Bearer {access}"}
    url = f"{base}/live_specs_ext"
    rows = payload(await ctx.http.request("read live specs", "GET", url, headers=headers, params=params))
    ctx.http.note(f"specs under {prefix}" if rows else f"no spec published under {prefix} yet")
