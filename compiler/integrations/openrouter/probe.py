"""OpenRouter: the current API key's own details.

Documented endpoint: ``GET https://openrouter.ai/api/v1/key`` with
``Authorization: Bearer <key>`` (openrouter.ai/docs, "Get current API key").
The key's label is not reported: it holds part of the key.

The key's credit ``limit`` and its ``limit_reset`` are compared with the spec's
``monthlyBudgetUsd`` and monthly reset (drift: changed in the dashboard, or a
deploy not yet run).

The fake checks the token and answers with a usage, a limit and its reset.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import field, payload

BASE = "https://openrouter.ai/api/v1"


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": f"Bearer {ctx.secret('api-key')}"}
    response = await ctx.http.request("get current key", "GET", ctx.base_url(BASE) + "/key", headers=headers)
    data = field(payload(response), "data")
    ctx.http.note(f"usage {data.get('usage')} of limit {data.get('limit')}")
    ctx.drift("credit limit (USD)", float(ctx.config["monthlyBudgetUsd"]), _number(data.get("limit")))
    ctx.drift("credit limit reset", "monthly", data.get("limit_reset"))


def _number(value: object) -> object:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
