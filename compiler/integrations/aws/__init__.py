from __future__ import annotations

from ..base import IntegrationType

# No long-lived keys: deploys assume a role via GitHub OIDC and get STS
# credentials that expire on their own; any IAM key added later can be rotated
# by API (CreateAccessKey/DeleteAccessKey, two slots), so rotation is automatic.
# The OIDC provider and the deploy role live in the bootstrap project (the
# pipeline depends on them); the KMS key, backup bucket and AWS Backup plan in
# the infrastructure project.
ENTRY = IntegrationType(
    name="aws",
    title="AWS",
    category="infrastructure",
    component="Aws",
    automatic_rotation=True,
    docs="https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html",
    requirements=("pulumi-aws==7.51.1",),
    deploys=True,
    bootstrap=True,
    roles=("cloud",),
)
