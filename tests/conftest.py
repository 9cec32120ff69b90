from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
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
    """A temporary project directory (cwd) holding a case tree, or the bundled specs."""

    def make(case: Path | None = None) -> Path:
        if case is None:
            shutil.copytree(ROOT / "specs", tmp_path / "specs")
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


@pytest.fixture(scope="session")
def stack_run() -> Callable[..., object]:
    """The committed generated/ projects run under Pulumi mocks, once per (environment, project) per session."""
    from compiler.harness import run_stack

    cache: dict[tuple[str, str], object] = {}

    def get(env: str, project: str = "pulumi") -> object:
        if (env, project) not in cache:
            cache[(env, project)] = run_stack(ROOT / "generated", env, project)
        return cache[(env, project)]

    return get
