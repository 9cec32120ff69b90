"""Every number a spec can hold is finite and within a stated range: non-finite and oversized numbers get a
located diagnostic in every numeric field, and no budget arithmetic ever sees them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CASES, ROOT, Result

POOL = CASES / "valid" / "gpu-pool-with-override"
BAD = {
    "nan": ".nan",
    "inf": ".inf",
    "minus-inf": "-.inf",
    "float-overflow": "1e400",
    "huge-int": "123456789012345678901234567890",
    "beyond-2-53": "9007199254740993",
    "huge-float": "1.5e300",
}
# (file, the line to change, its indentation and key): a budget, a price, counts, an override, limits elsewhere.
FIELDS = {
    "budget": ("pools.yaml", "  hourlyBudgetUsd: 2"),
    "price": ("pools.yaml", "  pricePerHourUsd: 0.75"),
    "min-count": ("pools.yaml", "  minCount: 0"),
    "override-price": ("pools.yaml", "      pricePerHourUsd: 1.29"),
    "override-max-count": ("pools.yaml", "      maxCount: 4"),
    "reviewer-id": ("pipeline.yaml", "    reviewerIds: {acme/platform: 1001}"),
}


def _spec_files(root: Path) -> dict[str, Path]:
    found = {p.name: p for p in (root / "specs").glob("*.yaml")}
    pools = [p for p in found.values() if "kind: GpuPool" in p.read_text()]
    return {**found, "pools.yaml": pools[0]}


def _set(root: Path, field: str, literal: str) -> tuple[Path, int]:
    """Put ``literal`` into one numeric field; return the file and the 1-based line it is on."""
    name, line = FIELDS[field]
    path = _spec_files(root)[name]
    text = path.read_text()
    assert text.count(line + "\n") == 1, line
    if field == "reviewer-id":
        new = line.replace("1001", literal)
    else:
        key, _ = line.split(":", 1)
        new = f"{key}: {literal}"
    path.write_text(text.replace(line + "\n", new + "\n"))
    return path, text[: text.index(line + "\n")].count("\n") + 1


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("value", sorted(BAD))
def test_a_number_no_tool_can_hold_is_a_located_diagnostic(
    project: Callable[[Path], Path], cli: Callable[..., Result], field: str, value: str
) -> None:
    root = project(POOL)
    path, line = _set(root, field, BAD[value])
    for args in (["validate"], ["compile"]):
        result = cli(*args)
        assert result.code == 1, result.out + result.err
        assert "Traceback" not in result.out + result.err and "internal error" not in result.err
        found = [d for d in result.out.splitlines() if "error[E108]" in d]
        assert len(found) == 1, result.out
        assert re.match(rf"specs/{re.escape(path.name)}:{line}:\d+: error\[E108\]: number is", found[0]), found[0]
        # Nothing downstream (budget checks, the model) saw it.
        assert "E404" not in result.out and "E405" not in result.out
    assert not (root / "generated").exists()


def test_json_output_carries_the_location_too(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    root = project(POOL)
    path, line = _set(root, "budget", ".nan")
    (diagnostic,) = json.loads(cli("validate", "--format", "json").out)["diagnostics"]
    assert (diagnostic["file"], diagnostic["line"], diagnostic["code"]) == (f"specs/{path.name}", line, "E108")
    assert diagnostic["path"] == "spec.hourlyBudgetUsd"


def _numeric_fields(node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
        if "integer" in types or "number" in types:
            found.append((path, node))
        for key, value in node.items():
            found += _numeric_fields(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _numeric_fields(value, f"{path}/{i}")
    return found


def test_every_numeric_field_states_its_range() -> None:
    fields = []
    for schema in sorted((ROOT / "schema").rglob("*.json")):
        if schema.name != "sophia-iac.schema.json":
            fields += [(f"{schema.name}{p}", n) for p, n in _numeric_fields(json.loads(schema.read_text()), "")]
    assert len(fields) > 20
    for where, node in fields:
        assert "minimum" in node or "exclusiveMinimum" in node, where
        assert "maximum" in node or "exclusiveMaximum" in node, where
        assert node.get("maximum", node.get("exclusiveMaximum")) <= 2**53 - 1, where
