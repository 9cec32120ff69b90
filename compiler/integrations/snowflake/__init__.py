from __future__ import annotations

from ..base import IntegrationType

# Pulumi connects as a deployer identity (config.deployer, key-pair JWT), never
# as the service user it manages. The service user has two key slots, so the
# rotation job sets the new public key in one slot before removing the old one:
# rotation is automatic and zero-downtime. The public keys come from ESC with
# the key pair they belong to.
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
    ),
    unique_keys=("roles[].name",),
    deploys=True,
)
