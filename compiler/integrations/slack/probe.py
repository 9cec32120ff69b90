"""Slack: ``auth.test`` with the bot token.

Documented endpoint: ``POST https://slack.com/api/auth.test`` with
``Authorization: Bearer <bot token>`` (api.slack.com/methods/auth.test). Slack
answers HTTP 200 even when the token is bad, with ``ok: false`` and an error
such as ``invalid_auth``; those errors are authentication failures. The token's
``team_id`` must be the configured ``teamId`` when one is set.

The fake checks the token and answers like Slack, including ``ok: false``.
"""

from __future__ import annotations

from ...probes.context import AuthFailed, ProbeContext, ProbeFailed
from ...probes.http import field, payload

BASE = "https://slack.com/api"
AUTH_ERRORS = {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission"}


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": f"Bearer {ctx.secret('bot-token')}"}
    response = await ctx.http.request("auth.test", "POST", ctx.base_url(BASE) + "/auth.test", headers=headers)
    data = payload(response)
    if field(data, "ok") is not True:
        error = str(data.get("error", "unknown error"))
        failure = AuthFailed if error in AUTH_ERRORS else ProbeFailed
        raise failure(f"{'authentication failed: ' if failure is AuthFailed else ''}auth.test answered {error}")
    team = field(data, "team_id")
    expected = ctx.config.get("teamId")
    if expected and team != expected:
        raise ProbeFailed(f"the bot token belongs to Slack team {team}, not the configured teamId {expected}")
    ctx.http.note(f"team {team}")
