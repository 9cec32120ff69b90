from __future__ import annotations

from ..base import IntegrationType

# OpenRouter's key management API (/api/v1/keys, with a provisioning key)
# creates and deletes API keys, so rotation is automatic and zero-downtime.
ENTRY = IntegrationType(
    name="openrouter",
    title="OpenRouter",
    category="ai-services",
    component="OpenRouter",
    automatic_rotation=True,
    docs="https://openrouter.ai/docs/api-reference/overview",
)
