"""Credential values never reach the results file or the terminal.

Every secret the ESC environment exports, and every value derived from one
(a signed JWT, a Basic credential, an access token), is replaced by ``***``
in each string before it is recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

MASK = "***"
# Lines of a multi-line secret (PEM bodies are 64 characters) are masked one by one too.
_MIN_LINE = 16
# Defence in depth for a credential the runner never saw, echoed in an Authorization-style header.
_SCHEME = re.compile(r"\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{16,}")


def _variants(value: str) -> set[str]:
    """The forms in which a value may be echoed back: itself, JSON-escaped, URL-encoded, line by line."""
    value = value.strip()
    forms = {value, json.dumps(value)[1:-1], quote(value, safe="")}
    if "\n" in value or "\\n" in value:
        lines = value.replace("\\n", "\n").splitlines()
        forms.update(line.strip() for line in lines if len(line.strip()) >= _MIN_LINE)
    return forms


class Redactor:
    """Masks every registered credential value in text."""

    def __init__(self, values: Iterable[str] = (), min_length: int = 8) -> None:
        self._min = min_length
        self._values: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        self._values.update(v for v in _variants(value) if len(v) >= self._min)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return _SCHEME.sub(rf"\1 {MASK}", text)

    def tree(self, data: Any) -> Any:
        """``data`` (JSON-like) with every string redacted."""
        if isinstance(data, str):
            return self(data)
        if isinstance(data, dict):
            return {k: self.tree(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.tree(v) for v in data]
        return data
