"""OpenRouter: the environment's API key, with its monthly credit limit (see providers.py)."""

from __future__ import annotations

import pulumi

from .. import runtime
from . import providers

API = "https://openrouter.ai/api/v1"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    name = f"{stack.project['name']}-{stack.environment}"
    key = providers.ApiKey(
        f"{component.name}.api-key",
        {
            "api_url": config.get("apiUrl", API),
            "management_key": component.secrets[config["managementKeyRef"]],
            "name": name,
            "limit": float(config["monthlyBudgetUsd"]),
            "limit_reset": "monthly",
        },
        component.child(stateful=True),  # the key the application may hold, and its spend
    )
    # The key itself, a secret output: written into the ESC secrets environment by the rotation runner.
    outputs = {"keyName": name, "keyHash": key.hash, "monthlyLimitUsd": config["monthlyBudgetUsd"]}
    return component.done({**outputs, "apiKey": pulumi.Output.secret(key.key)})
