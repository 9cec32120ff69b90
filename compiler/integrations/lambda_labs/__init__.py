from __future__ import annotations

from ..base import IntegrationType

# The Lambda Cloud API has no endpoints for API keys; they are generated and
# deleted in the dashboard only, so rotation is a reminder. Lambda Labs has no
# official Pulumi provider: its SSH keys, file systems, firewall rules and GPU
# pools are dynamic providers (providers.py) over the Lambda Cloud API.
ENTRY = IntegrationType(
    name="lambda-labs",
    title="Lambda Labs",
    category="ai-services",
    component="LambdaLabs",
    automatic_rotation=False,
    docs="https://docs.lambda.ai/api/cloud",
    requirements=("httpx==0.28.1",),
    deploys=True,
    program_secrets=("api-key",),
    roles=("gpu-pools",),
)
