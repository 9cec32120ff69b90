"""Lambda Cloud: the instance types offered to the account.

Documented endpoint: ``GET https://cloud.lambdalabs.com/api/v1/instance-types``
with the API key as the Basic user name and an empty password (Lambda's
documented ``curl -u <key>:``). ``apiUrl`` comes from the config.

The fake checks the Basic credentials and answers with one instance type.
"""

from __future__ import annotations

from ...probes.context import ProbeContext
from ...probes.http import basic, field, payload

DEFAULT_API = "https://cloud.lambdalabs.com/api/v1"


async def probe(ctx: ProbeContext) -> None:
    headers = {"Authorization": basic(ctx.secret("api-key"), "")}
    url = ctx.base_url(str(ctx.config.get("apiUrl", DEFAULT_API))) + "/instance-types"
    response = await ctx.http.request("list instance types", "GET", url, headers=headers)
    ctx.http.note(f"{len(field(payload(response), 'data'))} instance type(s)")
