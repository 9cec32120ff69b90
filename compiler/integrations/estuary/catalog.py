"""The Estuary Flow catalog of one environment, and what ``publish.py`` needs to publish it.

Shipped with the program (Python 3.10, standard library only). ``files(config)`` is the catalog
directory the deploy module writes and a Pulumi ``command.local.Command`` hands to ``publish.py``:

- ``flow.yaml``: the Flow specification (the catalog, rendered as YAML by the compiler).
- ``publish.json``: the data plane, the task names (for deletion), and for each endpoint config file
  the environment variable its JSON comes from and the spec's non-secret settings merged over it.

Catalog shape, verified in ``estuary/flow`` (``crates/models/src``: ``catalogs.rs``, ``captures.rs``,
``materializations.rs``, ``connector.rs``, ``source_capture.rs``, ``lib.rs``; docs
``site/docs/concepts/captures.md`` and ``concepts/materialization/materialization.md``):

- Top level ``captures`` / ``materializations`` map full names ``tenant/prefix/name`` to task specs;
  every object denies unknown fields.
- A capture has ``endpoint.connector.{image, config}`` (config inline or a path relative to the
  catalog file), ``bindings`` (required; empty here), ``interval`` (``^\\d+(s|m|h|d)$``, default 5m,
  only for connectors that poll) and ``autoDiscover.{addNewBindings, evolveIncompatibleCollections}``:
  Flow re-discovers the source periodically and adds the bindings (and collections) it finds.
- A materialization has the same ``endpoint`` and ``bindings`` and ``sourceCapture``: its bindings
  follow the named capture's as they are added. ``sourceCapture`` is the documented name and is
  accepted by every flowctl (newer models call the field ``source`` and keep ``sourceCapture`` as an
  alias); it names one capture, so a materialization follows the environment's only capture, and
  ``problems`` refuses an environment whose materializations have none or several to follow.
- The data plane is not part of a spec: ``flowctl catalog publish --default-data-plane`` places the
  specs it creates there (existing tasks stay where they run).

Sync frequency is endpoint configuration, not catalog: the materialize connectors built on
``estuary/connectors`` ``go/materialize/schedule_config.go`` (Snowflake among them) read
``syncSchedule.syncFrequency``, one of ``SYNC_FREQUENCIES`` (default 30m). Endpoint configs hold
credentials and live in ESC: the catalog names a file per task that ``publish.py`` writes at deploy
time from the task's environment variable, merged with these settings.

Not verified: that Flow's auto-discovery fills a capture first published with no bindings (the
docs describe it adding newly discovered bindings; flowctl's own path is ``flowctl discover``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

CATALOG_FILE = "flow.yaml"
MANIFEST_FILE = "publish.json"
DEFAULT_DATA_PLANE = "ops/dp/public/gcp-us-central1-c1"  # flowctl's default, and the schema's
ENDPOINT_ENV_PREFIX = "ESTUARY_ENDPOINT_"
# go/materialize/schedule_config.go: the values syncSchedule.syncFrequency accepts.
SYNC_FREQUENCIES = ("0s", "30s", "5m", "15m", "30m", "1h", "2h", "4h")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Problem = tuple[tuple[str | int, ...], str]


def full_name(config: Mapping[str, Any], name: str) -> str:
    """The catalog name of a task: ``tenant/prefix/name``."""
    return f"{config['tenant']}/{config['prefix']}/{name}"


def endpoint_file(name: str) -> str:
    """The endpoint config file of a task, relative to the catalog: ``a/b`` -> ``a--b.config.json``."""
    return name.replace("/", "--") + ".config.json"


def endpoint_env(name: str) -> str:
    """The environment variable holding a task's endpoint config JSON: ``source-hubspot`` ->
    ``ESTUARY_ENDPOINT_SOURCE_HUBSPOT``."""
    return ENDPOINT_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNIT_SECONDS[duration[-1]]


def flow_duration(duration: str) -> str:
    """A spec duration as Flow writes one (``s``, ``m``, ``h`` or ``d``): weeks become days."""
    return f"{int(duration[:-1]) * 7}d" if duration.endswith("w") else duration


def sync_frequency(duration: str) -> str | None:
    """The connector's own spelling of a sync frequency (``120m`` -> ``2h``), or None if it offers none equal."""
    wanted = _seconds(duration)
    return next((f for f in SYNC_FREQUENCIES if _seconds(f) == wanted), None)


def _files(tasks: Iterable[Mapping[str, Any]], endpoint_files: Mapping[str, str] | None) -> dict[str, str]:
    chosen = endpoint_files or {}
    return {t["name"]: chosen.get(t["name"], endpoint_file(t["name"])) for t in tasks}


def _connector(task: Mapping[str, Any], file: str) -> dict[str, Any]:
    return {"connector": {"config": file, "image": task["connector"]}}


