"""HubSpot: the account details of the private app's token.

Documented endpoint: ``GET https://api.hubapi.com/account-info/v3/details`` with
``Authorization: Bearer <private app token>`` (developers.hubspot.com, Account
information API). The answer's ``portalId`` must be the configured ``portalId``:
a token of another portal (production's, in development) is a failure. The
granted scopes are not compared with ``config.scopes``; that would take a second call.

The fake checks the token and answers with the development portal id.
"""

from __future__ import annotations

from ...probes.context import ProbeContext, ProbeFailed
from ...probes.http import field, payload

BASE = "https://api.hubapi.com"


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": f"Bearer {ctx.secret('private-app-token')}"}
    url = ctx.base_url(BASE) + "/account-info/v3/details"
    response = await ctx.http.request("account details", "GET", url, headers=headers)
    portal = str(field(payload(response), "portalId"))
    expected = str(ctx.config["portalId"])
    if portal != expected:
        raise ProbeFailed(f"the token belongs to HubSpot portal {portal}, not the configured portalId {expected}")
    ctx.http.note(f"portal {portal}")
