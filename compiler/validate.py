"""Documents -> diagnostics: the envelope, the kind's JSON Schema, the type's config schema.

Schema errors are mapped back to the ``file:line:col`` of the offending key or
value, with a stable code and, for unknown keys and bad enum values, a
"did you mean" hint.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from . import schemas
from .diagnostics import Diagnostic, error
from .integrations import REGISTRY
from .load import Document, JsonPath, format_path

API_VERSION = "sophia-iac/v1"
SECRET_LIKE = re.compile(r"(?i)(secret|token|passw|private|credential|api[-_]?key|access[-_]?key|webhook)")
_RANGE = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
}
_FORMAT = {"pattern", "minLength", "maxLength"}
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def show(value: Any, path: JsonPath = ()) -> str:
    """A short, safe rendering of a value for a message; never a secret-like one."""
    if path and isinstance(path[-1], str) and SECRET_LIKE.search(path[-1]):
        return "the value"
    text = repr(value) if not isinstance(value, (dict, list)) else _JSON_TYPES[type(value)]
    return text if len(text) <= 40 else text[:37] + "..."


def envelope(doc: Document) -> list[Diagnostic]:
    """apiVersion and kind, checked first so the right schema can be chosen."""
    data = doc.data
    if not isinstance(data, dict):
        return [
            error(
                doc.start,
                "E101",
                f"a spec document must be a mapping, not {_JSON_TYPES.get(type(data), 'a value')}",
                hint="start with apiVersion: sophia-iac/v1",
            )
        ]
    problems: list[Diagnostic] = []
    if data.get("apiVersion") != API_VERSION:
        where = doc.locate(("apiVersion",))
        got = "missing" if "apiVersion" not in data else f"{show(data['apiVersion'])}"
        problems.append(error(where, "E101", f"apiVersion must be '{API_VERSION}' (got {got})", path="apiVersion"))
    kind = data.get("kind")
    if kind not in schemas.KIND_SCHEMAS:
        hint = did_you_mean(str(kind), schemas.KIND_SCHEMAS) or f"one of: {', '.join(schemas.KIND_SCHEMAS)}"
        got = "missing" if kind is None else show(kind)
        problems.append(error(doc.locate(("kind",)), "E102", f"unknown kind ({got})", path="kind", hint=hint))
    return problems


# The largest integer every JSON and YAML tool (and a float) holds exactly.
SAFE_INTEGER = 2**53 - 1


def number_problems(doc: Document) -> list[Diagnostic]:
    """Every number that is not finite, or too large to survive JSON, Pulumi config or a float, anywhere."""
    out = []
    found: list[tuple[JsonPath, int | float]] = []
    _numbers(doc.data, (), found)
    for path, value in found:
        if isinstance(value, float) and not math.isfinite(value):
            message = "number is not finite (.nan, .inf or a literal too large for a float)"
        else:
            message = "number is beyond ±2^53, where it would lose precision"
        hint = "use a finite number within the field's range (`sophia-iac schema --kind` states it)"
        out.append(error(doc.locate(path), "E108", message, path=format_path(path), hint=hint))
    return out


def _numbers(data: Any, path: JsonPath, found: list[tuple[JsonPath, int | float]]) -> None:
    """Append each number under ``data`` that is not finite or beyond ±2^53 (paths built only to go down)."""
    if isinstance(data, dict):
        items: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        if _bad_number(data):
            found.append((path, data))
        return
    for key, value in items:
        kind = type(value)
        if kind is dict or kind is list:
            _numbers(value, (*path, key), found)
        elif (kind is int or kind is float) and _bad_number(value):
            found.append(((*path, key), value))


def _bad_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (isinstance(value, float) and not math.isfinite(value)) or abs(value) > SAFE_INTEGER


def check_document(doc: Document) -> list[Diagnostic]:
    """Every schema problem of one document (envelope, numbers, kind schema, type config).

    A document with a number no tool can hold gets no schema check: its numbers would reach
    comparisons that mean nothing.
    """
    problems = envelope(doc)
    if problems:
        return problems
    problems = number_problems(doc)
    if problems:
        return problems
    kind = doc.data["kind"]
    problems = schema_problems(doc, schemas.KIND_SCHEMAS[kind], doc.data)
    if kind == "Integration":
        problems.extend(check_integration_config(doc))
    return problems


def check_integration_config(doc: Document) -> list[Diagnostic]:
    spec = doc.data.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        return []
    kind = spec["type"]
    if kind not in REGISTRY:
        hint = did_you_mean(kind, REGISTRY) or f"one of: {', '.join(sorted(REGISTRY))}"
        return [
            error(
                doc.locate(("spec", "type")), "E106", f"unknown integration type '{kind}'", path="spec.type", hint=hint
            )
        ]
    config = spec.get("config")
    if not isinstance(config, dict):
        return []
    return schema_problems(doc, REGISTRY[kind].schema, config, ("spec", "config"))


def schema_problems(doc: Document, schema: str | Any, instance: Any, prefix: JsonPath = ()) -> list[Diagnostic]:
    """Every error of ``instance`` (found at ``prefix`` in ``doc``) against a schema file or validator."""
    validator = schemas.validator(schema) if isinstance(schema, str) else schema
    out: list[Diagnostic] = []
    for err in validator.iter_errors(instance):
        out.extend(_diagnose(err, doc, prefix + tuple(err.absolute_path)))
    return out


def _diagnose(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    if "propertyNames" in err.relative_schema_path:
        return _property_names(err, doc, path)
    handler = _HANDLERS.get(err.validator, _other)
    return handler(err, doc, path)


def _additional(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    if not isinstance(err.instance, dict):
        return _other(err, doc, path)
    known = err.schema.get("properties", {})
    out = []
    for key in err.instance:
        if key in known:
            continue
        hint = did_you_mean(key, known) or (f"allowed keys: {', '.join(known)}" if known else "")
        out.append(
            error(
                doc.locate(path + (key,), key=True),
                "E103",
                f"unknown key '{key}'",
                path=format_path(path + (key,)),
                hint=hint,
            )
        )
    return out


def _required(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    present = err.instance if isinstance(err.instance, dict) else {}
    return [
        error(
            doc.locate(path, key=True), "E104", f"missing required key '{key}'", path=format_path(path) or "(document)"
        )
        for key in err.validator_value
        if key not in present
    ]


def _type(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
    got = _JSON_TYPES.get(type(err.instance), "value")
    hint = ""
    if "string" in expected and got in ("integer", "number", "boolean"):
        hint = "quote the value so YAML reads it as a string"
    elif got == "string" and set(expected) & {"integer", "number", "boolean"}:
        hint = "remove the quotes"
    shown = "" if err.instance is None else f" {show(err.instance, path)}"
    message = f"expected {' or '.join(expected)}, got {got}{shown}"
    return [error(doc.locate(path), "E105", message, path=format_path(path), hint=hint)]


def _enum(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    allowed = err.validator_value if err.validator == "enum" else [err.validator_value]
    choices = ", ".join(repr(a) for a in allowed)
    hint = did_you_mean(str(err.instance), [str(a) for a in allowed])
    message = f"{show(err.instance, path)} is not one of {choices}"
    return [error(doc.locate(path), "E106", message, path=format_path(path), hint=hint)]


def _format(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    schema = err.schema
    code = "E401" if schema.get("format") == "sophia-duration" else "E107"
    what = schema.get("description", "").split(".")[0]
    message = f"{show(err.instance, path)} is not valid: {err.validator} {err.validator_value!r}"
    if code == "E401":
        message = f"{show(err.instance, path)} is not a duration"
    examples = schema.get("examples")
    hint = f"{what}; e.g. {examples[0]!r}" if examples else what
    return [error(doc.locate(path), code, message, path=format_path(path), hint=hint)]


def _cron_or_format(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    code = "E402" if err.validator_value == "cron" else "E107"
    message = f"{show(err.instance, path)} is not a valid {err.validator_value}: {err.cause or err.message}"
    if code == "E402":
        message = f"cron {show(err.instance, path)}: {err.cause or err.message}"
    return [
        error(
            doc.locate(path),
            code,
            message,
            path=format_path(path),
            hint="five fields, UTC: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'",
        )
    ]


def _alternatives(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    """oneOf/anyOf: name the choice in words, not in schema fragments."""
    branches = err.validator_value
    keys = [b.get("required") for b in branches]
    if isinstance(err.instance, dict) and all(k and len(k) == 1 for k in keys):
        names = " or ".join(f"'{k[0]}'" for k in keys)
        quantity = "exactly one" if err.validator == "oneOf" else "at least one"
        return [error(doc.locate(path), "E109", f"set {quantity} of {names}", path=format_path(path))]
    described = "; ".join(b["description"] for b in branches if "description" in b)
    return [
        error(
            doc.locate(path),
            "E109",
            f"{show(err.instance, path)} matches none of the allowed forms",
            path=format_path(path),
            hint=described,
        )
    ]


def _forbidden(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    hint = err.validator_value.get("description", "") if isinstance(err.validator_value, dict) else ""
    return [
        error(
            doc.locate(path),
            "E107",
            f"{show(err.instance, path)} is not allowed here",
            path=format_path(path),
            hint=hint or err.schema.get("description", ""),
        )
    ]


def _range(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    return [error(doc.locate(path), "E108", _plain(err.message, err.instance, path), path=format_path(path))]


def _property_names(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    name = err.instance
    where = doc.locate(path + (name,), key=True) if isinstance(name, str) else doc.locate(path)
    return [
        error(
            where,
            "E107",
            f"'{name}' is not a valid name here",
            path=format_path(path + (str(name),)),
            hint="lowercase letters, digits and dashes, starting with a letter",
        )
    ]


def _other(err: Any, doc: Document, path: JsonPath) -> list[Diagnostic]:
    return [error(doc.locate(path), "E109", _plain(err.message, err.instance, path), path=format_path(path))]


def _plain(message: str, instance: Any, path: JsonPath) -> str:
    """jsonschema's message, with the instance's repr replaced by a safe one."""
    shown = repr(instance)
    return message.replace(shown, show(instance, path)) if shown in message else message


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _enum,
    "format": _cron_or_format,
    "oneOf": _alternatives,
    "anyOf": _alternatives,
    "not": _forbidden,
    **{name: _format for name in _FORMAT},
    **{name: _range for name in _RANGE},
}


def check_documents(docs: Sequence[Document]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for doc in docs:
        out.extend(check_document(doc))
    return out
