"""GitHub Actions workflows: specs checks, deploys, scheduled integration tests, drift detection.

Rendered from ``templates/workflows``. Actions are pinned to full commit SHAs
from the one pin table (``templates/workflows/action-pins.json``); spec values
enter workflow text only as safe YAML scalars, and ``run:`` blocks read them
from ``env:``, never from a ``${{ }}`` expression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..model import Environment, Model
from ..render import Context, header, template
from ..resources import data_dir

PYTHON_VERSION = "3.11"
# Failure notifications outside a deploy job run in this GitHub environment (no reviewers),
# which the github bootstrap module creates with the Slack webhook as its only secret.
NOTIFICATIONS_ENVIRONMENT = "notifications"
TRIGGERS = {"pull-request": "pull_request", "push": "push", "release": "release"}


@cache
def pins() -> dict[str, dict[str, Any]]:
    with (data_dir("templates") / "workflows" / "action-pins.json").open(encoding="utf-8") as f:
        table: dict[str, dict[str, Any]] = json.load(f)["actions"]
    return table


def uses(action: str) -> str:
    """``owner/repo@<full sha> # <tag>`` from the pin table; an unknown action is a bug here."""
    pin = pins()[action]
    return f"{action}@{pin['sha']} # {pin['tag']}"


@dataclass(frozen=True)
class Stack:
    """What a workflow needs to know about one environment."""

    env: Environment
    event: str
    pulumi_stack: str
    esc_environment: str
    role_arn: str
    drift_role_arn: str


def _role_name(model: Model, key: str, default: str) -> str:
    aws = next((i for i in model.integrations if i.type.name == "aws"), None)
    if aws is None:
        return default
    config = next(iter(aws.per_env.values())).config
    role = config.get(key) or {}
    return str(role.get("name", default))


def stacks(model: Model) -> list[Stack]:
    org, project = model.project.organization, model.project.pulumi_project
    deploy_role = _role_name(model, "deployRole", f"{project}-deploy")
    drift_role = f"{project}-drift"  # created by the aws bootstrap module
    return [
        Stack(
            env,
            TRIGGERS[env.deploy_on],
            f"{org}/{project}/{env.name}",
            f"{org}/{env.esc_environment}",
            f"arn:aws:iam::{env.account}:role/{deploy_role}",
            f"arn:aws:iam::{env.account}:role/{drift_role}",
        )
        for env in model.environments
    ]


class WorkflowsTarget:
    name = "workflows"
    root = "workflows"

    def render(self, ctx: Context) -> dict[str, str]:
        model = ctx.model
        values = {
            "header": header(ctx.source_names(model.sources)),
            "project": model.project,
            "stacks": stacks(model),
            "events": sorted({TRIGGERS[e.deploy_on] for e in model.environments}),
            "default_env": model.environments[0].name,
            "esc_map": json.dumps({s.env.name: s.esc_environment for s in stacks(model)}, sort_keys=True),
            "python_version": PYTHON_VERSION,
            "uses": uses,
            "notifications": NOTIFICATIONS_ENVIRONMENT,
        }
        return {
            name: template(f"workflows/{name}.j2", **values)
            for name in ("specs.yml", "deploy.yml", "integration-tests.yml", "drift.yml")
        }
