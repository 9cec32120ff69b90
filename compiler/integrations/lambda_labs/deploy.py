"""Lambda Labs: the account's SSH keys, file systems and firewall rules, and the GPU pools on it.

Every resource is a dynamic provider over the Lambda Cloud API (see providers.py), authenticated
with the integration's API key from ESC, which is kept only encrypted in state.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .. import runtime
from . import providers

API_KEY = "api-key"
DEFAULT_API = "https://cloud.lambdalabs.com/api/v1"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    account = {"api_url": config.get("apiUrl", DEFAULT_API), "api_key": component.secrets[API_KEY]}
    made: list[pulumi.Resource] = []
    # SSH keys and the firewall rule set are the account's, whichever environments use it: the
    # first environment where the integration is enabled manages them, so no stack's destroy takes
    # them from another (file systems are per environment, by name).
    shared = bool(component.settings.get("firstEnabled"))
    for key in config.get("sshKeys", []) if shared else []:
        made.append(
            providers.SshKey(
                f"{component.name}.ssh-key.{key['name']}",
                {**account, "name": key["name"], "public_key": key["publicKey"]},
                component.child(),
            )
        )
    for system in _file_systems(config):
        made.append(
            providers.FileSystem(
                f"{component.name}.file-system.{system['name']}",
                {**account, "name": system["name"], "region": system["region"]},
                # Model weights and data: deleting a file system deletes what is on it.
                component.child(stateful=True),
            )
        )
    if shared and "firewallRules" in config:
        rules = [_rule(r) for r in config["firewallRules"]]
        firewall = providers.FirewallRules(f"{component.name}.firewall", {**account, "rules": rules}, component.child())
        made.append(firewall)
    stack.shared[component.name] = made  # the GPU pools on this account wait for these
    return component.done(
        {
            "sshKeys": [k["name"] for k in config.get("sshKeys", [])],
            "fileSystems": {s["name"]: s["region"] for s in _file_systems(config)},
            "firewallRules": len(config.get("firewallRules", [])),
        }
    )


def _file_systems(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The account's file systems, each with its region (``defaultRegion`` where it names none)."""
    return [{**s, "region": s.get("region", config["defaultRegion"])} for s in config.get("fileSystems", [])]


def deploy_pool(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    """A GPU pool: ``minCount`` instances, each a resource (see GpuInstanceProvider), on the account of
    its ``integration``. Lowering ``minCount`` removes the highest-numbered, the newest."""
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    settings = component.settings
    account_name = str(settings["integration"])
    account = stack.settings(stack.integrations, account_name)
    if account is None:
        where = f"integration '{account_name}' is not deployed in {stack.environment}"
        raise pulumi.RunError(f"{component.name}: its {where}")
    config = account.get("config", {})
    regions = list(settings["regions"])
    file_systems: dict[str, str] = {}
    for system in _file_systems(config):  # the first file system of each region the pool may use
        if system["region"] in regions:
            file_systems.setdefault(system["region"], system["name"])
    count = int(settings["minCount"])
    pool: dict[str, Any] = {
        "api_url": config.get("apiUrl", DEFAULT_API),
        "api_key": stack.secrets(account_name)[API_KEY],
        "pool": component.name,
        # The tag an instance is launched with, and adopted by: this project and stack only.
        "owner": f"{stack.project['name']}/{stack.environment}",
        "instance_type": settings["instanceType"],
        "regions": regions,
        "count": count,
        "max_count": int(settings["maxCount"]),
        "hourly_budget_usd": float(settings["hourlyBudgetUsd"]),
        "ssh_key_name": settings.get("sshKeyName") or config["sshKeyNames"][0],
        "file_systems": file_systems,
    }
    instances = [
        providers.GpuInstance(
            f"{component.name}.instance-{index}",
            {**pool, "name": f"{component.name}-{stack.environment}-{index}", "index": index},
            # Protected where the environment (or the pool's protect) says so, never retained: an
            # instance left running outside the program would keep billing.
            component.child(stateful=True, retain=False, depends_on=list(stack.shared.get(account_name, []))),
        )
        for index in range(count)
    ]
    return component.done(
        {
            "instances": [{"id": i.instance_id, "region": i.region} for i in instances],
            "regionOrder": regions,
            "count": count,
        }
    )


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A spec firewall rule as the API spells it."""
    out: dict[str, Any] = {
        "protocol": rule["protocol"],
        "source_network": rule["sourceNetwork"],
        "description": rule.get("description", ""),
    }
    if "portRange" in rule:
        out["port_range"] = list(rule["portRange"])
    return out
