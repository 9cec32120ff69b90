from __future__ import annotations

from .base import IntegrationType

# The Pulumi Cloud REST API creates and deletes access tokens (personal,
# team and organization tokens), so rotation is automatic.
ENTRY = IntegrationType(
    name="pulumi-esc",
    title="Pulumi ESC",
    category="devops",
    component="PulumiEsc",
    automatic_rotation=True,
    docs="https://www.pulumi.com/docs/reference/cloud-rest-api/",
    references=(("webhook.alertRoute", "alert-route"),),
)
