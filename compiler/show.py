"""``sophia-iac show``: the effective spec of one environment, for review.

Every value that an override changed carries a comment pointing at the
override, so a reviewer sees both the result and where it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .literals import yaml_scalar
from .load import Document, JsonPath
from .resolve import effective, overrides_of

KIND_ORDER = ("Project", "Environment", "RotationPolicy", "Integration", "GpuPool")


def effective_documents(docs: Iterable[Document], env: str) -> list[tuple[Document, Document]]:
    """(base, effective) pairs in a stable order; documents without overrides are their own effective."""
    pairs = []
    for doc in docs:
        if doc.data["kind"] == "Environment" and doc.data["metadata"]["name"] != env:
            continue
        eff = effective(doc, env) if overrides_of(doc) or doc.data["kind"] in ("Integration", "GpuPool") else doc
        pairs.append((doc, eff))
    return sorted(pairs, key=lambda p: (KIND_ORDER.index(p[1].data["kind"]), p[1].data["metadata"]["name"]))


def to_json(pairs: Sequence[tuple[Document, Document]]) -> str:
    return json.dumps([eff.data for _, eff in pairs], indent=2) + "\n"


def to_yaml(pairs: Sequence[tuple[Document, Document]], env: str) -> str:
    out = [f"# Effective spec of environment {env!r}: overrides merged, every value resolved.\n"]
    for base, eff in pairs:
        out.append(f"---\n# {base.file}\n")
        out.extend(_lines(eff.data, (), 0, base, eff))
    return "".join(out)


def _origin(path: JsonPath, base: Document, eff: Document, merged: bool = False) -> str:
    """A comment naming the override a value came from; merged maps only when new."""
    here, was = eff.position(path), base.position(path)
    changed = was is None if merged else here != was
    return f"  # override: {here}" if here and changed else ""


def _lines(value: Any, path: JsonPath, indent: int, base: Document, eff: Document) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        sub = path + (key,)
        lead = f"{pad}{yaml_scalar(key)}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(child, dict) and child and not isinstance(value, dict):
            nested = _lines(child, sub, indent + 2, base, eff)
            lines.append(lead + " " + nested[0][indent + 2 :])
            lines.extend(nested[1:])
        elif isinstance(child, (dict, list)) and child:
            lines.append(lead + _origin(sub, base, eff, merged=isinstance(child, dict)) + "\n")
            lines.extend(_lines(child, sub, indent + 2, base, eff))
        else:
            empty = "{}" if isinstance(child, dict) else "[]"
            scalar = empty if isinstance(child, (dict, list)) else yaml_scalar(child)
            lines.append(f"{lead} {scalar}{_origin(sub, base, eff)}\n")
    return lines
