"""Refuse plaintext secrets: a spec may only reference secrets, never hold one."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from .diagnostics import Diagnostic, error
from .load import Document, JsonPath, format_path

# (label, pattern): the credential formats of every service this project manages and their common
# neighbours, each anchored on the prefix its vendor issues. Written here rather than taken from a rule
# set: detect-secrets' plugins know few of these services (no HubSpot, Lambda Labs, Vercel, Portkey or
# Estuary) and gitleaks' rules are Go regular expressions in TOML; each line below has a test with a
# value of that shape (tests/test_secrets_scan.py). Order matters only for the label shown.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("an AWS access key ID", r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
        ("a GitHub token", r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack webhook URL", r"hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"),
        # Bot (xoxb), user (xoxp), legacy and refresh tokens, configuration tokens (xoxe.xoxp-), app-level tokens.
        (
            "a Slack token",
            r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxoxe\.xox[bp]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}",
        ),
        ("a PEM private key", r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"),
        ("an OpenRouter API key", r"\bsk-or-(v1-)?[A-Za-z0-9]{16,}"),
        ("an Anthropic API key", r"\bsk-ant-(api|admin)\d\d-[A-Za-z0-9_-]{20,}"),
        # OpenAI project, service-account, admin and legacy keys, and other sk- keys.
        ("a provider API key (sk-...)", r"\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        ("a Stripe secret key", r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{24,}"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
        # Private app access tokens and service keys: pat-<hub region>-<uuid>.
        ("a HubSpot access token", r"\bpat-[a-z]{2}\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        # Lambda Cloud API keys: secret_<key name>_<random>.
        ("a Lambda Labs API key", r"\bsecret_[A-Za-z0-9-]{1,64}_[A-Za-z0-9.]{24,}"),
        ("a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        # Base64 of a JSON object ({"...): Estuary refresh tokens, Gong access key secrets, service-account keys.
        ("a base64-encoded JSON credential", r"\beyJ[A-Za-z0-9+/_-]{30,}={0,2}"),
        ("a Pulumi access token", r"\bpul-[a-f0-9]{40}\b"),
        ("a Vercel token", r"\b(vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{24,}"),
        ("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("a SendGrid API key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
        ("a Hugging Face token", r"\bhf_[A-Za-z]{34}\b"),
        ("a Discord webhook URL", r"discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{20,}"),
        # user:password@ or :password@ after any scheme, whatever its case.
        ("credentials in a URL", r"\b(?i:[a-z][a-z0-9+.-]*)://[^/\s:@]*:[^/\s:@]+@"),
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
    label = _format_of(value)
    if label:
        return label
    secret_field = isinstance(key, str) and _secret_field(key)
    if secret_field and _random_looking(value):
        return f"a high-entropy value in the secret-like field '{key}'"
    return None


@cache
def _format_of(value: str) -> str | None:
    """The credential format ``value`` contains, if any (specs repeat their strings: each is searched once)."""
    match = _ANY.search(value)
    if not match:
        return None
    group = next(name for name, text in match.groupdict().items() if text is not None)
    return PATTERNS[int(group[1:])][0]


@cache
def _secret_field(key: str) -> bool:
    return bool(SECRET_FIELD.search(key)) and not REFERENCE_FIELD.search(key)


def _random_looking(value: str) -> bool:
    return (
        len(value) >= MIN_ENTROPY_LENGTH
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and entropy(value) >= ENTROPY_BITS
    )


REDACTED = "[redacted]"
# A shown fragment this long of a secret is a leak (a message that truncates a value still shows its start).
FRAGMENT = 8


# Dotted camelCase words (``rsaPublicKey2Ref``, ``snowflake.publicKey2``): a field name or an ESC path,
# not a pasted credential.
_CAMEL_WORDS = re.compile(r"[a-z]{2,}[0-9]*(?:[A-Z][a-z]{2,}[0-9]*)*(?:\.[a-z]{2,}[0-9]*(?:[A-Z][a-z]{2,}[0-9]*)*)*")


def secret_like(docs: Sequence[Document]) -> set[str]:
    """Every key and string value in the documents that could be a credential, wherever it sits."""
    found = set()
    for doc in docs:
        for path, text, is_key in strings_and_keys(doc.data, ()):
            if classify(_field(path, is_key), text):
                found.add(text)
            elif _random_looking(text) and not _CAMEL_WORDS.fullmatch(text):
                found.add(text)
    return found


# A fragment of plain words in one case (a PEM header's "PRIVATE KEY") gives nothing away.
_WORDLIKE = re.compile(r"[a-z \-]+|[A-Z \-]+")


def _normal(text: str) -> str:
    """Case and separators folded, length kept: a name derived from a secret (GONG_PAT_NA1_...) still matches."""
    return text.lower().replace("-", "_").replace(".", "_")


def redact(diagnostics: Sequence[Diagnostic], secrets: set[str]) -> list[Diagnostic]:
    """The diagnostics with every fragment of a secret (``FRAGMENT`` characters or more) masked, in every field.

    Fragments are compared with case and separators folded, and also with separators removed (as
    in a camelCase config key); a credential of a known format is masked wherever it comes from,
    even from a document that never loaded.
    """
    windows = {
        fold(w)
        for s in secrets
        for form, fold in ((s, _normal), (re.sub(r"[-_.]", "", s), str.lower))
        for w in (form[i : i + FRAGMENT] for i in range(len(form) - FRAGMENT + 1))
        if not _WORDLIKE.fullmatch(w)
    }
    return [
        replace(d, message=_mask(d.message, windows), hint=_mask(d.hint, windows), path=_mask(d.path, windows))
        for d in diagnostics
    ]


def _mask(text: str, windows: set[str]) -> str:
    hidden = [False] * len(text)
    for match in _ANY.finditer(text):
        hidden[match.start() : match.end()] = [True] * (match.end() - match.start())
    folded, squeezed, index = _normal(text), [], []
    for i, char in enumerate(text.lower()):
        if char not in "-_.":
            squeezed.append(char)
            index.append(i)
    for i in range(len(text) - FRAGMENT + 1):
        if folded[i : i + FRAGMENT] in windows:
            hidden[i : i + FRAGMENT] = [True] * FRAGMENT
    joined = "".join(squeezed)
    for i in range(len(joined) - FRAGMENT + 1):
        if joined[i : i + FRAGMENT] in windows:
            for j in index[i : i + FRAGMENT]:
                hidden[j] = True
    if not any(hidden):
        return text
    out, previous = [], False
    for char, masked in zip(text, hidden, strict=True):
        if not masked:
            out.append(char)
        elif not previous:
            out.append(REDACTED)
        previous = masked
    return "".join(out)


def scan(docs: Sequence[Document]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for doc in docs:
        hits: list[tuple[JsonPath, bool, str]] = []
        _secrets_in(doc.data, (), None, hits)
        for path, is_key, found in hits:
            out.append(
                error(
                    doc.locate(path, key=is_key),
                    "E301",
                    f"plaintext secret: this looks like {found}",
                    path=format_path(path),
                    hint="store it in the secrets-only ESC environment and reference it: {esc: service.name}",
                )
            )
    return out


def _secrets_in(value: Any, path: JsonPath, field: str | None, hits: list[tuple[JsonPath, bool, str]]) -> None:
    """What :func:`strings_and_keys` and :func:`classify` find, in one walk that builds a path only to go down.

    ``field`` is the nearest mapping key above ``value`` (what makes a string secret-like).
    """
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str):
                found = _format_of(key)
                if found:
                    hits.append(((*path, key), True, found))
                if type(child) is str:  # the common case, without a call
                    found = classify(key, child)
                    if found:
                        hits.append(((*path, key), False, found))
                    continue
            _secrets_in(child, (*path, key), key if isinstance(key, str) else field, hits)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _secrets_in(child, (*path, index), field, hits)
    elif isinstance(value, str):
        found = classify(field, value)
        if found:
            hits.append((path, False, found))


def _field(path: JsonPath, is_key: bool) -> str | None:
    """The field a string value sits in (what makes it secret-like); None for a key itself."""
    return None if is_key else next((k for k in reversed(path) if isinstance(k, str)), None)


def strings_and_keys(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str, bool]]:
    """Every string value, and every mapping key (a credential pasted as a label or id key is one too)."""
    if isinstance(value, str):
        yield path, value, False
    elif isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str):
                yield path + (key,), key, True
            yield from strings_and_keys(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from strings_and_keys(child, path + (index,))
