"""HubSpot: where the spec declares them, a public app's webhook settings and event subscriptions,
through the Webhooks v3 API (dynamic providers, see providers.py), authenticated with the developer
account's API key from ESC (kept only encrypted in state)."""

from __future__ import annotations

import pulumi

from .. import runtime
from . import providers


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    hooks = component.config.get("webhooks")
    if hooks is None:
        return component.done({"webhooks": 0})
    app = {"app_id": hooks["appId"], "developer_api_key": component.secrets[hooks["developerApiKeyRef"]]}
    settings = providers.WebhookSettings(
        f"{component.name}.webhook-settings",
        {**app, "target_url": hooks["targetUrl"], "max_concurrent_requests": hooks.get("maxConcurrentRequests", 10)},
        component.child(),
    )
    for hook in hooks["subscriptions"]:
        what = hook["eventType"] + (f".{hook['propertyName']}" if "propertyName" in hook else "")
        props = {
            **app,
            "event_type": hook["eventType"],
            "property_name": hook.get("propertyName"),
            "active": hook.get("active", True),
        }
        # The settings (where events go) exist before HubSpot is asked to send any.
        providers.WebhookSubscription(f"{component.name}.webhook.{what}", props, component.child(depends_on=[settings]))
    return component.done({"webhooks": len(hooks["subscriptions"]), "webhookTarget": hooks["targetUrl"]})
