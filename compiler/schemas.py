"""The JSON Schemas in ``schema/``: loading, a cached validator per file, formats.

The custom format ``cron`` is checked by a cron library, imported only when a
cron value is actually present; ``sophia-duration`` is a pattern, and only
marks which pattern failures are reported as invalid durations.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from .resources import data_dir

KIND_SCHEMAS: dict[str, str] = {
    "Project": "project.json",
    "Environment": "environment.json",
    "Integration": "integration.json",
    "RotationPolicy": "rotationpolicy.json",
    "GpuPool": "gpupool.json",
}

# Schemas get an in-memory base URI so relative $refs resolve; nothing is fetched.
_BASE = "https://sophia-iac.invalid/schema/"
_DURATION = re.compile(r"^([1-9][0-9]{0,5})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """``"90d"`` -> 7776000. Raises ValueError for anything else."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def cron_problem(expression: str) -> str | None:
    """Why a five-field cron expression is invalid, or None."""
    if len(expression.split()) != 5:
        return "expected five fields: minute hour day-of-month month day-of-week"
    from croniter import croniter

    return None if croniter.is_valid(expression) else "not a valid cron expression"


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

    @checker.checks("cron", raises=ValueError)
    def _cron(value: object) -> bool:
        problem = isinstance(value, str) and cron_problem(value)
        if problem:
            raise ValueError(problem)
        return True

    return checker


@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    root = schema_root()
    resources = []
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("sophia-iac"):
            continue
        resources.append((_BASE + rel, Resource(load_schema(rel), specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(relpath: str) -> Any:
    """A Draft 2020-12 validator for one schema file, built once per process."""
    from jsonschema import Draft202012Validator

    schema = {**load_schema(relpath), "$id": _BASE + relpath}
    return Draft202012Validator(schema, registry=_registry(), format_checker=_format_checker())
