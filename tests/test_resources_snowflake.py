"""The snowflake module creates real pulumi_snowflake resources, run by the Pulumi SDK under mocks for every stack."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value

ENVIRONMENTS = ["development", "staging", "production"]
COMPONENT = "sophia:integrations:Snowflake"
PROVIDER = "pulumi:providers:snowflake"
DATABASE = "snowflake:index/database:Database"
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
MONITOR = "snowflake:index/resourceMonitor:ResourceMonitor"
ROLE = "snowflake:index/accountRole:AccountRole"
GRANT = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
ROLE_GRANT = "snowflake:index/grantAccountRole:GrantAccountRole"
USER = "snowflake:index/serviceUser:ServiceUser"
POLICY = "snowflake:index/networkPolicy:NetworkPolicy"

# Per environment, from specs/integrations/snowflake.yaml and its overrides.
PREFIX = {"development": "SOPHIA_DEV", "staging": "SOPHIA_STAGING", "production": "SOPHIA_PROD"}
WAREHOUSE_SIZE = {"development": "XSMALL", "staging": "SMALL", "production": "MEDIUM"}
AUTO_SUSPEND = {"development": 60, "staging": 60, "production": 300}
TIME_TRAVEL_DAYS = {"development": 1, "staging": 7, "production": 30}
CREDIT_QUOTA = {"development": 50, "staging": 100, "production": 500}
PROTECTED = {"development": False, "staging": False, "production": True}


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/ run once per stack."""
    return {env: stack_run(env) for env in ENVIRONMENTS}


def component(run: StackRun) -> dict[str, Any]:
    return run.component(COMPONENT, "snowflake")


def children(run: StackRun) -> list[dict[str, Any]]:
    return run.children(component(run))


def one(run: StackRun, type_token: str) -> dict[str, Any]:
    (found,) = [r for r in children(run) if r["type"] == type_token]
    return found


