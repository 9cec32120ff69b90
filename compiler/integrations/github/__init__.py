from __future__ import annotations

from ..base import IntegrationType

# A GitHub App's private key can only be generated in the app's settings UI and
# fine-grained PATs cannot be created by API (installation tokens are minted
# hourly from the key, but the key itself is long-lived), so rotation is a reminder.
# It owns what the deploy pipeline depends on (GitHub environments, their secrets
# and variables, branch protection), so it is rendered into the bootstrap project.
ENTRY = IntegrationType(
    name="github",
    title="GitHub",
    category="devops",
    component="GitHub",
    automatic_rotation=False,
    docs="https://docs.github.com/en/rest",
    requirements=("pulumi-github==6.15.0",),
    references=(("app.privateKeySecret", "secret"), ("tokenSecret", "secret")),
    secrets_project="bootstrap",
    bootstrap=True,
    roles=("repository",),
)
