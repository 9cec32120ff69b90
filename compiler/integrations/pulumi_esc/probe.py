"""Pulumi Cloud (ESC): the identity of the access token.

Documented endpoint: ``GET https://api.pulumi.com/api/user`` with
``Authorization: token <access token>`` (pulumi.com/docs, Pulumi Cloud REST
API, "Get current user"). The token is the secret named by ``config.accessTokenSecret``.

The fake checks the token and answers with a name.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import field, payload

BASE = "https://api.pulumi.com"


async def probe(ctx: ProbeContext) -> None:
    token = ctx.secret(str(ctx.config["accessTokenSecret"]))
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.pulumi+8"}
    response = await ctx.http.request("get current user", "GET", ctx.base_url(BASE) + "/api/user", headers=headers)
    ctx.http.note(f"authenticated as {field(payload(response), 'name')!r}")
