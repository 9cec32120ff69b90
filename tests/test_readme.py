"""The README opens with the two fresh-machine commands, and .ci/run runs the second verbatim."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from compiler.codes import CODES
from tests.conftest import ROOT, Result

README = (ROOT / "README.md").read_text()


def test_two_commands_first_and_ci_runs_the_second() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    assert README.index("```sh") < README.index("\n## ")
    install_compile, tests = blocks[:2]
    assert install_compile.endswith("sophia-iac compile")
    assert tests.endswith("python -m pytest -q")
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_diagnostic_code_is_documented() -> None:
    for code, meaning in CODES.items():
        assert f"| {code} | {meaning} |" in README, code


def test_the_example_spec_is_one_the_compiler_accepts(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (example,) = re.findall(r"```yaml\n(apiVersion: sophia-iac/v1\n.*?)```", README, re.DOTALL)[:1]
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "integrations" / "openrouter.yaml").write_text(example)
    result = cli("validate", str(specs))
    assert result.code == 0, result.out


def created_by_integration() -> dict[str, set[str]]:
    """The resource types each integration registers, from the resource inventories of every stack."""
    found: dict[str, set[str]] = {}
    for inventory in sorted((ROOT / "tests" / "golden" / "inventory").glob("*.txt")):
        for line in inventory.read_text().splitlines():
            parts = line.split()
            if len(parts) < 2 or parts[0].startswith(("sophia:", "pulumi:providers", "pulumi:pulumi")):
                continue
            owner = next((p.removeprefix("parent=") for p in parts if p.startswith("parent=")), parts[1].split(".")[0])
            found.setdefault(owner, set()).add(parts[0].rsplit(":", 1)[-1])
    return found


def test_the_readme_says_what_each_integration_type_creates() -> None:
    from compiler.integrations import REGISTRY

    created = created_by_integration()
    rows = re.findall(r"^  \| ([a-z-]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", README, re.M)
    table = {name: (w.strip(), t.strip(), r.strip()) for name, w, t, r in rows if name != "type"}
    assert set(table) == set(REGISTRY)  # every type, and no other
    for name, entry in REGISTRY.items():
        where, things, rotation = table[name]
        expected = "bootstrap" if entry.bootstrap else "infrastructure" if entry.deploys else "none"
        assert where.startswith(expected), name
        listed = set(re.findall(r"`([^`]+)`", things))
        assert listed == created.get(name, set()), name  # the fixture has one integration of each type, named so
        assert (things == "nothing yet") == (not listed), name
        ways = [f"workflow: {', '.join(entry.rotators)}"] if entry.rotators else []
        ways += [f"ESC: {', '.join(r.provider for r in entry.esc_rotators)}"] if entry.esc_rotators else []
        assert rotation == ("; ".join(ways) or "reminder"), name
