"""OpenRouter: the current API key's own details.

Documented endpoint: ``GET https://openrouter.ai/api/v1/key`` with
``Authorization: Bearer <key>`` (openrouter.ai/docs, "Get current API key").
The key's label is not reported: it holds part of the key.

The fake checks the token and answers with a usage and a limit.
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
