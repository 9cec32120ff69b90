"""The Diagnostic value and its formatters.

Every problem the compiler finds is a :class:`Diagnostic`: collected, sorted,
and printed in exactly one place (:func:`render`).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # where another diagnostic's cause is (a duplicate's first definition): never counted


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a spec file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is, what it is, and how to fix it."""

    location: Location | None
    code: str
    message: str
    path: str = ""
    hint: str = ""
    severity: Severity = Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        loc = self.location or Location("", 0, 0)
        return (loc.file, loc.line, loc.column, self.code, self.path, self.message)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(location: Location | None, code: str, message: str, *, path: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(location, code, message, path, hint, Severity.ERROR)


def warning(location: Location | None, code: str, message: str, *, path: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(location, code, message, path, hint, Severity.WARNING)


def note(location: Location | None, code: str, message: str, *, path: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(location, code, message, path, hint, Severity.NOTE)


def sort(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted and de-duplicated, so output is stable run to run."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """Control characters escaped: spec text must never start a line of its own (a CI log command)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    lines: list[str] = []
    for d in diagnostics:
        where = f"{_printable(str(d.location))}: " if d.location else ""
        at = f" (at {_printable(d.path)})" if d.path else ""
        lines.append(f"{where}{d.severity.value}[{d.code}]: {_printable(d.message)}{at}")
        if d.hint:
            lines.append(f"  hint: {_printable(d.hint)}")
    return "".join(line + "\n" for line in lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request diff."""
    out: list[str] = []
    for d in diagnostics:
        props = [f"title={_escape_property(d.code)}"]
        if d.location:
            loc = d.location
            props[:0] = [f"file={_escape_property(loc.file)}", f"line={loc.line}", f"col={loc.column}"]
        body = d.message + (f" (at {d.path})" if d.path else "") + (f"\nhint: {d.hint}" if d.hint else "")
        command = "notice" if d.severity is Severity.NOTE else d.severity.value
        out.append(f"::{command} {','.join(props)}::{_escape_data(body)}\n")
    return "".join(out)


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    items = [
        {
            "file": d.location.file if d.location else None,
            "line": d.location.line if d.location else None,
            "column": d.location.column if d.location else None,
            "path": d.path,
            "code": d.code,
            "severity": d.severity.value,
            "message": d.message,
            "hint": d.hint,
        }
        for d in diagnostics
    ]
    return json.dumps({"diagnostics": items}, indent=2, sort_keys=True) + "\n"


FORMATTERS = {"text": format_text, "github": format_github, "json": format_json}


def render(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    return FORMATTERS[fmt](diagnostics)
