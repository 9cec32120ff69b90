from __future__ import annotations

from ..base import IntegrationType

# The Airbyte API can create an application (new client id and secret) and
# delete the old one (POST/DELETE /v1/applications), so rotation is automatic.
ENTRY = IntegrationType(
    name="airbyte",
    title="Airbyte",
    category="data-sources",
    component="Airbyte",
    automatic_rotation=True,
    docs="https://reference.airbyte.com/reference/start",
)
