"""Environment overlays: base spec deep-merged with one environment's override.

Maps merge, lists replace, ``null`` removes a key. Every value of the result
keeps the location it came from, so a problem introduced by an override is
reported at the override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .load import Document

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


def effective_spec(doc: Document, env: str) -> dict[str, Any]:
    """The spec as environment ``env`` sees it, overrides merged and removed."""
    spec = {k: v for k, v in doc.data["spec"].items() if k != OVERRIDES}
    patch = overrides_of(doc).get(env)
    return deep_merge(spec, patch) if isinstance(patch, dict) else spec


def effective(doc: Document, env: str) -> Document:
    """The document as environment ``env`` sees it; locations resolve to the override first."""
    data = {**doc.data, "spec": effective_spec(doc, env)}
    return replace(doc, data=data, overlay=("spec", OVERRIDES, env))
