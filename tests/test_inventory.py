"""Golden resource inventory per stack: every resource, its parent and its options, byte for byte.

A change to a template or a spec that adds, removes, renames, re-parents or
unprotects a resource shows up here; refresh with SOPHIA_IAC_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from compiler.harness import StackRun
from tests.conftest import ROOT, golden

STACKS = [(env, project) for project in ("pulumi", "bootstrap") for env in ("development", "staging", "production")]
GOLDEN = ROOT / "tests" / "golden" / "inventory"


def inventory(run: StackRun) -> str:
    lines = []
    for r in sorted(run.resources, key=lambda r: (r["type"], r["name"])):
        parent = r["parent"].rsplit("::", 1)[-1]
        flags = "".join(f" {f}" for f, on in (("protect", r["protect"]), ("retain", r["retainOnDelete"])) if on)
        lines.append(f"{r['type']}  {r['name']}  parent={parent}{flags}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("env, project", STACKS, ids=[f"{p}-{e}" for e, p in STACKS])
def test_inventory(env: str, project: str, stack_run: Callable[..., StackRun]) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    golden(GOLDEN / f"{project}-{env}.txt", inventory(stack_run(env, project)))
