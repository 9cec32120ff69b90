"""Gong: the first page of users, with the API key pair as Basic auth.

Documented endpoint: ``GET {baseUrl}/v2/users`` ("List all users"), Basic auth with
the access key as user name and the access key secret as password
(help.gong.io, "Receive access to the API"). Gong documents no page-size
parameter, so the first page (at most 100 users) is read. ``baseUrl`` is the
account's own API host from the config.

The fake checks the Basic credentials and answers with one user.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import basic, field, payload


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": basic(ctx.secret("access-key"), ctx.secret("access-key-secret"))}
    url = ctx.base_url(str(ctx.config["baseUrl"])) + "/v2/users"
    response = await ctx.http.request("list users", "GET", url, headers=headers)
    ctx.http.note(f"{field(payload(response), 'records', 'totalRecords')} user(s)")
