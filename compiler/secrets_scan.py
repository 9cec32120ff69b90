"""Refuse plaintext secrets: a spec may only reference secrets, never hold one."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from .diagnostics import Diagnostic, error
from .load import Document, JsonPath, format_path

# (label, pattern). Prefix-anchored token formats as documented by each vendor.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("an AWS access key ID", r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
        ("a GitHub token", r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        ("a Slack webhook URL", r"hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"),
        ("a Slack token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),
        ("a PEM private key", r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"),
        ("an OpenRouter API key", r"\bsk-or-(v1-)?[A-Za-z0-9]{16,}"),
        ("a provider API key (sk-...)", r"\bsk-(proj-|ant-(api03-)?|live_|test_)?[A-Za-z0-9_-]{20,}"),
        ("a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        ("a Pulumi access token", r"\bpul-[a-f0-9]{40}\b"),
        ("a Vercel token", r"\b(vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{24,}"),
        ("credentials in a URL", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]+@"),
    )
)
SECRET_FIELD = re.compile(r"(?i)(secret|token|passw|private.?key|credential|api.?key|access.?key|signing)")
# Fields that name or point at a secret rather than hold one.
REFERENCE_FIELD = re.compile(r"(^esc$|(Environment|Name|Ref|EnvVar|envVar|Id)$)")
MIN_ENTROPY_LENGTH = 16
ENTROPY_BITS = 3.5


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


# One pass over each string: the patterns as one alternation, a named group each.
_ANY = re.compile("|".join(f"(?P<p{i}>{p.pattern})" for i, (_, p) in enumerate(PATTERNS)))


def classify(key: str | int | None, value: str) -> str | None:
    """What kind of secret ``value`` looks like, or None."""
    match = _ANY.search(value)
    if match:
        group = next(name for name, text in match.groupdict().items() if text is not None)
        return PATTERNS[int(group[1:])][0]
    secret_field = isinstance(key, str) and SECRET_FIELD.search(key) and not REFERENCE_FIELD.search(key)
    if secret_field and _random_looking(value):
        return f"a high-entropy value in the secret-like field '{key}'"
    return None


def _random_looking(value: str) -> bool:
    return (
        len(value) >= MIN_ENTROPY_LENGTH
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and entropy(value) >= ENTROPY_BITS
    )


def scan(docs: Sequence[Document]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for doc in docs:
        for path, value in _strings(doc.data, ()):
            found = classify(next((k for k in reversed(path) if isinstance(k, str)), None), value)
            if found:
                out.append(
                    error(
                        doc.locate(path),
                        "E301",
                        f"plaintext secret: this looks like {found}",
                        path=format_path(path),
                        hint="store it in the secrets-only ESC environment and reference it: {esc: service.name}",
                    )
                )
    return out


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, path + (index,))
