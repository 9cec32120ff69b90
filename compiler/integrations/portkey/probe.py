"""Portkey: the virtual keys the workspace API key can see.

Documented endpoint: ``GET https://api.portkey.ai/v1/virtual-keys`` with
``x-portkey-api-key`` (portkey.ai/docs, Admin API, "List Virtual Keys"; Portkey
now marks it deprecated in favour of the Providers API, and keeps it working).

The fake checks the header and answers with the configured virtual keys.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import payload

BASE = "https://api.portkey.ai/v1"


async def probe(ctx: ProbeContext) -> None:
    headers = {"x-portkey-api-key": ctx.secret("api-key")}
    url = ctx.base_url(BASE) + "/virtual-keys"
    response = await ctx.http.request("list virtual keys", "GET", url, headers=headers, params={"page_size": "1"})
    data = payload(response)
    total = data.get("total") if isinstance(data, dict) else None
    ctx.http.note(f"{total} virtual key(s)" if total is not None else "virtual keys listed")
