"""Which spec files a generated file's ``# Sources:`` header names: those whose values reach it.

A header naming every spec file would change in every generated file whenever a spec file is added
or removed; each target names what its file is rendered from instead, so adding an integration
rewrites only the files it reaches. Every function returns spec file paths (``Document.file``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..homes import REMINDER, method, rotated_paths
from ..integrations.base import CLOUD, REPOSITORY, STACKS
from ..model import Environment, Integration, Model

PIPELINE_ROLES = (REPOSITORY, CLOUD, STACKS)


def _policies(model: Model, integrations: Iterable[Integration]) -> set[str]:
    """The files of the rotation policies governing these integrations' secrets."""
    used = {s.rotation for i in integrations for s in i.secrets}
    return {p.source for p in model.rotation_policies if p.name in used}


def pipeline(model: Model) -> set[str]:
    """What every workflow and bootstrap setting is derived from: the Project, the environments and the
    integrations filling the pipeline's roles (repository, cloud, stacks)."""
    found = {model.project.source, *(e.source for e in model.environments)}
    found |= {i.source for i in model.integrations if set(i.type.roles) & set(PIPELINE_ROLES)}
    return found


def workflow(model: Model, name: str) -> set[str]:
    """The sources of one generated workflow."""
    found = pipeline(model)
    if name == "deploy.yml":
        found |= {i.source for i in model.integrations if i.type.deploy_tools is not None}
    if name == "rotate-secrets.yml":
        rotating = [i for i in model.integrations if _rotated_here(model, i)]
        found |= {i.source for i in rotating} | _policies(model, model.integrations)
        found |= _route_holders(model)
    return found


def _rotated_here(model: Model, integration: Integration) -> bool:
    """Whether any of its secrets is rotated by a workflow or ESC (its settings and secrets reach the job)."""
    policies = {p.name: p for p in model.rotation_policies}
    return any(method(integration, s, policies[s.rotation])[0] != REMINDER for s in integration.secrets)


def _route_holders(model: Model) -> set[str]:
    """The integrations holding the alert routes' webhook URLs (the reminders post to them)."""
    paths = {r.webhook_esc for r in model.project.alert_routes}
    return {i.source for i in model.integrations if any(s.esc in paths for s in i.secrets)}


def esc(model: Model, env: Environment, bootstrap: bool) -> set[str]:
    """The sources of an environment's generated ESC definition: what maps or exports a value in it."""
    found = {model.project.source, env.source}
    if bootstrap:
        readers = [i for i in model.integrations if i.program_secrets(env.name, "bootstrap")]
        return found | {i.source for i in readers} | _route_holders(model) | pipeline(model)
    enabled = [i for i in model.integrations if i.enabled(env.name) and (i.secrets or i.type.application)]
    return found | {i.source for i in enabled} | _policies(model, enabled)


def rotated(model: Model, env: Environment) -> set[str]:
    """The sources of the definitions of an environment's rotated and rotators ESC environments."""
    paths = rotated_paths(model, env)
    holders = [i for i in model.integrations if any(s.esc in paths.workflow | paths.esc for s in i.secrets)]
    return {model.project.source, env.source} | {i.source for i in holders} | _policies(model, holders)


def requirements(integrations: Iterable[Integration]) -> set[str]:
    """The sources of a project's requirements: the first integration (by name) of each type with pins, so
    another integration of a type already there changes nothing."""
    first: dict[str, Integration] = {}
    for integration in sorted(integrations, key=lambda i: i.name):
        if integration.type.requirements:
            first.setdefault(integration.type.name, integration)
    return {i.source for i in first.values()}
