"""Every name the compiler derives from a spec name, in one place.

A spec names things once (an integration ``my-service``, its secret ``api-key``, an alert
route ``platform``); everything generated refers to them by the names derived here, so two
artifacts that must agree (a stack config key and the ESC mapping that fills it, a module and
the import of it) cannot drift apart.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any


def module_name(name: str) -> str:
    """A spec name as a Python module name: ``my-service`` -> ``my_service``."""
    ident = name.replace("-", "_")
    return ident + "_" if keyword.iskeyword(ident) else ident


def config_key(integration: str, secret: str) -> str:
    """The Pulumi config key a secret is mapped to: ``my-service``/``api-key`` -> ``myServiceApiKey``."""
    words = f"{integration}-{secret}".split("-")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def env_var(integration: str, secret: str, ref: Mapping[str, Any]) -> str:
    """The environment variable a secret is exported as: its ``envVar``, else ``MY_SERVICE_API_KEY``."""
    return str(ref.get("envVar") or f"{integration}_{secret}".replace("-", "_").upper())


def alert_webhook_key(route: str) -> str:
    """The stack config key of an alert route's webhook URL: ``platform`` -> ``alertWebhookPlatform``."""
    return "alertWebhook" + "".join(w.capitalize() for w in route.split("-"))


def endpoint_variable(type_name: str) -> str:
    """The variable overriding a type's base URL: ``my-service`` -> ``SOPHIA_IAC_ENDPOINT_MY_SERVICE``."""
    return "SOPHIA_IAC_ENDPOINT_" + type_name.upper().replace("-", "_")


def program_files(integration: str, environment: str) -> str:
    """Where an integration's data files for one environment live in its project (``runtime.files``
    finds them there)."""
    return f"files/{integration}/{environment}"


def component_type(component: str, bootstrap: bool = False) -> str:
    """The Pulumi type token of an integration's component: ``sophia:integrations:Snowflake``."""
    return f"sophia:{'bootstrap' if bootstrap else 'integrations'}:{component}"


def gpu_pool_type(component: str) -> str:
    """The Pulumi type token of a GPU pool on the given provider: ``sophia:gpu:LambdaLabsPool``."""
    return f"sophia:gpu:{component}Pool"