secret = secret_value


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_resource_types_and_counts(runs: dict[str, StackRun], env: str) -> None:
    counts = Counter(r["type"] for r in children(runs[env]))
    # Two roles, each with 8 grants: database, warehouse, and all + future schemas, tables, views.
    expected = {PROVIDER: 1, DATABASE: 1, MONITOR: 1, WAREHOUSE: 1, ROLE: 2, GRANT: 16, USER: 1, ROLE_GRANT: 1}
    if env == "production":
        expected[POLICY] = 1
    assert counts == expected
    names = sorted(r["name"] for r in children(runs[env]) if r["type"] != GRANT)
    assert names == sorted(
        [
            "snowflake.provider",
            "snowflake.database",
            "snowflake.resource-monitor",
            "snowflake.warehouse",
            f"snowflake.role.{PREFIX[env]}_READER",
            f"snowflake.role.{PREFIX[env]}_WRITER",
            "snowflake.service-user",
            "snowflake.service-user.role",
        ]
        + (["snowflake.network-policy"] if env == "production" else [])
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_is_explicit_and_authenticates_as_the_deployer(runs: dict[str, StackRun], env: str) -> None:
    provider = one(runs[env], PROVIDER)
    inputs = provider["inputs"]
    assert {k: v for k, v in inputs.items() if k != "privateKey"} == {
        "organizationName": "PAYREADY",
        "accountName": "SOPHIA",
        "authenticator": "SNOWFLAKE_JWT",
        "user": "SOPHIA_IAC_DEPLOYER",
        "role": "ACCOUNTADMIN",
    }
    # The deployer's own key, never the service user's.
    assert secret(inputs["privateKey"]) == "mock-secret-for-snowflakeDeployerPrivateKey"
    reference = f"{provider['urn']}::{provider['name']}-id"
    for resource in children(runs[env]):
        if resource["type"] != PROVIDER:
            assert resource["provider"] == reference, resource["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_is_parented_to_the_component(runs: dict[str, StackRun], env: str) -> None:
    run = runs[env]
    snowflake = [r for r in run.resources if r["type"].startswith(("snowflake:", "pulumi:providers:snowflake"))]
    assert snowflake and all(r["parent"] == component(run)["urn"] for r in snowflake)
    assert len(snowflake) == len(children(run))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_keeps_time_travel_and_is_protected_in_production(runs: dict[str, StackRun], env: str) -> None:
    database = one(runs[env], DATABASE)
    assert database["inputs"]["name"] == PREFIX[env]
    assert database["inputs"]["dataRetentionTimeInDays"] == TIME_TRAVEL_DAYS[env]
    assert database["inputs"]["comment"].startswith(
        f"Sophia AI business data. Managed by sophia-iac (sophia-ai/{env}, snowflake)"
    )
    assert (database["protect"], database["retainOnDelete"]) == (PROTECTED[env], PROTECTED[env])
    # The database, the roles (replacing one drops its grants) and the service user the application
    # connects as are stateful; the rest is re-created as it was.
    stateful = (DATABASE, "snowflake:index/accountRole:AccountRole", "snowflake:index/serviceUser:ServiceUser")
    for resource in children(runs[env]):
        expected = PROTECTED[env] and resource["type"] in stateful
        assert (resource["protect"], resource["retainOnDelete"]) == (expected, expected), resource["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_warehouse_size_suspend_resume_and_resource_monitor(runs: dict[str, StackRun], env: str) -> None:
    monitor = one(runs[env], MONITOR)["inputs"]
    assert monitor == {
        "name": f"{PREFIX[env]}_WH_MONITOR",
        "creditQuota": CREDIT_QUOTA[env],
        "frequency": "MONTHLY",
        "startTimestamp": "IMMEDIATELY",
        "notifyTriggers": [75, 90],
        "suspendTrigger": 100,
    }
    warehouse = one(runs[env], WAREHOUSE)["inputs"]
    assert {k: v for k, v in warehouse.items() if k != "comment"} == {
        "name": f"{PREFIX[env]}_WH",
        "warehouseSize": WAREHOUSE_SIZE[env],
        "autoSuspend": AUTO_SUSPEND[env],
        "autoResume": "true",
        "initiallySuspended": True,
        "resourceMonitor": monitor["name"],
    }
    assert warehouse["comment"].endswith("compliance: soc2, gdpr, hipaa.")


def grants(run: StackRun) -> dict[str, dict[tuple[str, ...], list[str]]]:
    """Role -> granted object -> privileges."""
    out: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for grant in (r["inputs"] for r in children(run) if r["type"] == GRANT):
        if "onAccountObject" in grant:
            on = grant["onAccountObject"]
            target: tuple[str, ...] = (on["objectType"], on["objectName"])
        elif "onSchema" in grant:
            ((scope, database),) = grant["onSchema"].items()
            target = ("SCHEMAS", scope, database)
        else:
            ((scope, objects),) = grant["onSchemaObject"].items()
            target = (objects["objectTypePlural"], scope, objects["inDatabase"])
        assert target not in out.setdefault(grant["accountRoleName"], {})
        out[grant["accountRoleName"]][target] = grant["privileges"]
    return out


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_roles_get_least_privilege_grants(runs: dict[str, StackRun], env: str) -> None:
    db, wh = PREFIX[env], f"{PREFIX[env]}_WH"

    def expected(tables: list[str]) -> dict[tuple[str, ...], list[str]]:
        return {
            ("DATABASE", db): ["USAGE"],
            ("WAREHOUSE", wh): ["USAGE"],
            ("SCHEMAS", "allSchemasInDatabase", db): ["USAGE"],
            ("SCHEMAS", "futureSchemasInDatabase", db): ["USAGE"],
            ("TABLES", "all", db): tables,
            ("TABLES", "future", db): tables,
            ("VIEWS", "all", db): ["SELECT"],
            ("VIEWS", "future", db): ["SELECT"],
        }

    assert grants(runs[env]) == {
        f"{db}_READER": expected(["SELECT"]),
        f"{db}_WRITER": expected(["SELECT", "INSERT", "UPDATE", "DELETE"]),
    }
    roles = {r["inputs"]["name"]: r["inputs"]["comment"] for r in children(runs[env]) if r["type"] == ROLE}
    assert sorted(roles) == [f"{db}_READER", f"{db}_WRITER"]
    # The development reader's comment is the spec's; the others say what they grant.
    reader = "Read-only access for dashboards" if env == "development" else f"Role with read access to {db}"
    assert roles[f"{db}_READER"].startswith(f"{reader}. Managed by sophia-iac")
    assert roles[f"{db}_WRITER"].startswith(f"Role with write access to {db}. Managed by sophia-iac")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_user_is_created_with_its_key_and_left_to_the_esc_rotator(runs: dict[str, StackRun], env: str) -> None:
    found = one(runs[env], USER)
    user = found["inputs"]
    assert secret(user["rsaPublicKey"]) == "mock-secret-for-snowflakeServicePublicKey"
    assert "rsaPublicKey2" not in user  # ESC's snowflake-user rotator keeps the previous key there
    # Pulumi ESC rotates the key pair (the ninety-day policy is automatic): an update must not put back the
    # key it replaced, in either slot.
    assert sorted(found["ignoreChanges"]) == ["rsaPublicKey", "rsaPublicKey2"]
    expected = {
        "name": f"{PREFIX[env]}_SVC",
        "defaultRole": f"{PREFIX[env]}_WRITER",
        "defaultSecondaryRolesOption": "NONE",
        "defaultWarehouse": f"{PREFIX[env]}_WH",
        "defaultNamespace": PREFIX[env],
    }
    if env == "production":
        expected["networkPolicy"] = "SOPHIA_PROD_SVC_NETWORK_POLICY"
    assert {k: v for k, v in user.items() if k not in ("rsaPublicKey", "rsaPublicKey2", "comment")} == expected
    role_grant = one(runs[env], ROLE_GRANT)
    assert role_grant["inputs"] == {"roleName": f"{PREFIX[env]}_WRITER", "userName": f"{PREFIX[env]}_SVC"}
    roles = [r["urn"] for r in children(runs[env]) if r["type"] == ROLE]
    assert set(roles) <= set(role_grant["dependencies"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_network_policy_only_in_production(runs: dict[str, StackRun], env: str) -> None:
    policies = [r for r in children(runs[env]) if r["type"] == POLICY]
    if env != "production":
        assert policies == []
        return
    (policy,) = policies
    assert policy["inputs"]["name"] == "SOPHIA_PROD_SVC_NETWORK_POLICY"
    assert policy["inputs"]["allowedIpLists"] == ["203.0.113.0/24"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_component_outputs(runs: dict[str, StackRun], env: str) -> None:
    outputs = component(runs[env])["outputs"]
    # What the program authenticates and configures with; the service user's private key is only exported
    # by ESC for the application.
    assert outputs["secretNames"] == ["deployer-private-key", "service-public-key"]
    assert {k: outputs[k] for k in ("database", "dataRetentionDays", "warehouse", "roles", "serviceUser")} == {
        "database": PREFIX[env],
        "dataRetentionDays": TIME_TRAVEL_DAYS[env],
        "warehouse": f"{PREFIX[env]}_WH",
        "roles": [f"{PREFIX[env]}_READER", f"{PREFIX[env]}_WRITER"],
        "serviceUser": f"{PREFIX[env]}_SVC",
    }


def test_public_keys_reach_snowflake_as_one_line_without_header_or_trailer() -> None:
    # The module the generated program ships verbatim, as the program runs it: ESC may hold the PEM
    # as ssh-keygen writes it.
    from compiler.integrations.snowflake.deploy import public_key_body

    body = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo" + "A" * 20
    pem = f"-----BEGIN PUBLIC KEY-----\n{body[:40]}\n{body[40:]}\n-----END PUBLIC KEY-----\n"
    assert public_key_body(pem) == body
    assert public_key_body(f"  {body}\n") == body
