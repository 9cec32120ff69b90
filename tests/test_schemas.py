"""The JSON Schemas: valid 2020-12, documented, closed, with examples that pass."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from compiler import schemas
from compiler.codes import CODES
from compiler.integrations import REGISTRY
from tests.conftest import ROOT

SCHEMA_DIR = ROOT / "schema"
FILES = sorted(
    p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.rglob("*.json") if p.name != "sophia-iac.schema.json"
)


def subschemas(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            if key in ("examples", "const", "enum", "default"):
                continue
            yield from subschemas(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from subschemas(value, f"{path}/{i}")


@pytest.mark.parametrize("name", FILES)
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema  # editors resolve relative $refs from the file's own location


@pytest.mark.parametrize("name", FILES)
def test_every_property_is_described_and_objects_are_closed(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text())
    for path, sub in subschemas(schema):
        for prop, body in sub.get("properties", {}).items() if path.split("/")[-1] != "$defs" else []:
            assert "description" in body, f"{name}{path}/properties/{prop} has no description"
        if "properties" in sub and not path.endswith("/if") and "/if/" not in path:
            assert sub.get("additionalProperties") is False, f"{name}{path} is not closed"


@pytest.mark.parametrize("name", FILES)
def test_examples_are_valid(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text())
    validator = schemas.validator(name)
    assert schema.get("examples") or name == "common.json", f"{name} has no top-level example"
    checked = 0
    for path, sub in subschemas(schema):
        for example in sub.get("examples", []):
            errors = list(validator.evolve(schema=schemas._inline(sub, name)).iter_errors(example))
            assert not errors, f"{name}{path}: example {example!r}: {errors[0].message}"
            checked += 1
    assert checked >= 3


def test_every_registered_type_has_a_schema_and_every_schema_a_type() -> None:
    on_disk = {p.stem for p in (SCHEMA_DIR / "integrations").glob("*.json")}
    assert on_disk == set(REGISTRY)


def test_bundled_specs_carry_the_editor_modeline() -> None:
    for spec in (ROOT / "specs").rglob("*.yaml"):
        first = spec.read_text().splitlines()[0]
        relative = Path("../" * (len(spec.relative_to(ROOT).parts) - 1)) / "schema" / "sophia-iac.schema.json"
        assert first == f"# yaml-language-server: $schema={relative.as_posix()}", spec


def test_every_code_used_is_registered() -> None:
    used = set()
    for source in (ROOT / "compiler").rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{3})"', source.read_text()))
    assert used - set(CODES) == set()
