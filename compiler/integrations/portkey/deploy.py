"""Portkey: the environment's AI providers (virtual keys) with their budgets and rate limits, and its
gateway config saved in the workspace, through the Admin API (dynamic providers, see providers.py),
authenticated with the integration's API key from ESC, which is kept only encrypted in state."""

from __future__ import annotations

import pulumi

from .. import runtime
from . import declared, providers

API = "https://api.portkey.ai/v1"
API_KEY = "api-key"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    account = {
        "api_url": API,
        "api_key": component.secrets[API_KEY],
        "workspace_id": config.get("workspace"),
    }
    made: list[pulumi.Resource] = []
    for key in config["virtualKeys"]:
        props = {**account, **declared.provider_settings(key)}
        # A provider holds its budget's spend so far: deleting it forgets that.
        opts = component.child(stateful=True)
        made.append(providers.AiProvider(f"{component.name}.provider.{key['slug']}", props, opts))
    name = declared.config_name(stack.project["name"], stack.environment)
    saved = providers.GatewayConfig(
        f"{component.name}.gateway-config",
        {**account, "name": name, "config": declared.gateway(config)},
        component.child(depends_on=made),  # its targets name the providers
    )
    return component.done({"providers": [k["slug"] for k in config["virtualKeys"]], "gatewayConfigSlug": saved.slug})
