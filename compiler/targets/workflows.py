"""GitHub Actions workflows: pull-request checks, deploys, scheduled integration tests, drift detection.

Rendered from ``templates/workflows``. Actions are pinned to full commit SHAs
from the one pin table (``templates/workflows/action-pins.json``); spec values
enter workflow text only as safe YAML scalars, and ``run:`` blocks read them
from ``env:``, never from a ``${{ }}`` expression. Who may run what (subjects,
roles, teams, GitHub environments) comes from :mod:`compiler.access`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .. import __version__, rotation
from ..access import (
    CHECKS_WORKFLOW,
    DEPLOY_WORKFLOW,
    NOTIFICATIONS_ENVIRONMENT,
    READER_WORKFLOWS,
    StackAccess,
    required_checks,
    stacks,
)
from ..model import Model, RotationPolicy
from ..package_data import data_dir
from ..render import RenderContext, header, template
from ..rotation import remind as reminders
from . import sources
from .pulumi import PULUMI_VERSION

PYTHON_VERSION = "3.11"
# GitHub refuses issue comments over 65,536 characters.
COMMENT_LIMIT = 60_000
FILES = (CHECKS_WORKFLOW, DEPLOY_WORKFLOW, *READER_WORKFLOWS)


@cache
def pins() -> dict[str, dict[str, Any]]:
    with (data_dir("templates") / "workflows" / "action-pins.json").open(encoding="utf-8") as f:
        table: dict[str, dict[str, Any]] = json.load(f)["actions"]
    return table


def uses(action: str) -> str:
    """``owner/repo@<full sha> # <tag>`` from the pin table; an unknown action is a bug here."""
    pin = pins()[action]
    return f"{action}@{pin['sha']} # {pin['tag']}"


def condition(stack: StackAccess) -> str:
    """The job-level ``if:`` of a deploy job: its event, and never a pre-release."""
    test = f"github.event_name == '{stack.event}'"
    return test + " && !github.event.release.prerelease" if stack.event == "release" else test


def describe(stack: StackAccess) -> str:
    if stack.gate.branch_pattern:
        return f"pushes to {stack.gate.branch_pattern}"
    if stack.gate.tag_pattern:
        return f"published releases (not pre-releases) tagged {stack.gate.tag_pattern}"
    return "pull requests"


def _used_policies(model: Model) -> list[RotationPolicy]:
    used = {s.rotation for i in model.integrations for s in i.secrets}
    return [p for p in model.rotation_policies if p.name in used]


def deploy_tools(model: Model, env: str) -> list[dict[str, str]]:
    """The pinned command-line tools the program of ``env`` runs (each type's ``deploy_tools``), once each."""
    found: dict[str, dict[str, str]] = {}
    for integration in model.integrations:
        hook = integration.type.deploy_tools
        if hook is not None and integration.per_env[env].enabled:
            for tool in hook(integration.per_env[env].config):
                found.setdefault(tool["name"], tool)
    return [found[name] for name in sorted(found)]


def deploy_needs(all_stacks: list[StackAccess]) -> dict[str, str]:
    """Stacks deployed by the same event deploy in tier order, each after the one before succeeds."""
    needs: dict[str, str] = {}
    last: dict[str, str] = {}
    for stack in all_stacks:
        needs[stack.env.name] = last.get(stack.event, "")
        last[stack.event] = f"deploy-{stack.env.name}"
    return needs


class WorkflowsTarget:
    name = "workflows"
    root = "workflows"

    def render(self, ctx: RenderContext) -> dict[str, str]:
        model = ctx.model
        access = stacks(model)
        values = {
            "project": model.project,
            "stacks": access,
            "events": sorted({s.event for s in access}),
            "needs": deploy_needs(access),
            "condition": condition,
            "describe": describe,
            "required": required_checks(model),
            "default_env": model.environments[0].name,
            "test_jobs": [f"test-{s.env.name}" for s in access],
            "drift_jobs": [f"drift-{s.env.name}" for s in access],
            "crons": sorted({s.drift_cron for s in access}),
            "python_version": PYTHON_VERSION,
            "version": __version__,
            "pulumi_version": PULUMI_VERSION,
            "comment_limit": f"{COMMENT_LIMIT:_}",
            "uses": uses,
            "notifications": NOTIFICATIONS_ENVIRONMENT,
            "tools": lambda stack: deploy_tools(model, stack.env.name),
            "rotation_jobs": [
                job
                for s in access
                for job in ([f"rotate-{s.env.name}"] if s.rotator else []) + [f"remind-{s.env.name}"]
            ],
            # The rotation policies' schedules, of those a secret of the specs uses.
            "rotation_crons": sorted({p.schedule for p in _used_policies(model) if p.schedule}),
            "rotation_keys": lambda stack: rotation.variables(model, stack.env.name),
            "reminder_keys": lambda stack: reminders.variables(model, stack.env.name),
        }
        return {
            name: template(
                f"workflows/{name}.j2", header=header(ctx.source_names(sources.workflow(model, name))), **values
            )
            for name in FILES
        }
