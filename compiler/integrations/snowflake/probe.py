"""Snowflake: ``SELECT 1`` through the SQL API, authenticated with a key-pair JWT.

Documented endpoint: ``POST https://<account>.snowflakecomputing.com/api/v2/statements``
(docs.snowflake.com/en/developer-guide/sql-api/authenticating) with
``Authorization: Bearer <JWT>`` and ``X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT``.
The JWT is RS256 with iss ``<ACCOUNT>.<USER>.SHA256:<fingerprint of the public key>``,
sub ``<ACCOUNT>.<USER>`` and a lifetime of at most an hour.

It connects as the service user (``config.serviceUser``, secret ``private-key``),
the identity Sophia AI itself uses, in its default role and without a warehouse:
a constant ``SELECT`` needs none, so the check spends no credits.

The fake checks the header, the claims and the RS256 signature against the public
key and answers with a fixed result set; it does not model statement handles,
asynchronous execution (202) or result partitions.
"""

from __future__ import annotations

import time

from ...probes.context import ProbeContext
from ...probes.http import field, payload
from ...probes.jwt import fingerprint, private_key, sign

SECRET = "private-key"
LIFETIME = 300


def token(account: str, user: str, pem: str) -> str:
    key = private_key(pem, f"the Snowflake secret '{SECRET}'")
    issued = int(time.time())
    qualified = f"{account}.{user}"
    claims = {"iss": f"{qualified}.{fingerprint(key)}", "sub": qualified, "iat": issued, "exp": issued + LIFETIME}
    return sign(claims, key)


def _host(account: str) -> str:
    # Hostnames take the account identifier in lower case, with '-' for '_'.
    return f"https://{account.lower().replace('_', '-')}.snowflakecomputing.com"


async def probe(ctx: ProbeContext) -> None:
    # The JWT names the account without any region or ".global" suffix, in upper case.
    account = str(ctx.config["account"]).split(".")[0].upper()
    service_user = ctx.config["serviceUser"]
    jwt = ctx.sensitive(token(account, str(service_user["name"]).upper(), ctx.secret(SECRET)))
    headers = {"Authorization": f"Bearer {jwt}", "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"}
    body = {"statement": "SELECT 1"}
    if service_user.get("defaultRole"):
        body["role"] = str(service_user["defaultRole"])
    url = ctx.base_url(_host(account)) + "/api/v2/statements"
    response = await ctx.http.request("sql-api SELECT 1", "POST", url, headers=headers, json=body)
    if response.status_code == 202:
        ctx.http.note("statement accepted, still running")
        return
    ctx.http.note(f"{len(field(payload(response), 'data'))} row(s)")
