"""Spec values as Python literals and YAML scalars: the only way values enter generated text."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from .model import thaw

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
# Plain scalars YAML 1.1 or 1.2 would read as something other than a string.
_PY_WIDTH = 100
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


def _check_finite(value: Any) -> None:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be rendered")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite(k)
            _check_finite(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_finite(v)


def py(value: Any, indent: int = 0) -> str:
    """A Python expression that evaluates to ``value`` (JSON-like data only).

    One line where it fits in 100 columns; otherwise one item per line, four columns deeper than
    ``indent`` (where the line holding the value starts), with trailing commas: the layout black and
    ruff give a literal.
    """
    plain = thaw(value)
    _check_finite(plain)
    return _py(plain, indent, indent)


def _py(value: Any, indent: int, column: int) -> str:
    """``value`` as a literal starting at ``column``, its closing bracket (if it breaks) at ``indent``."""
    flat = repr(value)
    kind = type(value)
    if column + len(flat) <= _PY_WIDTH or not value or kind not in (dict, list):
        return flat
    pad = " " * (indent + 4)
    lines = []
    if kind is dict:
        for key, child in value.items():
            head = f"{pad}{key!r}: "
            lines.append(f"{head}{_py(child, indent + 4, len(head) + 1)},")
        return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
    for child in value:
        lines.append(f"{pad}{_py(child, indent + 4, len(pad) + 1)},")
    return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"


def yaml_scalar(value: Any) -> str:
    """A YAML scalar that any YAML 1.1 or 1.2 parser reads back as exactly ``value``."""
    if type(value) is str:
        return _string_scalar(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        _check_finite(value)
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _NOT_PRINTABLE_ASCII.sub(_escape, json.dumps(text, ensure_ascii=False))


@lru_cache(maxsize=1 << 16)
def _string_scalar(text: str) -> str:
    """A string as a YAML scalar: plain where that reads back the same, else double-quoted (keys repeat)."""
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _NOT_PRINTABLE_ASCII.sub(_escape, json.dumps(text, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    """YAML's own escapes: JSON's surrogate pairs are not valid YAML for astral characters."""
    code = ord(match.group())
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def yaml_block(value: Any, indent: int = 0) -> str:
    """JSON-like data as block-style YAML lines, every scalar through :func:`yaml_scalar`.

    A non-empty collection comes out as lines each starting with a newline;
    anything else as a single flow value (a scalar, ``{}`` or ``[]``).
    """
    if not _is_collection(value) or not value:
        return _flow(value)
    lines: list[str] = []
    _lines(value, indent, lines)
    return "".join("\n" + line for line in lines)


def yaml_value(value: Any, indent: int, item: bool = False) -> str:
    """What follows ``key:`` (or ``-``): a space and a scalar (multi-line text as a literal block, where that
    reads back exactly), or a nested block."""
    if type(value) is str and "\n" in value and not item and _literal_safe(value):
        first, *rest = _literal("", value, indent)
        return first + "".join("\n" + line for line in rest)
    if not _is_collection(value) or not value:
        return " " + _flow(value)
    if item and isinstance(value, Mapping):
        return " " + yaml_block(value, indent).lstrip("\n").lstrip()
    return yaml_block(value, indent)


_SCALARS = (str, int, float, bool, type(None))


def _is_collection(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return False  # the common case, decided without an abstract-class check
    return kind is dict or kind is list or kind is tuple or kind is MappingProxyType or isinstance(value, Mapping)


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    return kind is dict or kind is MappingProxyType or (kind not in _SCALARS and isinstance(value, Mapping))


def _flow(value: Any) -> str:
    if _is_collection(value):
        return "{}" if _is_mapping(value) else "[]"
    return yaml_scalar(value)


def _literal_safe(text: str) -> bool:
    """Whether ``text`` reads back exactly from a literal block scalar: printable lines (tabs allowed), no
    other line break than LF (YAML 1.1 also breaks at NEL, LS, PS), no byte-order mark."""
    lines = text.split("\n")
    return bool(text.strip()) and all(line.replace("\t", " ").isprintable() and "\ufeff" not in line for line in lines)


def _literal(head: str, text: str, indent: int) -> list[str]:
    """``key: |`` and the text's lines, indented: a diff of the value is a diff of its lines. The chomping
    indicator keeps the trailing line breaks exactly; an indentation indicator is given when the first
    line starts with a space (YAML would take that for the block's indentation)."""
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    lines = body.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip())
    leading_blank = any(lines[i] for i in range(at))  # white space before the first line of text
    indicator = "2" if lines[at][:1] in (" ", "\t") or leading_blank else ""
    pad = " " * indent
    out = [f"{head} |{indicator}{chomp}"]
    out += [f"{pad}{line}" if line else "" for line in lines]
    out += [""] * (trailing - 1 if trailing > 1 else 0)
    return out


def _lines(value: Any, indent: int, out: list[str]) -> None:
    """Append the block lines of a non-empty collection to ``out``."""
    pad = " " * indent
    if _is_mapping(value):
        for key, child in value.items():
            head = f"{pad}{_string_scalar(key) if type(key) is str else yaml_scalar(key)}:"
            kind = type(child)
            if kind is str and "\n" in child and _literal_safe(child):  # multi-line text reads as written
                out.extend(_literal(head, child, indent + 2))
            elif kind is str:  # most values: decided without a further call
                out.append(f"{head} {_string_scalar(child)}")
            elif kind in _SCALARS:
                out.append(f"{head} {yaml_scalar(child)}")
            elif child and _is_collection(child):
                out.append(head)
                _lines(child, indent + 2, out)
            else:
                out.append(f"{head} {_flow(child)}")
        return
    for child in value:
        if child and _is_mapping(child):
            first = len(out)
            _lines(child, indent + 2, out)
            out[first] = f"{pad}- {out[first][indent + 2 :]}"
        elif _is_collection(child) and child:
            out.append(f"{pad}-")
            _lines(child, indent + 2, out)
        else:
            out.append(f"{pad}- {_flow(child)}")
