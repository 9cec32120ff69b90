"""AWS: reported as skipped.

The cheap documented read is STS ``GetCallerIdentity``, which needs SigV4 request
signing. No maintained signing library (botocore) is a dependency, and signing
by hand is not something to fake; AWS is also reached through short-lived GitHub
OIDC role credentials, not a stored secret. So the check says why it did not run.
"""

from __future__ import annotations

from ...probes.context import ProbeContext, Skipped

REASON = (
    "STS GetCallerIdentity needs SigV4 request signing, and no maintained signing library (botocore) "
    "is installed; AWS is reached with short-lived GitHub OIDC credentials, not a stored secret"
)


async def probe(ctx: ProbeContext) -> None:
    raise Skipped(REASON)
