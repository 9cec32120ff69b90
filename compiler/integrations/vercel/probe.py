"""Vercel: the user the access token belongs to.

Documented endpoint: ``GET https://api.vercel.com/v2/user`` with
``Authorization: Bearer <token>`` (vercel.com/docs/rest-api, "Get the User").

The fake checks the token and answers with a user name.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import field, payload

BASE = "https://api.vercel.com"


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": f"Bearer {ctx.secret('api-token')}"}
    response = await ctx.http.request("get user", "GET", ctx.base_url(BASE) + "/v2/user", headers=headers)
    ctx.http.note(f"user {field(payload(response), 'user', 'username')!r}")
