"""AWS: what the infrastructure and the bootstrap modules share (shipped with both)."""

from __future__ import annotations

import pulumi_aws as aws

from .. import runtime


def role_path(stack: runtime.Stack) -> str:
    """IAM path of the roles the infrastructure program creates; the deploy role may manage roles under it only."""
    return f"/{stack.project['name']}/{stack.environment}/"


def provider(stack: runtime.Stack, component: runtime.Component) -> aws.Provider:
    """The only AWS provider of a program: this environment's region, refusing to act in any account but
    this environment's, tagging everything it creates. It holds no credentials: the pipeline assumes
    the deploy role with GitHub OIDC and the provider takes the short-lived STS credentials from the
    environment; whoever applies the bootstrap brings their own session."""
    return aws.Provider(
        f"{component.name}.provider",
        region=stack.region,
        allowed_account_ids=[stack.account],
        default_tags=aws.ProviderDefaultTagsArgs(tags=stack.tags(component)),
        opts=component.child(),
    )
