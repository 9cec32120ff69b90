"""The name of an environment's OpenRouter API keys, shared by the program's limit keeper and the
rotation runner (standard library only)."""

from __future__ import annotations


def key_name(project: str, environment: str) -> str:
    """``<project>-<environment>``; each key the rotation runner makes adds `` (<stamp>)``."""
    return f"{project}-{environment}"
