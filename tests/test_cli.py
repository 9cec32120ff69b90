"""The command line: exit codes, output formats, and one real `python -m` run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import cli as cli_module
from tests.conftest import CASES, ROOT, Result

DANGLING = CASES / "invalid" / "dangling-rotation-policy"
EXPECTED_LINE = "specs/integration.yaml:13:56: error[E202]: rotation policy 'ninty-day' is not defined"


def test_validate_ok_says_so_in_one_line_and_exits_0(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    project(None)
    result = cli("validate")
    assert (result.code, result.out) == (0, "")  # nothing on standard output: a pre-commit hook stays quiet
    assert result.err == "17 files, 20 documents: valid\n"


def test_version_is_the_package_version(cli: Callable[..., Result]) -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = cli("--version")
    assert (result.code, result.out) == (0, f"sophia-iac {version}\n")


def test_a_wrong_schema_kind_lists_the_valid_names(cli: Callable[..., Result]) -> None:
    result = cli("schema", "--kind", "Integraton")
    assert result.code == 2
    assert "did you mean 'Integration'?" in result.err
    assert "valid names: Project, Environment, Integration, RotationPolicy, GpuPool, airbyte," in result.err


def test_plan_without_the_pulumi_sdk_says_what_to_install(
    project: Callable[[Path | None], Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    project(None)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pulumi" else real(name, *a))
    result = cli("plan", "--env", "production")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().splitlines() == [
        "sophia-iac: error: plan runs the generated programs under Pulumi mocks and needs their SDKs: "
        "pip install -e '.[plan]' (or 'sophia-iac[plan]')"
    ]


def test_text_format(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    project(DANGLING)
    result = cli("validate")
    assert result.code == 1
    assert result.out == (
        f"{EXPECTED_LINE} (at spec.secrets.private-key.rotation)\n  hint: did you mean 'ninety-day'?\n"
    )
    assert result.err == "1 error, 0 warnings in 5 files\n"


def test_github_annotations_are_automatic_under_actions(
    project: Callable[[Path], Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    project(DANGLING)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("validate")
    assert result.code == 1
    assert result.out == (
        "::error file=specs/integration.yaml,line=13,col=56,title=E202::rotation policy 'ninty-day' "
        "is not defined (at spec.secrets.private-key.rotation)%0Ahint: did you mean 'ninety-day'?\n"
    )


def test_json_format(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    project(DANGLING)
    result = cli("validate", "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["diagnostics"] == [
        {
            "file": "specs/integration.yaml",
            "line": 13,
            "column": 56,
            "code": "E202",
            "severity": "error",
            "path": "spec.secrets.private-key.rotation",
            "message": "rotation policy 'ninty-day' is not defined",
            "hint": "did you mean 'ninety-day'?",
        }
    ]


def test_validate_named_files_and_missing_paths(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    project(DANGLING)
    result = cli("validate", "specs/project.yaml", "nope.yaml")
    assert result.code == 1
    assert "nope.yaml:1:1: error[E008]: no such file or directory: nope.yaml" in result.out
    assert "E207" in result.out  # only the named file was read: no environments in it


def test_empty_directory(tmp_path: Path, cli: Callable[..., Result]) -> None:
    result = cli("validate", str(tmp_path))
    assert result.code == 1 and "error[E009]" in result.out


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["validate", "--format", "xml"], ["show"]])
def test_usage_errors_exit_2(cli: Callable[..., Result], args: list[str]) -> None:
    assert cli(*args).code == 2


def test_unknown_environment_is_a_usage_error(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    project(None)
    result = cli("show", "--env", "prod")
    assert result.code == 2
    assert "unknown environment 'prod'; environments: development, staging, production" in result.err


def test_internal_error_exits_3_without_traceback(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli_module.commands, "validate", boom)
    monkeypatch.delenv("SOPHIA_IAC_DEBUG", raising=False)
    result = cli("validate")
    assert result.code == 3
    assert "internal error: RuntimeError: kaboom" in result.err and "please report" in result.err
    assert "Traceback" not in result.err


def test_show_marks_override_values(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    project(None)
    result = cli("show", "--env", "production")
    assert result.code == 0
    assert "      size: MEDIUM  # override: specs/integrations/snowflake.yaml:" in result.out
    assert "name: staging" not in result.out  # only the chosen environment
    as_json = json.loads(cli("show", "--env", "staging", "--format", "json").out)
    snowflake = next(d for d in as_json if d["metadata"]["name"] == "snowflake")
    assert snowflake["spec"]["config"]["warehouse"]["size"] == "SMALL" and "overrides" not in snowflake["spec"]


def test_schema_command(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert cli("schema", "--check").code == 0
    printed = json.loads(cli("schema").out)
    assert printed["properties"]["kind"]["enum"] == [
        "Environment",
        "GpuPool",
        "Integration",
        "Project",
        "RotationPolicy",
    ]
    assert json.loads(cli("schema", "--kind", "snowflake").out)["title"] == "Snowflake integration config"
    assert cli("schema", "--kind", "nope").code == 2


def test_python_dash_m(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    result = subprocess.run(
        [sys.executable, "-m", "compiler", "validate", str(DANGLING / "specs")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "error[E202]" in result.stdout and "Traceback" not in result.stderr


def test_the_console_command_exits_fast_with_every_byte_written(tmp_path: Path) -> None:
    """`sophia-iac` skips the heap teardown at exit (os._exit): its exit codes and piped output stay whole."""
    import shutil

    exe = shutil.which("sophia-iac", path=str(Path(sys.executable).parent))
    assert exe, "the console script is installed beside this interpreter"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    specs = tmp_path / "specs"
    specs.mkdir()
    # Many located problems: far more output than a pipe buffer holds.
    (specs / "bad.yaml").write_text("".join(f"---\napiVersion: sophia-iac/v1\nkind: Nope{i}\n" for i in range(600)))
    bad = run("validate", "--format", "json", str(specs))
    assert bad.returncode == 1 and len(bad.stdout) > 65536
    codes = [d["code"] for d in json.loads(bad.stdout)["diagnostics"]]
    assert codes.count("E102") == 600
    text = run("validate", str(specs))
    assert text.returncode == 1 and text.stdout.count("error[E102]") == 600
    assert "602 errors" in text.stderr  # and no Project, no Environment
    assert run("schema", "--kind", "nope").returncode == 2


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_the_console_command_reports_output_it_cannot_write() -> None:
    """A full disk under standard output is an error with a message, not a silent success."""
    import shutil

    exe = shutil.which("sophia-iac", path=str(Path(sys.executable).parent))
    assert exe
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "PYTHONUNBUFFERED")}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [exe, "schema", "--kind", "Project"],
            cwd=ROOT,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert result.returncode == 1
    assert "cannot write standard output: No space left on device" in result.stderr
