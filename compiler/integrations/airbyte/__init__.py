from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import IntegrationType
from .declared import connection_props, problems


def config_problems(config: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What Airbyte would refuse: a connection between a source or destination the config does not
    declare, or with a schedule its Quartz cron cannot express."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, connection in enumerate(config.get("connections", [])):
        for end, kind in (("source", "sources"), ("destination", "destinations")):
            declared = [item["name"] for item in config.get(kind, [])]
            if connection.get(end) not in declared:
                known = ", ".join(declared) or "none"
                message = f"{end} '{connection.get(end)}' is not one of the {kind} declared here ({known})"
                out.append((("connections", i, end), message))
        for field, why in problems(connection_props(connection)):
            where = {"schedule": "schedule", "status": "status", "schema_changes": "schemaChanges"}[field]
            out.append((("connections", i, where), f"Airbyte cannot take this {where}: {why}"))
    return out


# The Airbyte API can create an application (new client id and secret) and
# delete the old one (POST/DELETE /v1/applications), so rotation is automatic.
# The program keeps the workspace's sources, destinations and connections (deploy.py, providers.py).
ENTRY = IntegrationType(
    name="airbyte",
    title="Airbyte",
    category="data-sources",
    component="Airbyte",
    automatic_rotation=True,
    docs="https://reference.airbyte.com/reference/start",
    requirements=("httpx==0.28.1", "croniter==7.0.0"),
    references=(("sources[].secrets[].secret", "secret"), ("destinations[].secrets[].secret", "secret")),
    unique_keys=("sources[].name", "destinations[].name", "connections[].name"),
    deploys=True,
    program_secrets=("client-id", "client-secret"),
    config_problems=config_problems,
)
