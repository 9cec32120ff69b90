"""OpenRouter: the monthly credit limit of the environment's API keys (see providers.py); the keys are
created, written into ESC and retired by the rotation runner (rotate.py)."""

from __future__ import annotations

import pulumi

from .. import runtime
from . import providers
from .naming import key_name

API = "https://openrouter.ai/api/v1"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    name = key_name(stack.project["name"], stack.environment)
    limit = providers.ApiKeyLimit(
        f"{component.name}.key-limit",
        {
            "api_url": config.get("apiUrl", API),
            "management_key": component.secrets[config["managementKeyRef"]],
            "name": name,
            "limit": float(config["monthlyBudgetUsd"]),
            "limit_reset": "monthly",
        },
        component.child(),
    )
    return component.done({"keyName": name, "keyHashes": limit.hashes, "monthlyLimitUsd": config["monthlyBudgetUsd"]})
