"""Estuary Flow: the refresh token exchanged for an access token, then one live spec under the prefix.

Estuary publishes no REST API reference. Its documented interface is flowctl
with a refresh token (docs.estuary.dev, "How to generate an Estuary Flow
Refresh Token"); this check makes the calls flowctl makes, against the control
plane's PostgREST API (flowctl's default ``https://eyrcnmuzzyriypdajwdk.supabase.co/rest/v1``,
with Estuary's public anonymous ``apikey``, which flowctl ships): ``POST
/rpc/generate_access_token`` with the token's ``id`` and ``secret`` (a refresh
token is base64 of that JSON), then ``GET /live_specs_ext`` for the catalog's tasks (``catalog_name=in.(...)``,
``select=catalog_name,spec``): a task the catalog names that is not live, and a
live task whose interval, connector image or followed capture differ from the
catalog the spec renders, are drift.

The fake checks the apikey, the token id and secret, issues a random access token
and accepts only it; it does not model PostgREST filtering or row-level security.
"""

from __future__ import annotations

import base64
import binascii
import json

from ...probes.context import ProbeContext, ProbeFailed
from ...probes.http import field, payload
from .catalog import catalog

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
    declared = catalog(ctx.config)
    tasks = {name: spec for kind in ("captures", "materializations") for name, spec in declared.get(kind, {}).items()}
    names = ",".join(f'"{name}"' for name in sorted(tasks))
    params = {"select": "catalog_name,spec", "catalog_name": f"in.({names})"}
    headers = {"apikey": PUBLIC_KEY, "Authorization": f"Bearer {access}"}
    url = f"{base}/live_specs_ext"
    rows = payload(await ctx.http.request("read live specs", "GET", url, headers=headers, params=params))
    live = {row.get("catalog_name"): row.get("spec") or {} for row in rows if isinstance(row, dict)}
    for name, spec in sorted(tasks.items()):
        if name not in live:
            ctx.drift(f"task {name}", "published", "not live")
            continue
        for what, path in (("interval", ("interval",)), ("connector", ("endpoint", "connector", "image"))):
            ctx.drift(f"task {name}: {what}", _at(spec, path), _at(live[name], path))
        ctx.drift(f"task {name}: source capture", spec.get("sourceCapture"), _source(live[name]))
    ctx.http.note(f"{len(live)} of {len(tasks)} task(s) live")


def _at(spec: object, path: tuple[str, ...]) -> object:
    for key in path:
        spec = spec.get(key) if isinstance(spec, dict) else None
    return spec


def _source(spec: dict[str, object]) -> object:
    """The capture a materialization follows (``sourceCapture``, or newer Flow's ``source.capture``)."""
    source = spec.get("sourceCapture", spec.get("source"))
    return source.get("capture") if isinstance(source, dict) else source
