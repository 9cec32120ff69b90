from __future__ import annotations

from .base import IntegrationType

# Vercel's REST API creates and deletes auth tokens (POST/DELETE /v3/user/tokens),
# so a token can mint its successor; rotation is automatic.
ENTRY = IntegrationType(
    name="vercel",
    title="Vercel",
    category="infrastructure",
    component="Vercel",
    automatic_rotation=True,
    docs="https://vercel.com/docs/rest-api",
    references=(("environmentVariables[].secret", "secret"),),
)
