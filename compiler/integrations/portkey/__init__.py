from __future__ import annotations

from ..base import IntegrationType

# Portkey's Admin API creates and deletes API keys (POST /api-keys/{type}/{sub-type}),
# so the rotation job can issue the new key before revoking the old one.
ENTRY = IntegrationType(
    name="portkey",
    title="Portkey",
    category="ai-services",
    component="Portkey",
    automatic_rotation=True,
    docs="https://portkey.ai/docs/api-reference/admin-api/introduction",
)
