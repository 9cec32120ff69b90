from __future__ import annotations

from .base import IntegrationType

# Key-pair auth with two key slots lets the rotation job set the new key
# before removing the old one, so rotation is automatic and zero-downtime.
ENTRY = IntegrationType(
    name="snowflake",
    title="Snowflake",
    category="data-sources",
    component="Snowflake",
    automatic_rotation=True,
    docs="https://docs.snowflake.com/en/developer-guide/sql-api/index",
)
