"""The Lambda Labs account and the GPU pool in the generated program, under mocks: real resources
(dynamic providers), their inputs, the key's secret-ness, protection and ordering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value
from tests.conftest import platform_model

DYNAMIC = "pulumi-python:dynamic/lambda-labs:"
ENVIRONMENTS = ["development", "staging", "production"]
MODEL = platform_model()


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ENVIRONMENTS}


def dynamic(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in run.resources if r["type"].startswith(DYNAMIC)}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_account_resources_follow_the_spec(runs: dict[str, StackRun], env: str) -> None:
    lambda_labs = next(i for i in MODEL.integrations if i.type.name == "lambda-labs")
    config = lambda_labs.per_env[env].config
    made = dynamic(runs[env])
    systems = {f"lambda-labs.file-system.{s['name']}": s for s in config["fileSystems"]}
    # The account's keys and firewall rules: managed by the first environment where it is enabled only.
    first = env == "development"
    keys = {f"lambda-labs.ssh-key.{k['name']}": k for k in config["sshKeys"]} if first else {}
    firewall = {"lambda-labs.firewall"} if first else set()
    pool = next(p for p in MODEL.gpu_pools if p.name == "inference").per_env[env]
    instances = {f"inference.instance-{k}" for k in range(pool.min_count)}
    assert set(made) == {*systems, *keys, *firewall, *instances}
    kinds = {"FileSystem", "SshKey", "FirewallRules"} if first else {"FileSystem"}
    assert {r["type"].removeprefix(DYNAMIC) for r in made.values()} == kinds | ({"GpuInstance"} if instances else set())
    for name, system in systems.items():
        region = system.get("region", config["defaultRegion"])  # the fixture's development one names none
        assert (made[name]["inputs"]["name"], made[name]["inputs"]["region"]) == (system["name"], region)
        assert made[name]["protect"] == made[name]["retainOnDelete"] == (env == "production")
    for name, key in keys.items():
        assert made[name]["inputs"]["public_key"] == key["publicKey"]
    if first:
        rules = made["lambda-labs.firewall"]["inputs"]["rules"]
        assert [(r["protocol"], r["port_range"], r["source_network"]) for r in rules] == [
            (r["protocol"], list(r["portRange"]), r["sourceNetwork"]) for r in config["firewallRules"]
        ]
    for resource in made.values():
        assert resource["inputs"]["api_url"] == config["apiUrl"]
        assert secret_value(resource["inputs"]["api_key"]).startswith("mock-secret-for-")  # a secret input...
        assert resource["additionalSecretOutputs"] == ["api_key"]  # ...kept encrypted in state


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_pool_runs_min_count_instances_each_a_resource(runs: dict[str, StackRun], env: str) -> None:
    pool = next(p for p in MODEL.gpu_pools if p.name == "inference").per_env[env]
    made = dynamic(runs[env])
    instances = [made[f"inference.instance-{k}"] for k in range(pool.min_count)]
    assert len([r for r in made.values() if r["type"].endswith(":GpuInstance")]) == pool.min_count
    account = {r["urn"] for r in made.values() if r["name"].startswith("lambda-labs.")}
    for index, resource in enumerate(instances):
        inputs = resource["inputs"]
        assert (inputs["name"], inputs["index"], inputs["pool"]) == (f"inference-{env}-{index}", index, "inference")
        assert (inputs["count"], inputs["max_count"]) == (pool.min_count, pool.max_count)
        assert (inputs["instance_type"], inputs["regions"]) == (pool.instance_type, list(pool.regions))
        assert inputs["hourly_budget_usd"] == pool.hourly_budget_usd
        assert set(inputs["file_systems"]) <= set(pool.regions)
        # Protected in production, never retained (an instance left outside the program keeps billing).
        assert (resource["protect"], resource["retainOnDelete"]) == (env == "production", False)
        assert resource["parent"].endswith("::inference")
        assert account and account <= set(resource["dependencies"])  # it waits for the account's resources


def test_production_runs_at_least_one_instance(runs: dict[str, StackRun]) -> None:
    instances = [r for r in dynamic(runs["production"]).values() if r["type"].endswith(":GpuInstance")]
    assert len(instances) >= 1
