"""The JSON Schemas in ``schema/``: loading, a cached validator per file, formats.

The custom format ``cron`` is checked by a cron library, imported only when a
cron value is actually present; ``sophia-duration`` is a pattern, and only
marks which pattern failures are reported as invalid durations.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from .package_data import data_dir

KIND_SCHEMAS: dict[str, str] = {
    "Project": "project.json",
    "Environment": "environment.json",
    "Integration": "integration.json",
    "RotationPolicy": "rotationpolicy.json",
    "GpuPool": "gpupool.json",
}

_DURATION = re.compile(r"^([1-9][0-9]{0,5})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """``"90d"`` -> 7776000. Raises ValueError for anything else."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-6 or sun-sat"),
)


@cache
def cron_problem(expression: str) -> str | None:
    """Why a five-field cron expression is invalid, in cron terms (the field croniter refuses), or None."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"{len(fields)} field{'s' * (len(fields) != 1)}, expected five: minute hour day-of-month month day-of-week"
        )
    from croniter import croniter

    if croniter.is_valid(expression):
        return None
    for i, (name, allowed) in enumerate(CRON_FIELDS):  # croniter reads each field alone, the others '*'
        alone = " ".join(field if j == i else "*" for j, field in enumerate(fields))
        if not croniter.is_valid(alone):
            return f"the {name} field '{fields[i]}' is not valid (allowed: {allowed}, lists, ranges and */steps)"
    return "croniter cannot read it"


def schema_root() -> Path:
    return data_dir("schema")


@cache
def load_schema(relpath: str) -> dict[str, Any]:
    with (schema_root() / relpath).open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


@cache
def _format_checker() -> Any:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("cron", raises=ValueError)  # type: ignore[untyped-decorator]
    def _cron(value: object) -> bool:
        problem = isinstance(value, str) and cron_problem(value)
        if problem:
            raise ValueError(problem)
        return True

    return checker


_ANNOTATIONS = {"description", "examples", "default", "title"}


def _pointer(document: Any, fragment: str) -> Any:
    for part in filter(None, fragment.split("/")):
        document = document[part.replace("~1", "/").replace("~0", "~")]
    return document


def _inline(node: Any, base: str) -> Any:
    """The schema with every ``$ref`` replaced by its target, for fast validation.

    The files keep their ``$ref``s for editors; validating through inlined
    copies avoids a reference lookup per keyword per value. Our schemas have
    no recursive references, and a ``$ref``'s siblings are annotations only.
    """
    if isinstance(node, list):
        return [_inline(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" not in node:
        return {k: v if k in ("examples", "enum", "const", "default") else _inline(v, base) for k, v in node.items()}
    ref_file, _, fragment = node["$ref"].partition("#")
    target_file = posixpath.normpath(posixpath.join(posixpath.dirname(base), ref_file)) if ref_file else base
    target = _inline(_pointer(load_schema(target_file), fragment), target_file)
    extra = set(node) - {"$ref"} - _ANNOTATIONS
    if extra:
        raise ValueError(f"{base}: $ref with validation siblings {sorted(extra)} cannot be inlined")
    # The target's own description wins: it says what the format is, which is what an error hint needs.
    return {**{k: v for k, v in node.items() if k != "$ref"}, **target}


class Validator:
    """python-jsonschema for every located diagnostic, behind a compiled check that a valid instance is valid.

    Almost every document is valid, and jsonschema-rs decides that an order of magnitude faster
    (and imports faster); python-jsonschema, whose errors the diagnostics are built from, is only
    imported and run for an instance the compiled check rejects. Both apply Draft 2020-12 and the
    one format checked here (``cron``); a test keeps their verdicts equal on every example spec.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.fast = _compiled(schema)
        self._slow: Any = None

    @property
    def slow(self) -> Any:
        if self._slow is None:
            from jsonschema import Draft202012Validator

            self._slow = Draft202012Validator(self.schema, format_checker=_format_checker())
        return self._slow

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if self.fast is not None and self.fast.is_valid(instance):
            return iter(())
        errors: Iterator[Any] = self.slow.iter_errors(instance)
        return errors


def _compiled(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # no wheel for this platform: python-jsonschema alone, slower, same verdicts
        return None
    formats = {"cron": lambda value: not cron_problem(value)}
    return jsonschema_rs.Draft202012Validator(schema, formats=formats, validate_formats=True)


@cache
def validator(relpath: str) -> Validator:
    """The validator of one schema file, built once per process."""
    return Validator(_inline(load_schema(relpath), relpath))


@cache
def subschema_validator(relpath: str, pointer: str) -> Validator:
    """A validator for one part of a schema file, e.g. ``integration.json`` ``/$defs/healthCheck``."""
    return Validator(_inline(_pointer(load_schema(relpath), pointer), relpath))
