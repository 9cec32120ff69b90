from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import IntegrationType


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the application reads (``GONG_SETTINGS``): the API base URL, the workspace, the client-side
    rate limit within Gong's per-company quota, the sync window, and whether webhooks are verified."""
    keys = ("baseUrl", "workspaceId", "rateLimit", "sync", "webhookVerification")
    return {"settings": {k: config[k] for k in keys if k in config}}


def problems(config: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Verifying Gong's signed webhook JWTs needs Gong's public key, which the application reads from ESC."""
    if config.get("webhookVerification") is True and "webhookPublicKeyRef" not in config:
        message = "webhook verification needs webhookPublicKeyRef: the secret holding the public key Gong signs with"
        return [(("webhookVerification",), message)]
    return []


# Gong access keys are created and revoked only in Gong's admin settings UI;
# the API has no endpoint to mint them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="gong",
    title="Gong",
    category="data-sources",
    component="Gong",
    automatic_rotation=False,
    docs="https://gong.app.gong.io/settings/api/documentation",
    references=(("webhookPublicKeyRef", "app-secret"),),
    application=settings,
    rate_per_minute=lambda config: 60 * config["rateLimit"]["requestsPerSecond"] if "rateLimit" in config else None,
    config_problems=problems,
)
