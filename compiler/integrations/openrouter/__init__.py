from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import IntegrationType


def routing(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the application sends OpenRouter per task (``OPENROUTER_ROUTING``): the ``models`` list (the
    model, then its fallbacks, tried in order) and the ``provider`` routing preferences of the request
    body (``sort``, ``data_collection``, fallbacks between providers allowed)."""
    provider = {
        "sort": config.get("providerSort", "price"),
        "data_collection": config.get("dataCollection", "allow"),
        "allow_fallbacks": True,
    }
    tasks = {m["task"]: {"models": [m["model"], *m.get("fallbacks", [])]} for m in config.get("models", [])}
    return {"routing": {"default": {"models": [config["defaultModel"]]}, "tasks": tasks, "provider": provider}}


# OpenRouter's key management API (/api/v1/keys, with a management key,
# formerly "provisioning key") creates and deletes API keys: `sophia-iac rotate`
# issues the environment's key and retires the old one after the overlap
# (rotate.py); the program keeps every such key's monthly credit limit.
ENTRY = IntegrationType(
    name="openrouter",
    title="OpenRouter",
    category="ai-services",
    component="OpenRouter",
    automatic_rotation=True,
    docs="https://openrouter.ai/docs/api-reference/overview",
    requirements=("httpx==0.28.1",),
    references=(("managementKeyRef", "secret"),),
    deploys=True,
    application=routing,
    rotators=("api-key",),
)
