"""Environment overlays: base spec deep-merged with one environment's override.

Maps merge, lists replace, ``null`` removes a key. Every value of the result
keeps the location it came from, so a problem introduced by an override is
reported at the override.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .diagnostics import Location
from .load import Document, JsonPath

OVERRIDES = "overrides"


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def overrides_of(doc: Document) -> dict[str, Any]:
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    found = spec.get(OVERRIDES) if isinstance(spec, dict) else None
    return found if isinstance(found, dict) else {}


def effective(doc: Document, env: str) -> Document:
    """The document as environment ``env`` sees it, overrides removed."""
    spec = {k: v for k, v in doc.data["spec"].items() if k != OVERRIDES}
    patch = overrides_of(doc).get(env)
    merged = deep_merge(spec, patch) if isinstance(patch, dict) else spec
    data = {**doc.data, "spec": merged}
    prefix: JsonPath = ("spec", OVERRIDES, env)
    return Document(
        doc.file,
        data,
        doc.start,
        _relocate(data, doc.keys, prefix),
        _relocate(data, doc.values, prefix),
    )


def _relocate(data: Any, table: Mapping[JsonPath, Location], prefix: JsonPath) -> dict[JsonPath, Location]:
    out: dict[JsonPath, Location] = {}
    for path in _paths(data, ()):
        via_override = prefix + path[1:] if path[:1] == ("spec",) and len(path) > 1 else None
        found = (table.get(via_override) if via_override else None) or table.get(path)
        if found:
            out[path] = found
    return out


def _paths(value: Any, path: JsonPath) -> Iterator[JsonPath]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, path + (index,))
