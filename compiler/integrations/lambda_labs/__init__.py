from __future__ import annotations

from ..base import IntegrationType

# The Lambda Cloud API has no endpoints for API keys; they are generated and
# deleted in the dashboard only, so rotation is a reminder.
ENTRY = IntegrationType(
    name="lambda-labs",
    title="Lambda Labs",
    category="ai-services",
    component="LambdaLabs",
    automatic_rotation=False,
    docs="https://docs.lambda.ai/api/cloud",
    roles=("gpu-pools",),
)
