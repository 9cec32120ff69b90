from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import IntegrationType


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the application reads (``HUBSPOT_SETTINGS``): the portal, the objects it reads and the
    client-side rate limit within HubSpot's quota for the portal's tier."""
    keys = ("portalId", "subscriptionTier", "objects", "rateLimit")
    return {"settings": {k: config[k] for k in keys if k in config}}


# Private app access tokens are rotated only from the app's page in HubSpot's
# UI; no public API creates or revokes them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="hubspot",
    title="HubSpot",
    category="data-sources",
    component="HubSpot",
    automatic_rotation=False,
    docs="https://developers.hubspot.com/docs/api/settings/account-information-api",
    references=(("webhookClientSecretRef", "app-secret"),),
    application=settings,
    rate_per_minute=lambda config: 6 * config["rateLimit"]["requestsPerTenSeconds"] if "rateLimit" in config else None,
)
