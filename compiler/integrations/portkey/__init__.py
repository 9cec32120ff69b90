from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..base import IntegrationType
from .declared import gateway


@cache
def _shape() -> Any:
    """Portkey's documented config shape, checked compiled first (python-jsonschema only for a config
    that breaks it, for the messages), as every spec schema is."""
    from ...schemas import Validator

    schema = json.loads(Path(__file__).with_name("gateway-config.schema.json").read_text(encoding="utf-8"))
    return Validator(schema)


def problems(config: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What Portkey would refuse in this config: targets naming no declared virtual key, a load balance
    whose weights are all 0, and anything the rendered gateway config breaks of Portkey's documented shape."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    routing = config.get("routing") or {}
    declared = {k["slug"] for k in config.get("virtualKeys", [])}
    for i, target in enumerate(routing.get("targets", [])):
        if target.get("virtualKey") not in declared:
            where = ("routing", "targets", i, "virtualKey")
            known = ", ".join(sorted(declared))
            out.append((where, f"virtual key '{target.get('virtualKey')}' is not one of virtualKeys ({known})"))
    if routing.get("strategy") == "loadbalance" and not any(t.get("weight", 1) > 0 for t in routing.get("targets", [])):
        out.append(
            (("routing", "targets"), "every target of the load balance has weight 0: no request could be served")
        )
    if out or "routing" not in config:
        return out
    # Where in the spec each part of the rendered config comes from.
    origin: dict[Any, tuple[str | int, ...]] = {"strategy": ("routing",), "targets": ("routing", "targets")}
    for error in sorted(_shape().iter_errors(gateway(config)), key=lambda e: list(e.absolute_path)):
        parts = list(error.absolute_path)
        path = ".".join(str(p) for p in parts) or "the config"
        message = f"the rendered Portkey gateway config breaks Portkey's documented shape at {path}: {error.message}"
        out.append((origin.get(parts[0], (parts[0],)) if parts else ("routing",), message))
    return out


# Portkey's Admin API creates and deletes API keys (POST /api-keys/{type}/{sub-type}),
# so the rotation job can issue the new key before revoking the old one. The program keeps the
# workspace's AI providers and its saved gateway config (deploy.py, providers.py).
ENTRY = IntegrationType(
    name="portkey",
    title="Portkey",
    category="ai-services",
    component="Portkey",
    automatic_rotation=True,
    docs="https://portkey.ai/docs/api-reference/admin-api/introduction",
    requirements=("httpx==0.28.1",),
    deploys=True,
    program_secrets=("api-key",),
    application=lambda config: {"gateway_config": gateway(config)} if "routing" in config else {},
    config_problems=problems,
)
