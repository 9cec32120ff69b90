from __future__ import annotations

from ..base import IntegrationType

# The Pulumi Cloud REST API creates and deletes access tokens (personal,
# team and organization tokens), so rotation is automatic.
# It owns the ESC environments, drift schedules and webhooks the deploy
# pipeline depends on, so it is rendered into the bootstrap project.
ENTRY = IntegrationType(
    name="pulumi-esc",
    title="Pulumi ESC",
    category="devops",
    component="PulumiEsc",
    automatic_rotation=True,
    docs="https://www.pulumi.com/docs/reference/cloud-rest-api/",
    requirements=("pulumi-pulumiservice==1.5.0",),
    references=(("accessTokenSecret", "secret"), ("webhook.alertRoute", "alert-route")),
    unique_keys=("teams[].name",),
    secrets_project="bootstrap",
    bootstrap=True,
    roles=("stacks",),
)
