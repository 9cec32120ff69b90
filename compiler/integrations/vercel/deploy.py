"""Vercel: project, domains and environment variables."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pulumiverse_vercel as vercel

from .. import runtime

# The secret holding the token Pulumi manages the team's project with.
API_TOKEN = "api-token"


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config

    provider = vercel.Provider(
        f"{component.name}.provider",
        api_token=component.secrets[API_TOKEN],
        team=config["team"],
        opts=component.child(),
    )

    spec = config["project"]
    git = None
    if "gitRepository" in spec:
        git = vercel.ProjectGitRepositoryArgs(
            type="github",
            repo=spec["gitRepository"],
            production_branch=spec.get("productionBranch", "main"),
        )
    project = vercel.Project(
        f"{component.name}.project",
        name=spec["name"],
        framework=spec.get("framework"),
        root_directory=spec.get("rootDirectory"),
        git_repository=git,
        # Deleting a Vercel project deletes its deployments, logs and settings.
        opts=component.child(provider=provider, stateful=True),
    )

    for domain in config.get("domains", []):
        vercel.ProjectDomain(
            f"{component.name}.domain.{domain}",
            project_id=project.id,
            domain=domain,
            opts=component.child(provider=provider),
        )

    # One variable per key and target: a key may hold a different value in each target.
    variables = []
    for variable in config.get("environmentVariables", []):
        secret = variable.get("secret")
        for target in variable["targets"]:
            value = _value(component.secrets[secret]) if secret else {"value": variable["value"]}
            vercel.ProjectEnvironmentVariable(
                f"{component.name}.env.{variable['key']}.{target}",
                project_id=project.id,
                key=variable["key"],
                targets=[target],
                sensitive=secret is not None,
                **value,
                opts=component.child(provider=provider),
            )
            variables.append(f"{variable['key']}/{target}")

    return component.done(
        {
            "project": project.name,
            "projectId": project.id,
            "domains": list(config.get("domains", [])),
            "environmentVariables": variables,
        }
    )


def _value(secret: pulumi.Output[str]) -> dict[str, Any]:
    """A secret as a write-only value: Vercel never shows it again once set, and Pulumi keeps it only as an
    encrypted secret input, never in the resource's outputs.

    Its version is a digest of the value, itself a secret (encrypted in state), so a rotated value
    in ESC reaches Vercel on the next deploy and an unchanged one causes no update.
    """
    version = secret.apply(lambda value: int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big"))
    return {"value_wo": secret, "value_wo_version": version}
