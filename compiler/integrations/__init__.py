"""The registry of integration types: one module per type, one entry each."""

from __future__ import annotations

from . import snowflake
from .base import CATEGORIES, IntegrationType

_MODULES = (snowflake,)

REGISTRY: dict[str, IntegrationType] = {m.ENTRY.name: m.ENTRY for m in _MODULES}

__all__ = ["CATEGORIES", "REGISTRY", "IntegrationType"]
