"""Runs a generated Pulumi program for one stack under Pulumi mocks, recording every resource.

No Pulumi CLI, no credentials, no network: stack config comes from the
generated ``Pulumi.<stack>.yaml``, and every secret the stack's ESC
environment would inject gets a placeholder value, marked secret, so the
program sees exactly the secret-ness it would see in a real deployment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SophiaIacError

CHILD = Path(__file__).with_name("harness_child.py")


class HarnessError(SophiaIacError):
    """The program failed under mocks, or registered nothing."""


@dataclass(frozen=True)
class StackRun:
    stack: str
    resources: tuple[dict[str, Any], ...]
    outputs: dict[str, Any]
    # Stack config keys (namespace:key) the program read as secrets.
    secret_reads: tuple[str, ...] = ()
    # Paths of the integrations' and GPU pools' settings the program read (``integrations.<name>.config.x``).
    config_reads: tuple[str, ...] = ()

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_token]

    def component(self, type_token: str, name: str | None = None) -> dict[str, Any]:
        """The one component of that type (and name); fails loudly if there is none or several."""
        found = [r for r in self.of_type(type_token) if name is None or r["name"] == name]
        if len(found) != 1:
            raise HarnessError(f"stack {self.stack}: {len(found)} components {type_token} {name or ''}".rstrip())
        return found[0]

    def children(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == parent["urn"]]


def secret_value(value: Any) -> Any:
    """The value under a recorded secret marker; fails if it is not marked secret."""
    if not (isinstance(value, dict) and set(value) == {"__secret__"}):
        raise AssertionError(f"not a secret: {value!r}")
    return value["__secret__"]


def _yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


PROJECTS = {"pulumi": "", "bootstrap": "-bootstrap"}


def stack_inputs(out: Path, stack: str, project: str = "pulumi") -> dict[str, Any]:
    """Project name, stack config (JSON-encoded values) and the secret keys its ESC environment adds."""
    name = _yaml(out / project / "Pulumi.yaml")["name"]
    raw = _yaml(out / project / f"Pulumi.{stack}.yaml").get("config") or {}
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    esc = _yaml(out / "esc" / f"{stack}{PROJECTS[project]}.yaml")["values"].get("pulumiConfig") or {}
    for key in esc:
        config[key] = f"mock-secret-for-{key.split(':', 1)[-1]}"
    return {"project": name, "stack": stack, "config": config, "secretKeys": sorted(esc)}


def run_stack(out: Path, stack: str, project: str = "pulumi", timeout: float = 300) -> StackRun:
    """Run ``out/<project>`` for ``stack`` in a fresh interpreter; fail loudly if nothing registered."""
    job = {**stack_inputs(out, stack, project), "program": str((out / project).resolve())}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    proc = subprocess.run(
        [sys.executable, "-I", "-B", str(CHILD)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=job["program"],
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise HarnessError(f"stack {stack}: the program failed under mocks:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout)
    if result["leakedImports"]:
        raise HarnessError(f"stack {stack}: the generated program imported {result['leakedImports']}")
    if not result["resources"]:
        raise HarnessError(f"stack {stack}: no resource was registered; is set_mocks in effect?")
    resources = tuple(sorted(result["resources"], key=lambda r: r["urn"]))
    return StackRun(stack, resources, result["outputs"], tuple(result["secretReads"]), tuple(result["configReads"]))
