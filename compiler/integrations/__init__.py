"""The registry of integration types: one module per type, one entry each."""

from __future__ import annotations

from . import (
    airbyte,
    aws,
    estuary,
    github,
    gong,
    hubspot,
    lambda_labs,
    openrouter,
    portkey,
    pulumi_esc,
    slack,
    snowflake,
    vercel,
)
from .base import CATEGORIES, IntegrationType

_MODULES = (
    airbyte,
    aws,
    estuary,
    github,
    gong,
    hubspot,
    lambda_labs,
    openrouter,
    portkey,
    pulumi_esc,
    slack,
    snowflake,
    vercel,
)

REGISTRY: dict[str, IntegrationType] = {m.ENTRY.name: m.ENTRY for m in _MODULES}

__all__ = ["CATEGORIES", "REGISTRY", "IntegrationType"]
