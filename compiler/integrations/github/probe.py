"""GitHub: the App's installation (App credentials) or the repository (token credentials).

Documented endpoints (docs.github.com/en/rest): with ``config.app``, a JWT signed
RS256 with the App's private key (iss = App ID, at most 10 minutes) authenticates
``GET https://api.github.com/app/installations/{installationId}``; with
``config.tokenSecret``, the token authenticates ``GET /repos/{owner}/{repo}`` of
the Project's repository. Both send ``X-GitHub-Api-Version: 2022-11-28``.

The fake verifies the JWT's claims and signature against the App's public key
(or the token) and answers with the installation or repository.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ...probes.context import ProbeContext
from ...probes.http import field, payload
from ...probes.jwt import private_key, sign

BASE = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def app_token(app: Mapping[str, Any], pem: str) -> str:
    key = private_key(pem, f"the GitHub secret '{app['privateKeySecret']}'")
    issued = int(time.time()) - 60  # GitHub allows for clock drift this way
    return sign({"iss": str(app["appId"]), "iat": issued, "exp": issued + 540}, key)


async def probe(ctx: ProbeContext) -> None:
    app = ctx.config.get("app")
    if app:
        jwt = ctx.sensitive(app_token(app, ctx.secret(str(app["privateKeySecret"]))))
        path, test = f"/app/installations/{app['installationId']}", "get app installation"
    else:
        jwt = ctx.secret(str(ctx.config["tokenSecret"]))
        path, test = f"/repos/{ctx.project.repository}", "get repository"
    headers = {**HEADERS, "Authorization": f"Bearer {jwt}"}
    response = await ctx.http.request(test, "GET", ctx.base_url(BASE) + path, headers=headers)
    data = payload(response)
    ctx.http.note(f"account {field(data, 'account', 'login')}" if app else f"repository {field(data, 'full_name')}")
