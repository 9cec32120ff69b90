"""Snowflake: database, warehouse, roles and grants, service user."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_snowflake as snowflake

from .. import runtime

# The identity Pulumi connects as when the spec names none (schema/integrations/snowflake.json).
DEFAULT_DEPLOYER = {"user": "SOPHIA_IAC_DEPLOYER", "role": "ACCOUNTADMIN", "privateKeyRef": "deployer-private-key"}

# Least-privilege grants of each access level, per object a role reaches. Schemas, tables
# and views are granted on all current and all future ones in the database.
ACCESS: dict[str, dict[str, list[str]]] = {
    "read": {
        "database": ["USAGE"],
        "schemas": ["USAGE"],
        "tables": ["SELECT"],
        "views": ["SELECT"],
        "warehouse": ["USAGE"],
    },
    "write": {
        "database": ["USAGE"],
        "schemas": ["USAGE"],
        "tables": ["SELECT", "INSERT", "UPDATE", "DELETE"],
        "views": ["SELECT"],
        "warehouse": ["USAGE"],
    },
    "admin": {
        "database": ["USAGE", "CREATE SCHEMA"],
        "schemas": ["USAGE", "CREATE TABLE", "CREATE VIEW", "MODIFY"],
        "tables": ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"],
        "views": ["SELECT", "REFERENCES"],
        "warehouse": ["USAGE", "OPERATE", "MONITOR"],
    },
}


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config

    # Pulumi connects as the deployer (key-pair JWT), never as the service user it manages.
    deployer = config.get("deployer", DEFAULT_DEPLOYER)
    organization, account = config["account"].split("-", 1)
    provider = snowflake.Provider(
        f"{component.name}.provider",
        organization_name=organization,
        account_name=account,
        user=deployer["user"],
        role=deployer["role"],
        authenticator="SNOWFLAKE_JWT",
        private_key=component.secrets[deployer["privateKeyRef"]],
        opts=component.child(),
    )

    db = config["database"]
    database = snowflake.Database(
        f"{component.name}.database",
        name=db["name"],
        # Time travel (UNDROP, clones at a point in time) backs the daily-backup requirement.
        data_retention_time_in_days=db.get("timeTravelDays", 1),
        comment=stack.comment(component, db.get("comment", "Sophia AI business data")),
        opts=component.child(provider=provider, stateful=True),
    )

    wh = config["warehouse"]
    monitor = None
    if "resourceMonitor" in config:
        quota = config["resourceMonitor"]
        monitor = snowflake.ResourceMonitor(
            f"{component.name}.resource-monitor",
            name=f"{wh['name']}_MONITOR",
            credit_quota=quota["creditQuota"],
            frequency=quota.get("frequency", "MONTHLY"),
            start_timestamp="IMMEDIATELY",  # a frequency needs a start: count from the first deployment
            notify_triggers=quota.get("notifyAt"),
            suspend_trigger=quota.get("suspendAt"),
            opts=component.child(provider=provider),
        )
    warehouse = snowflake.Warehouse(
        f"{component.name}.warehouse",
        name=wh["name"],
        warehouse_size=wh["size"],
        auto_suspend=wh.get("autoSuspendSeconds", 60),
        auto_resume="true" if wh.get("autoResume", True) else "false",  # a string: unset means Snowflake's default
        initially_suspended=True,
        resource_monitor=monitor.name if monitor else None,
        comment=stack.comment(component, "Warehouse Sophia AI's queries run on"),
        opts=component.child(provider=provider),
    )

    roles: dict[str, snowflake.AccountRole] = {}
    for role_config in config.get("roles", []):
        name, access = role_config["name"], role_config["access"]
        what = role_config.get("comment", f"Role with {access} access to {db['name']}")
        roles[name] = snowflake.AccountRole(
            f"{component.name}.role.{name}",
            name=name,
            comment=stack.comment(component, what),
            # Replacing a role drops every grant to it and every user's hold on it.
            opts=component.child(provider=provider, stateful=True),
        )
        _grant_access(component, provider, roles[name], name, access, database, warehouse)

    user = config["serviceUser"]
    esc_rotated = user.get("privateKeyRef") in component.settings.get("escRotated", [])
    policy = None
    if "networkPolicy" in config:
        policy = snowflake.NetworkPolicy(
            f"{component.name}.network-policy",
            name=f"{user['name']}_NETWORK_POLICY",
            allowed_ip_lists=config["networkPolicy"]["allowedIps"],
            comment=stack.comment(component, f"Where {user['name']} may connect from"),
            opts=component.child(provider=provider),
        )
    service_user = snowflake.ServiceUser(
        f"{component.name}.service-user",
        name=user["name"],
        default_role=user["defaultRole"],
        default_secondary_roles_option="NONE",  # only the default role's privileges
        default_warehouse=warehouse.name,
        default_namespace=database.name,
        # Both key slots: rotation puts the new public key in one while the other still works.
        rsa_public_key=_public_key(component, user.get("rsaPublicKeyRef")),
        rsa_public_key2=_public_key(component, user.get("rsaPublicKey2Ref")),
        network_policy=policy.name if policy else None,
        comment=stack.comment(component, "Service user Sophia AI connects as"),
        # Replacing the user Sophia AI connects as cuts the application off until it is set up again.
        # Where Pulumi ESC's rotator rotates its key pair, the slots are set at creation only: an update
        # would put back the key it replaced.
        opts=pulumi.ResourceOptions.merge(
            component.child(provider=provider, stateful=True),
            pulumi.ResourceOptions(ignore_changes=["rsaPublicKey", "rsaPublicKey2"] if esc_rotated else None),
        ),
    )
    # The default role is granted, not just set; it is one of the roles above.
    snowflake.GrantAccountRole(
        f"{component.name}.service-user.role",
        role_name=user["defaultRole"],
        user_name=service_user.name,
        opts=component.child(provider=provider, depends_on=list(roles.values())),
    )

    return component.done(
        {
            "database": database.name,
            "dataRetentionDays": database.data_retention_time_in_days,
            "warehouse": warehouse.name,
            "roles": sorted(roles),
            "serviceUser": service_user.name,
            "resourceMonitor": monitor.name if monitor else None,
            "networkPolicy": policy.name if policy else None,
        }
    )


def _public_key(component: runtime.Component, name: str | None) -> pulumi.Output[str] | None:
    """A public key from ESC as Snowflake takes it: the base64 body on one line, whether ESC holds PEM or not."""
    return component.secrets[name].apply(public_key_body) if name else None


def public_key_body(pem: str) -> str:
    """``-----BEGIN PUBLIC KEY-----`` / body lines / ``-----END PUBLIC KEY-----`` -> the body on one line."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def _grant_access(
    component: runtime.Component,
    provider: snowflake.Provider,
    role: snowflake.AccountRole,
    name: str,
    access: str,
    database: snowflake.Database,
    warehouse: snowflake.Warehouse,
) -> None:
    """One role's privileges (ACCESS[access]) on the database, its schemas, tables and views, and the warehouse."""
    on_account_object = snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs
    on_schema = snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs
    on_schema_object = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs
    targets: dict[str, dict[str, Any]] = {
        "database": {"on_account_object": on_account_object(object_type="DATABASE", object_name=database.name)},
        "warehouse": {"on_account_object": on_account_object(object_type="WAREHOUSE", object_name=warehouse.name)},
        "schemas.all": {"on_schema": on_schema(all_schemas_in_database=database.name)},
        "schemas.future": {"on_schema": on_schema(future_schemas_in_database=database.name)},
    }
    every = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectAllArgs
    future = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectFutureArgs
    for objects in ("tables", "views"):
        scope: dict[str, Any] = {"object_type_plural": objects.upper(), "in_database": database.name}
        targets[f"{objects}.all"] = {"on_schema_object": on_schema_object(all=every(**scope))}
        targets[f"{objects}.future"] = {"on_schema_object": on_schema_object(future=future(**scope))}
    for kind, target in targets.items():
        snowflake.GrantPrivilegesToAccountRole(
            f"{component.name}.grant.{name}.{kind}",
            account_role_name=role.name,
            privileges=ACCESS[access][kind.split(".")[0]],
            **target,
            opts=component.child(provider=provider),
        )
