from __future__ import annotations

from ..base import IntegrationType

# Flow refresh tokens are generated in the dashboard (Admin > CLI-API); there
# is no documented API to mint or revoke them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="estuary",
    title="Estuary",
    category="data-sources",
    component="Estuary",
    automatic_rotation=False,
    docs="https://docs.estuary.dev/concepts/flowctl/",
)
