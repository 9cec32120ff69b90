from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import ConfigProblem, IntegrationType

# HubSpot's announcement (changelog, "legacy private app creation sunset"): no new legacy private app
# from 28 September 2026 for new accounts and 26 October 2026 for existing ones; existing apps work on.
LEGACY = (
    "a legacy private app can no longer be created in HubSpot (from autumn 2026): a new integration "
    "authenticates with a service key (tokenKind: service-key); an existing app is named in privateAppId"
)


def problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """A new legacy private app (tokenKind private-app naming no existing app) is a warning; webhook
    subscriptions must differ in event and property, each being one HubSpot subscription."""
    out: list[ConfigProblem] = []
    if config.get("tokenKind") == "private-app" and "privateAppId" not in config:
        out.append((("tokenKind",), LEGACY, "warning"))
    seen: set[tuple[str, str]] = set()
    for i, hook in enumerate((config.get("webhooks") or {}).get("subscriptions", [])):
        key = (hook.get("eventType", ""), hook.get("propertyName", ""))
        if key in seen:
            out.append((("webhooks", "subscriptions", i), f"a second subscription to {'/'.join(filter(None, key))}"))
        seen.add(key)
    return out


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the application reads (``HUBSPOT_SETTINGS``): the portal, the objects it reads and the
    client-side rate limit within HubSpot's quota for the portal's tier."""
    keys = ("portalId", "subscriptionTier", "objects", "rateLimit")
    return {"settings": {k: config[k] for k in keys if k in config}}


# Private app access tokens and service keys are rotated only in HubSpot's UI;
# no public API creates or revokes them, so rotation is a reminder. The program
# keeps a public app's webhook subscriptions where the spec declares them.
ENTRY = IntegrationType(
    name="hubspot",
    title="HubSpot",
    category="data-sources",
    component="HubSpot",
    automatic_rotation=False,
    docs="https://developers.hubspot.com/docs/api/settings/account-information-api",
    references=(("webhookClientSecretRef", "app-secret"), ("webhooks.developerApiKeyRef", "secret")),
    requirements=("httpx==0.28.1",),
    deploys=True,
    config_problems=problems,
    application=settings,
    rate_per_minute=lambda config: 6 * config["rateLimit"]["requestsPerTenSeconds"] if "rateLimit" in config else None,
)
