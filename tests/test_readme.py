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
