from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..base import ConfigProblem, IntegrationType
from .catalog import files, problems


@cache
def _shape() -> Any:
    """Flow's documented catalog shape (catalog.schema.json), checked as every spec schema is."""
    from ...schemas import Validator

    schema = json.loads(Path(__file__).with_name("catalog.schema.json").read_text(encoding="utf-8"))
    return Validator(schema)


def config_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """What Estuary would refuse in the catalog this config renders (see catalog.problems), and a
    warning when the deploy job has no pinned flowctl to install."""
    found: list[ConfigProblem] = list(problems(config, _shape().iter_errors))
    if "flowctl" not in config:
        message = (
            "the deploy job installs no flowctl, which publishing the catalog runs: pin a release with "
            "flowctl: {version, sha256} (the SHA-256 of its flowctl-x86_64-linux asset), or provide it on the runner"
        )
        found.append(((), message, "warning"))
    return found


def tools(config: Mapping[str, Any]) -> list[dict[str, str]]:
    """flowctl, where the config pins a release (estuary/flow's GitHub release asset)."""
    pinned = config.get("flowctl")
    if not pinned:
        return []
    url = f"https://github.com/estuary/flow/releases/download/{pinned['version']}/flowctl-x86_64-linux"
    return [{"name": "flowctl", "version": pinned["version"], "url": url, "sha256": pinned["sha256"]}]


# Flow refresh tokens are generated in the dashboard (Admin > CLI-API); there
# is no documented API to mint or revoke them, so rotation is a reminder. The
# program publishes the environment's catalog (flow.yaml, rendered into the
# project) with flowctl through a pulumi-command Command (deploy.py, publish.py).
ENTRY = IntegrationType(
    name="estuary",
    title="Estuary",
    category="data-sources",
    component="Estuary",
    automatic_rotation=False,
    docs="https://docs.estuary.dev/concepts/flowctl/",
    requirements=("pulumi-command==1.2.1",),
    references=(("captures[].endpointConfigRef", "secret"), ("materializations[].endpointConfigRef", "secret")),
    deploys=True,
    program_secrets=("refresh-token",),
    config_problems=config_problems,
    program_files=files,
    deploy_tools=tools,
)
