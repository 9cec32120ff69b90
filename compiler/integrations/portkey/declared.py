"""What one environment's Portkey spec declares, in Portkey's terms, and how it compares with what
Portkey holds: the gateway config (saved in the workspace by the program, exported to the
application and checked against Portkey's documented shape, gateway-config.schema.json, by the
compiler) and each AI provider's budget and rate limit. Shared by the program's providers, the
compiler and the health check (which reports drift), so the three cannot disagree. Standard library
only: the health check runs without the Pulumi SDK."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(duration: str) -> int:
    """A spec duration (schema-checked ``<n><unit>``) in seconds."""
    return int(duration[:-1]) * _UNIT_SECONDS[duration[-1]]


def gateway(config: Mapping[str, Any]) -> dict[str, Any]:
    """The Portkey gateway config of one environment, as Portkey documents it (gateway-config.schema.json):
    the application sends it as ``x-portkey-config`` (``PORTKEY_GATEWAY_CONFIG``)."""
    routing = config["routing"]
    strategy: dict[str, Any] = {"mode": routing["strategy"]}
    if routing.get("onStatusCodes") and routing["strategy"] == "fallback":  # what moves a fallback on
        strategy["on_status_codes"] = list(routing["onStatusCodes"])
    targets = []
    for target in routing["targets"]:
        rendered: dict[str, Any] = {"virtual_key": target["virtualKey"]}
        if routing["strategy"] == "loadbalance":
            rendered["weight"] = target.get("weight", 1)
        if "model" in target:
            rendered["override_params"] = {"model": target["model"]}
        targets.append(rendered)
    out: dict[str, Any] = {"strategy": strategy, "targets": targets}
    if "retry" in config:
        retry: dict[str, Any] = {"attempts": config["retry"]["attempts"]}
        if config["retry"].get("onStatusCodes"):
            retry["on_status_codes"] = list(config["retry"]["onStatusCodes"])
        out["retry"] = retry
    if "cache" in config:
        cached: dict[str, Any] = {"mode": config["cache"]["mode"]}
        if "maxAge" in config["cache"]:
            cached["max_age"] = _seconds(config["cache"]["maxAge"])
        out["cache"] = cached
    return out


def config_name(project: str, environment: str) -> str:
    """The name the environment's gateway config is saved under in its workspace."""
    return f"{project}-{environment}"


def provider_settings(key: Mapping[str, Any]) -> dict[str, Any]:
    """An AI provider's props from its ``virtualKeys`` entry: slug, name, integration, budget (with its
    reset, monthly unless declared) and rate limit, None where the spec declares none."""
    return {
        "slug": key["slug"],
        "name": key["slug"],
        "integration": key["integration"],
        "budget_usd": key.get("budgetUsd"),
        "budget_reset": key.get("budgetReset", "monthly") if "budgetUsd" in key else None,
        "requests_per_minute": key.get("requestsPerMinute"),
    }


def held_settings(held: dict[str, Any]) -> dict[str, Any]:
    """A provider's budget and rate limit as Portkey's ``GET /providers/{slug}`` answers them, in the
    props' terms. A rate limit that is not one requests-per-minute limit is given as Portkey's list."""
    usage = held.get("usage_limits") or {}
    cost = usage.get("type", "cost") == "cost" and usage.get("credit_limit") is not None
    rates = held.get("rate_limits") or []
    simple = len(rates) == 1 and rates[0].get("type") == "requests" and rates[0].get("unit") == "rpm"
    return {
        "budget_usd": usage["credit_limit"] if cost else None,
        "budget_reset": usage.get("periodic_reset") if cost else None,
        "requests_per_minute": rates[0].get("value") if simple else (rates or None),
    }


def provider_drift(declared: dict[str, Any], held: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What of a provider's budget and rate limit Portkey holds otherwise than declared: ``(what,
    declared, held)`` for ``budget_usd``, ``budget_reset`` and ``requests_per_minute``. ``declared``
    holds those props (absent: none); ``held`` is the ``GET /providers/{slug}`` answer."""
    found = held_settings(held)
    return [(k, declared.get(k), found[k]) for k in found if declared.get(k) != found[k]]


def unwrap(answer: Any) -> Any:
    """An answer without the ``{"success": true, "data": ...}`` envelope the OpenAPI spec documents
    for config calls (the SDKs read them bare)."""
    if isinstance(answer, dict) and "success" in answer and "data" in answer:
        return answer["data"]
    return answer


def held_config(held: dict[str, Any]) -> dict[str, Any]:
    """The gateway config in Portkey's ``GET /configs/{slug}`` answer (an object, or JSON text)."""
    config = unwrap(held).get("config")
    if isinstance(config, str):
        config = json.loads(config)
    return dict(config or {})


def config_drift(declared_config: dict[str, Any], held: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What of the gateway config Portkey holds otherwise than declared: ``(part, declared, held)`` for
    each top-level part (strategy, targets, retry, cache) that differs; ``held`` is the ``GET
    /configs/{slug}`` answer."""
    from ..http import whole_numbers  # here: the compiler imports this module, and httpx costs its start-up

    found = held_config(held)
    declared = whole_numbers(declared_config)
    parts = sorted(set(declared) | set(found))
    return [(p, declared.get(p), found.get(p)) for p in parts if declared.get(p) != found.get(p)]
