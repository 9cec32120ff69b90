"""The environment's OpenRouter API keys: their name and how to list them, shared by the program's
limit keeper and the rotation runner (no Pulumi import: the runner works without the SDK)."""

from __future__ import annotations

from typing import Any

from .. import http

PAGE = 100  # the most keys one ``GET /keys`` answers


def key_name(project: str, environment: str) -> str:
    """``<project>-<environment>``; each key the rotation runner makes adds `` (<stamp>)``."""
    return f"{project}-{environment}"


def belongs(key: dict[str, Any], name: str) -> bool:
    """Whether an OpenRouter key is one of the environment's: named ``name``, or ``name (<stamp>)``."""
    found = str(key.get("name", ""))
    return found == name or (found.startswith(f"{name} (") and found.endswith(")"))


def keys(client: http.Api, name: str) -> list[dict[str, Any]]:
    """The environment's keys (every page of ``GET /keys``)."""
    found: list[dict[str, Any]] = []
    while True:
        page = client.call(name, "list API keys", "GET", f"/keys?offset={len(found)}")["data"]
        found += page
        if len(page) < PAGE:
            return [k for k in found if belongs(k, name)]
