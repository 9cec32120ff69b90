"""Slack: the alert route wiring the webhooks and workflows use.

There is no official Slack Pulumi provider, and incoming webhooks and channels are
created in Slack's UI when the app is installed, so this component declares no
cloud resource and reads no secret: it records the wiring (channels, and where
each alert route's webhook URL lives in ESC) and which route this environment
alerts on. The webhook URLs are read where they are used: by the bootstrap
(GitHub environment secrets, Pulumi Cloud webhooks).
"""

from __future__ import annotations

import pulumi

from .. import runtime


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    # Alert route -> its channel, and where its Slack incoming-webhook URL lives: the ESC path, and
    # the stack config key a stack that reads it has it mapped to (stack config ``alertRoutes``).
    routes = {
        name: {"channel": str(route["channel"]), "configKey": route["webhookConfigKey"], "esc": route["webhookEsc"]}
        for name, route in stack.alert_routes.items()
    }
    route = stack.alert_route
    return component.done(
        {
            "workspace": config["workspace"],
            "alertRoutes": routes,
            "alertRoute": route,
            "alertChannel": routes[route]["channel"] if route else None,
            "deployChannel": config["channels"]["deploys"],
            "mention": config.get("mentionOnProduction") if stack.tier == "production" else None,
        }
    )
