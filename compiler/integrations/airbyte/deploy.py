"""Airbyte: the workspace's sources, destinations and the connections between them, through the
public API (dynamic providers, see providers.py), authenticated with the integration's application
(client id and secret from ESC, kept only encrypted in state)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi

from .. import runtime
from . import declared, providers

API = "https://api.airbyte.com/v1"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    access = {
        "api_url": config.get("apiUrl", API),
        "client_id": component.secrets["client-id"],
        "client_secret": component.secrets["client-secret"],
        "workspace_id": config["workspaceId"],
    }
    sources: dict[str, providers.Source] = {}
    for source in config.get("sources", []):
        props = {**access, "name": source["name"], "configuration": _configuration(component, source, "sourceType")}
        sources[source["name"]] = providers.Source(
            f"{component.name}.source.{source['name']}", props, component.child(stateful=True)
        )
    destinations: dict[str, providers.Destination] = {}
    for target in config.get("destinations", []):
        configuration = _configuration(component, target, "destinationType")
        props = {**access, "name": target["name"], "configuration": configuration}
        name = f"{component.name}.destination.{target['name']}"
        destinations[target["name"]] = providers.Destination(name, props, component.child(stateful=True))
    for connection in config.get("connections", []):
        source, destination = sources[connection["source"]], destinations[connection["destination"]]
        ends = {"source_id": source.source_id, "destination_id": destination.destination_id}
        props = {**access, **declared.connection_props(connection), **ends}
        # A connection holds its sync state (cursors): replacing it means a full resync.
        opts = component.child(stateful=True, depends_on=[source, destination])
        providers.Connection(f"{component.name}.connection.{connection['name']}", props, opts)
    return component.done(
        {
            "workspaceId": config["workspaceId"],
            "connections": {c["name"]: c.get("schedule", "manual") for c in config.get("connections", [])},
        }
    )


def _configuration(component: runtime.Component, item: dict[str, Any], type_key: str) -> Any:
    """The connector configuration: the spec's, its type, and each declared credential from ESC at its path."""
    base = {**json.loads(json.dumps(item.get("configuration", {}))), type_key: item["type"]}
    credentials = {entry["path"]: component.secrets[entry["secret"]] for entry in item.get("secrets", [])}
    if not credentials:
        return base
    return pulumi.Output.all(**credentials).apply(lambda values: _placed(base, values))


def _placed(base: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for path, value in sorted(values.items()):
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
