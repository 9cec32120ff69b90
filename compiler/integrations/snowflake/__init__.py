from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..base import EscRotator, IntegrationType


def _login(config: Mapping[str, Any], secret: Callable[[str], str]) -> dict[str, Any]:
    """Pulumi ESC's snowflake-user rotator logs in as the deployer (key pair), which owns the service user."""
    from ...schemas import load_schema  # the schema's default deployer, as the program's module assumes it

    deployer = config.get("deployer") or load_schema(ENTRY.schema)["properties"]["deployer"]["default"]
    login = {"account": config["account"], "user": deployer["user"], "privateKey": secret(deployer["privateKeyRef"])}
    return {"login": login, "targetUser": config["serviceUser"]["name"]}


def _initial(config: Mapping[str, Any], secret: Callable[[str], str]) -> dict[str, Any]:
    """The key pair in use before the first rotation (the one the user is created with): the first
    rotation keeps its public key in RSA_PUBLIC_KEY_2 while the new one takes RSA_PUBLIC_KEY."""
    return {"account": config["account"], "privateKey": secret(config["serviceUser"]["privateKeyRef"])}


# Pulumi connects as a deployer identity (config.deployer, key-pair JWT), never
# as the service user it manages. The service user has two key slots: under an
# automatic policy, Pulumi ESC's snowflake-user rotator puts each new public key
# in RSA_PUBLIC_KEY and keeps the previous one in RSA_PUBLIC_KEY_2, so rotation is
# automatic and zero-downtime; the program then sets the slots only at creation.
ENTRY = IntegrationType(
    name="snowflake",
    title="Snowflake",
    category="data-sources",
    component="Snowflake",
    automatic_rotation=True,
    docs="https://docs.snowflake.com/en/developer-guide/sql-api/index",
    requirements=("pulumi-snowflake==2.22.0",),
    references=(
        ("deployer.privateKeyRef", "secret"),
        ("serviceUser.rsaPublicKeyRef", "secret"),
        ("serviceUser.rsaPublicKey2Ref", "secret"),
        ("serviceUser.privateKeyRef", "app-secret"),
    ),
    unique_keys=("roles[].name",),
    deploys=True,
    esc_rotators=(
        EscRotator(
            "snowflake-user",
            secret="serviceUser.privateKeyRef",
            output="privateKey",
            inputs=_login,
            state=_initial,
            along=("serviceUser.rsaPublicKeyRef",),
            forbids=("serviceUser.rsaPublicKey2Ref",),
        ),
    ),
)
