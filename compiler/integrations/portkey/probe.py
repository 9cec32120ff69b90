"""Portkey: each AI provider (virtual key) of the workspace and its saved gateway config, compared
with the spec.

Documented endpoints (Portkey Admin API, ``x-portkey-api-key``; see providers.py for where they were
verified): ``GET /providers/{slug}?workspace_id=`` answers the provider with its ``usage_limits``
and ``rate_limits``; ``GET /configs?workspace_id=`` lists the workspace's configs (``data``: slug and
name) and ``GET /configs/{slug}`` answers one with its ``config``. A provider's budget, budget
reset and rate limit, and each part of the gateway config, that differ from the spec are drift.

The fake checks the header and answers with the development spec's providers and config.
"""

from __future__ import annotations

from ...probes.context import ProbeContext, ProbeFailed
from ...probes.http import field, payload
from .declared import config_drift, config_name, gateway, provider_drift, provider_settings, unwrap

BASE = "https://api.portkey.ai/v1"


async def probe(ctx: ProbeContext) -> None:
    headers = {"x-portkey-api-key": ctx.secret("api-key")}
    base = ctx.base_url(BASE)
    workspace = ctx.config.get("workspace")
    params = {"workspace_id": str(workspace)} if workspace else None
    for key in ctx.config["virtualKeys"]:
        slug = key["slug"]
        url = f"{base}/providers/{slug}"
        held = payload(await ctx.http.request(f"get provider {slug}", "GET", url, headers=headers, params=params))
        for what, declared, found in provider_drift(provider_settings(key), held):
            ctx.drift(f"provider {slug}: {what}", declared, found)
    name = config_name(ctx.project.name, ctx.env)
    listed = unwrap(
        payload(await ctx.http.request("list configs", "GET", f"{base}/configs", headers=headers, params=params))
    )
    saved = [c for c in field(listed, "data") if isinstance(c, dict) and c.get("name") == name]
    if not saved:
        raise ProbeFailed(f"the workspace holds no gateway config named {name!r}: has the stack been deployed?")
    url = f"{base}/configs/{saved[0]['slug']}"
    held = payload(await ctx.http.request("get gateway config", "GET", url, headers=headers))
    for part, declared, found in config_drift(gateway(ctx.config), held):
        ctx.drift(f"gateway config: {part}", declared, found)
    ctx.http.note(f"{len(ctx.config['virtualKeys'])} provider(s) and config {saved[0]['slug']}")
