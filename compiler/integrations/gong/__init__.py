from __future__ import annotations

from ..base import IntegrationType

# Gong access keys are created and revoked only in Gong's admin settings UI;
# the API has no endpoint to mint them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="gong",
    title="Gong",
    category="data-sources",
    component="Gong",
    automatic_rotation=False,
    docs="https://gong.app.gong.io/settings/api/documentation",
)
