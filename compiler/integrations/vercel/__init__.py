from __future__ import annotations

from ..base import IntegrationType

# Vercel's REST API creates and deletes auth tokens (POST/DELETE /v3/user/tokens),
# so a token can mint its successor; rotation is automatic. Pulumi manages the
# project with the token in the secret named api-token.
# An environment variable key may repeat with other targets (one resource per
# key and target), so environmentVariables[].key is not unique on its own.
ENTRY = IntegrationType(
    name="vercel",
    title="Vercel",
    category="infrastructure",
    component="Vercel",
    automatic_rotation=True,
    docs="https://vercel.com/docs/rest-api",
    requirements=("pulumiverse-vercel==5.21.1",),
    references=(("environmentVariables[].secret", "secret"),),
    unique_keys=("domains[]", "environmentVariables[].key+targets[]"),
    program_secrets=("api-token",),
    deploys=True,
)
