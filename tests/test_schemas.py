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
    assert schema.get("examples") or name == "common.json", f"{name} has no top-level example"
    checked = 0
    for path, sub in subschemas(schema):
        for example in sub.get("examples", []):
            errors = list(schemas.Validator(schemas._inline(sub, name)).slow.iter_errors(example))
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


def _documents() -> list[tuple[str, object]]:
    """(schema file, instance) for every document and integration config of every example spec tree."""
    from compiler.integrations import REGISTRY
    from compiler.load import discover, load_file

    trees = [ROOT / "specs", *sorted((ROOT / "tests" / "cases").glob("*/*/specs")), ROOT / "tests/cases/base/specs"]
    files, _ = discover([str(t) for t in trees])
    docs = [doc for f in files for doc in load_file(f)[0]]
    out: list[tuple[str, object]] = []
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        kind = data.get("kind")
        if kind in schemas.KIND_SCHEMAS:
            out.append((schemas.KIND_SCHEMAS[kind], data))
            spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
            if spec.get("type") in REGISTRY and "config" in spec:
                out.append((REGISTRY[spec["type"]].schema, spec["config"]))
    return out


def _mutations(value: object) -> list[object]:
    """The value with one leaf at a time replaced by a wrong-typed or out-of-range value."""
    wrong: list[object] = ["", "x" * 300, -1, 10**9, 1.5, True, None, [], {}]
    if isinstance(value, dict):
        return [{**value, k: m} for k, v in value.items() for m in _mutations(v)][:400]
    if isinstance(value, list):
        return [value[:i] + [m] + value[i + 1 :] for i, v in enumerate(value) for m in _mutations(v)][:100]
    return wrong


def test_the_compiled_check_agrees_with_python_jsonschema() -> None:
    """jsonschema-rs only says "valid" where python-jsonschema finds no error, and the reverse."""
    checked = disagreements = 0
    for schema_file, instance in _documents():
        validator = schemas.validator(schema_file)
        if validator.fast is None:
            pytest.skip("jsonschema-rs is not installed on this platform")
        for candidate in [instance, *_mutations(instance)]:
            fast = validator.fast.is_valid(candidate)
            slow = not any(True for _ in validator.slow.iter_errors(candidate))
            checked += 1
            disagreements += fast != slow
            assert fast == slow, f"{schema_file}: {candidate!r}"
    assert checked > 5000 and disagreements == 0
