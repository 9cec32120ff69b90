"""HubSpot: the account details of the private app's token.

Documented endpoint: ``GET https://api.hubapi.com/account-info/v3/details`` with
``Authorization: Bearer <private app token>`` (developers.hubspot.com, Account
information API). The answer's ``portalId`` must be the configured ``portalId``:
a token of another portal (production's, in development) is a failure.

For a legacy private app's token (``tokenKind: private-app``), ``POST
/oauth/v2/private-apps/get/access-token-info`` with ``{"tokenKey": <token>}``
(developers.hubspot.com, Private apps, "Get access token info") answers its
``appId`` and ``scopes``: granted scopes other than ``config.scopes`` (missing,
or more than declared) and another app than ``privateAppId`` are drift. HubSpot
documents no such call for service keys, whose scopes are not compared.

The fake checks the token and answers with the development portal id, app and scopes.
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
    if ctx.config.get("tokenKind") != "private-app":
        return
    url = ctx.base_url(BASE) + "/oauth/v2/private-apps/get/access-token-info"
    body = {"tokenKey": ctx.secret("private-app-token")}
    info = payload(await ctx.http.request("access token info", "POST", url, headers=headers, json=body))
    ctx.drift("granted scopes", sorted(ctx.config["scopes"]), sorted(field(info, "scopes")))
    if "privateAppId" in ctx.config:
        ctx.drift("private app", str(ctx.config["privateAppId"]), str(field(info, "appId")))