def catalog(config: Mapping[str, Any], endpoint_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flow catalog (flow.json content) of one environment's integration config.

    ``endpoint_files`` maps a task's name (relative to tenant/prefix) to its endpoint config file,
    relative to the catalog; tasks it omits get ``endpoint_file(name)``.
    """
    captures = list(config.get("captures", []))
    materializations = list(config.get("materializations", []))
    files = _files([*captures, *materializations], endpoint_files)
    out: dict[str, Any] = {}
    if captures:
        out["captures"] = {full_name(config, c["name"]): _capture(c, files[c["name"]]) for c in captures}
    if materializations:
        follows = full_name(config, captures[0]["name"]) if len(captures) == 1 else None
        out["materializations"] = {
            full_name(config, m["name"]): _materialization(m, files[m["name"]], follows) for m in materializations
        }
    return out


def _capture(capture: Mapping[str, Any], file: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "autoDiscover": {"addNewBindings": True, "evolveIncompatibleCollections": True},
        "bindings": [],
        "endpoint": _connector(capture, file),
    }
    if "interval" in capture:
        spec["interval"] = flow_duration(capture["interval"])
    return spec


def _materialization(materialization: Mapping[str, Any], file: str, follows: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"bindings": [], "endpoint": _connector(materialization, file)}
    if follows is not None:
        spec["sourceCapture"] = follows
    return spec


def endpoint_settings(task: Mapping[str, Any]) -> dict[str, Any]:
    """The non-secret endpoint settings the spec sets for a task, merged over its config from ESC."""
    if "syncFrequency" not in task:
        return {}
    frequency = sync_frequency(task["syncFrequency"]) or task["syncFrequency"]
    return {"syncSchedule": {"syncFrequency": frequency}}


def manifest(config: Mapping[str, Any], endpoint_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What ``publish.py`` needs beside the catalog (publish.json content)."""
    tasks = [*config.get("captures", []), *config.get("materializations", [])]
    files = _files(tasks, endpoint_files)
    endpoints = [
        {"env": endpoint_env(t["name"]), "file": files[t["name"]], "settings": endpoint_settings(t)} for t in tasks
    ]
    return {
        "catalog": CATALOG_FILE,
        "spec": catalog(config, endpoint_files),  # flow.yaml's content, for publish.py (which reads no YAML)
        "dataPlane": config.get("dataPlane", DEFAULT_DATA_PLANE),
        "endpoints": sorted(endpoints, key=lambda e: e["file"]),
        "tasks": sorted(full_name(config, t["name"]) for t in tasks),
    }


def files(config: Mapping[str, Any], endpoint_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The catalog directory of one environment: file name -> content (the compiler renders them,
    the catalog as YAML, into the project, where ``publish.py`` reads them)."""
    return {CATALOG_FILE: catalog(config, endpoint_files), MANIFEST_FILE: manifest(config, endpoint_files)}


def problems(
    config: Mapping[str, Any], shape: Callable[[dict[str, Any]], Iterable[Any]] | None = None
) -> list[Problem]:
    """What Estuary would refuse in one environment's config, as (path inside config, message).

    ``shape`` is the ``iter_errors`` of a validator of ``catalog.schema.json`` (the compiler passes
    its own); with it, the rendered catalog is also checked against Flow's documented shape.
    """
    out = _following(config) + _names(config) + _frequencies(config)
    if out or shape is None:
        return out
    origin = _origins(config)
    for error in sorted(shape(catalog(config)), key=lambda e: [str(p) for p in e.absolute_path]):
        parts = list(error.absolute_path)
        where = ".".join(str(p) for p in parts) or "the catalog"
        message = f"the rendered Estuary catalog breaks Flow's documented shape at {where}: {error.message}"
        out.append((origin.get(tuple(parts[:2]), ()), message))
    return out


def _following(config: Mapping[str, Any]) -> list[Problem]:
    """A materialization follows its environment's capture (sourceCapture): there must be exactly one."""
    captures = [c["name"] for c in config.get("captures", [])]
    if len(captures) == 1:
        return []
    if captures:
        reason = f"sourceCapture names one capture and this environment has {len(captures)}: {', '.join(captures)}"
    else:
        reason = "it materializes the collections of this environment's capture, and there is none"
    return [
        (("materializations", i, "name"), f"materialization '{m['name']}' has no capture to follow: {reason}")
        for i, m in enumerate(config.get("materializations", []))
    ]


def _names(config: Mapping[str, Any]) -> list[Problem]:
    """Task names must be unique across captures and materializations, and so must their files and variables."""
    out: list[Problem] = []
    seen: dict[str, dict[str, str]] = {"name": {}, "endpoint config file": {}, "environment variable": {}}
    for kind in ("captures", "materializations"):
        for i, task in enumerate(config.get(kind, [])):
            name = task["name"]
            keys = {
                "name": name,
                "endpoint config file": endpoint_file(name),
                "environment variable": endpoint_env(name),
            }
            for what, key in keys.items():
                if key in seen[what]:
                    out.append(((kind, i, "name"), f"task '{name}' has the same {what} as '{seen[what][key]}' ({key})"))
                    break
                seen[what][key] = name
    return out


def _frequencies(config: Mapping[str, Any]) -> list[Problem]:
    choices = ", ".join(SYNC_FREQUENCIES)
    return [
        (
            ("materializations", i, "syncFrequency"),
            f"syncFrequency {m['syncFrequency']} is not one the connector offers ({choices})",
        )
        for i, m in enumerate(config.get("materializations", []))
        if "syncFrequency" in m and sync_frequency(m["syncFrequency"]) is None
    ]


def _origins(config: Mapping[str, Any]) -> dict[tuple[Any, ...], tuple[str | int, ...]]:
    """Where in the config each task of the rendered catalog comes from."""
    return {
        (kind, full_name(config, task["name"])): (kind, i)
        for kind in ("captures", "materializations")
        for i, task in enumerate(config.get(kind, []))
    }
