"""The hook definitions, run by the real pre-commit in a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT, case_tree

HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "compiler", "schema", "templates")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def snapshot_of_this_repo(dest: Path) -> str:
    """This project's hook-relevant files as a one-commit git repo (so uncommitted work is tested too)."""
    dest.mkdir()
    for name in HOOK_REPO_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "_data"))
        else:
            shutil.copy2(src, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "snapshot")
    return git(dest, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("hooks") / "sophia-iac"
    return path, snapshot_of_this_repo(path)


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "GITHUB_ACTIONS": "false"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_bad_spec_is_blocked_with_its_location(hook_repo: tuple[Path, str], tmp_path: Path) -> None:
    hooks, rev = hook_repo
    repo = tmp_path / "user-repo"
    case_tree(CASES / "invalid" / "dangling-rotation-policy", repo)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: sophia-iac-validate\n", encoding="utf-8"
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    result = pre_commit(repo, tmp_path / "pre-commit-home", "run", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "specs/integration.yaml:13:56: error[E202]: rotation policy 'ninty-day' is not defined" in result.stdout

    (repo / "specs" / "integration.yaml").write_text(
        (repo / "specs" / "integration.yaml").read_text().replace("ninty-day", "ninety-day")
    )
    git(repo, "add", "-A")
    result = pre_commit(repo, tmp_path / "pre-commit-home", "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr


def test_own_config_uses_the_published_hooks_with_the_project_dependencies() -> None:
    import tomllib

    import yaml

    published = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    local = {
        h["id"]: h for r in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"] for h in r["hooks"]
    }
    assert local.keys() == published.keys()
    for hook_id, hook in local.items():
        assert (hook["files"], hook["pass_filenames"]) == (
            published[hook_id]["files"],
            published[hook_id]["pass_filenames"],
        )
        assert hook["entry"].removeprefix("python -m compiler") == published[hook_id]["entry"].removeprefix(
            "sophia-iac"
        )
    project_deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(local["sophia-iac-validate"]["additional_dependencies"]) == sorted(
        d.split(";")[0] for d in project_deps
    )


def test_own_config_runs_clean_on_this_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    snapshot_of_this_repo(repo)
    for extra in ("specs", "generated", ".github", ".pre-commit-config.yaml"):
        src = ROOT / extra
        if src.is_dir():
            shutil.copytree(src, repo / extra, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, repo / extra)
    git(repo, "add", "-A")
    result = pre_commit(repo, tmp_path / "home", "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sophia-iac validate" in result.stdout and "Passed" in result.stdout
