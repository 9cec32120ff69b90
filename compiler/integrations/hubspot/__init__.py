from __future__ import annotations

from ..base import IntegrationType

# Private app access tokens are rotated only from the app's page in HubSpot's
# UI; no public API creates or revokes them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="hubspot",
    title="HubSpot",
    category="data-sources",
    component="HubSpot",
    automatic_rotation=False,
    docs="https://developers.hubspot.com/docs/api/settings/account-information-api",
)
