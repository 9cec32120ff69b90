from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
# The tests' own platform: a full spec tree (one integration of every type, three environments,
# rotation policies, a GPU pool) that the resource, program, docs, contract and probe tests are
# written against, so that the product's specs/ can change without breaking them.
PLATFORM_SPECS = ROOT / "tests" / "fixtures" / "platform" / "specs"
UPDATE = os.environ.get("SOPHIA_IAC_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process, as a user would, outside GitHub Actions."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def case_tree(case: Path, dest: Path) -> Path:
    """Lay out a case: the shared base specs, then the case's own files over them."""
    if not (case / ".no-base").exists():
        shutil.copytree(CASES / "base", dest, dirs_exist_ok=True)
    for item in case.iterdir():
        if item.name in ("expected.txt", ".no-base", "README.md"):
            continue
        if item.is_dir():
            shutil.copytree(item, dest / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dest / item.name)
    for marker in dest.rglob("*.delete"):
        marker.unlink()
        (marker.with_suffix("")).unlink(missing_ok=True)
    return dest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path | None], Path]]:
    """A temporary project directory (cwd) holding a case tree, or the platform specs."""

    def make(case: Path | None = None) -> Path:
        if case is None:
            shutil.copytree(PLATFORM_SPECS, tmp_path / "specs")
        else:
            case_tree(case, tmp_path)
        monkeypatch.chdir(tmp_path)
        return tmp_path

    yield make


def golden(path: Path, actual: str) -> None:
    """Compare with a golden file; rewrite it only when SOPHIA_IAC_UPDATE_GOLDEN=1."""
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with SOPHIA_IAC_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@cache
def platform_generated() -> Path:
    """The platform specs compiled, once per test session, into a temporary directory."""
    tmp = Path(tempfile.mkdtemp(prefix="sophia-iac-platform-"))
    atexit.register(shutil.rmtree, tmp, True)
    shutil.copytree(PLATFORM_SPECS, tmp / "specs")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["compile", "--specs", str(tmp / "specs"), "--out", str(tmp / "generated")])
    assert code == 0, out.getvalue()
    return tmp / "generated"


@cache
def platform_model() -> Any:
    """The model of the platform specs."""
    from compiler.pipeline import analyse

    return analyse([str(PLATFORM_SPECS)]).model


@pytest.fixture(scope="session")
def stack_run() -> Callable[..., object]:
    """The platform's generated projects run under Pulumi mocks, once per (environment, project) per session."""
    from compiler.harness import run_stack

    runs: dict[tuple[str, str], object] = {}

    def get(env: str, project: str = "pulumi") -> object:
        if (env, project) not in runs:
            runs[(env, project)] = run_stack(platform_generated(), env, project)
        return runs[(env, project)]

    return get
