"""The contract stage: each contract broken through a spec fails compile at the spec value, writing nothing;
contracts only a generator bug could break are shown failing on tampered rendered artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import contracts
from compiler.commands import stable_sources
from compiler.pipeline import analyse
from compiler.render import RenderContext, render_all
from tests.conftest import CASES, PLATFORM_SPECS, Result, golden

BROKEN = sorted(p for p in (CASES / "contracts").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", BROKEN, ids=[p.name for p in BROKEN])
def test_a_spec_that_breaks_a_contract_fails_compile(
    case: Path, project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(case)
    assert cli("validate").code == 0  # each artifact alone is fine; together they are not
    result = cli("compile")
    assert result.code == 1
    golden(case / "expected.txt", result.out)
    assert "Traceback" not in result.out + result.err
    assert not (root / "generated").exists() and not (root / ".github").exists()
    assert cli("compile", "--check").code == 1


def bundled() -> tuple[Any, dict[str, dict[str, str]], Any]:
    analysis = analyse([str(PLATFORM_SPECS)])
    assert analysis.model is not None
    rendered = render_all(RenderContext(analysis.model, stable_sources(analysis, PLATFORM_SPECS, "specs")))
    return analysis.model, rendered, analysis.documents


def codes(rendered: dict[str, dict[str, str]]) -> list[str]:
    model, _, documents = bundled()
    return [d.message for d in contracts.check(model, rendered, documents)]


def test_the_bundled_specs_keep_every_contract() -> None:
    model, rendered, documents = bundled()
    assert contracts.check(model, rendered, documents) == []


def tamper(rendered: dict[str, dict[str, str]], root: str, path: str, old: str, new: str) -> None:
    text = rendered[root][path]
    assert text.count(old) >= 1, old
    rendered[root][path] = text.replace(old, new)


def test_an_esc_environment_mapping_a_secret_no_program_reads() -> None:
    _, rendered, _ = bundled()
    line = '    "sophia-ai:vercelApiToken": "${environments.sophia-ai.staging-secrets.vercel.token}"\n'
    extra = '    "sophia-ai:gongAccessKey": "${environments.sophia-ai.staging-secrets.gong.accessKey}"\n'
    tamper(rendered, "generated", "esc/staging.yaml", line, line + extra)
    assert codes(rendered) == [
        "generated/esc/staging.yaml maps sophia-ai:gongAccessKey, which the pulumi program never reads in 'staging'"
    ]


def test_a_program_reading_a_secret_its_esc_environment_does_not_map() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "generated",
        "esc/production-bootstrap.yaml",
        '    "sophia-ai:alertWebhookOncall": "${environments.sophia-ai.production-secrets.slack.oncallWebhookUrl}"\n',
        "",
    )
    assert codes(rendered) == [
        "the bootstrap program reads sophia-ai:alertWebhookOncall in 'production', which "
        "generated/esc/production-bootstrap.yaml does not map"
    ]


def test_a_deploy_job_outside_its_github_environment_presents_a_subject_nothing_trusts() -> None:
    _, rendered, _ = bundled()
    tamper(rendered, "workflows", "deploy.yml", "    environment: staging\n", "")
    found = codes(rendered)
    assert len(found) == 2
    assert all(
        m.startswith("deploy.yml: job 'deploy-staging' presents repo:payready/sophia-ai:ref:refs/heads/main")
        for m in found
    )
    assert "IAM role arn:aws:iam::222222222222:role/sophia-ai-deploy, which trusts only" in found[0]
    assert "Pulumi Cloud team sophia-ai-staging-deploy, which trusts only" in found[1]


def test_a_job_acting_on_one_stack_as_another_environments_identity() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "workflows",
        "drift.yml",
        "team:sophia-ai-staging-reader",
        "team:sophia-ai-production-reader",
    )
    assert codes(rendered) == [
        "drift.yml: job 'drift-staging' acts on environment 'staging' as Pulumi Cloud team "
        "sophia-ai-production-reader, which is meant for 'production'"
    ]


def test_a_required_check_behind_a_path_filter() -> None:
    _, rendered, _ = bundled()
    tamper(rendered, "workflows", "specs.yml", "  pull_request: {}\n", "  pull_request:\n    paths: [specs/**]\n")
    found = codes(rendered)
    assert found == [
        "required status check 'validate' is job 'validate' of specs.yml, whose pull_request trigger is filtered; "
        "no pull request could merge",
        "required status check 'preview' is job 'preview' of specs.yml, whose pull_request trigger is filtered; "
        "no pull request could merge",
    ]


def test_a_deploy_on_a_branch_its_environment_does_not_admit() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "workflows",
        "deploy.yml",
        "  push:\n    branches:\n      - main\n",
        "  push:\n    branches:\n      - main\n      - release/*\n",
    )
    found = codes(rendered)
    assert (
        "deploy.yml: job 'deploy-staging' runs on pushes to ['main', 'release/*'] in 'staging', which admits main"
        in found
    )


def test_the_pipelines_esc_environment_never_references_the_bootstrap_credentials() -> None:
    _, rendered, _ = bundled()
    line = "    SOPHIA_ENVIRONMENT: production\n"
    leak = '    GITHUB_APP_PRIVATE_KEY: "${environments.sophia-ai.production-bootstrap-secrets.github.appPrivateKey}"\n'
    tamper(rendered, "generated", "esc/production.yaml", line, leak + line)
    assert codes(rendered) == [
        "generated/esc/production.yaml, which the pipeline opens, references "
        "sophia-ai/production-bootstrap-secrets (admin-only)"
    ]


def test_a_release_tag_anyone_could_push() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "generated",
        "bootstrap/Pulumi.production.yaml",
        '      - pattern: "v*"\n',
        '      - pattern: "release-*"\n',
    )
    assert codes(rendered) == [
        "the bootstrap stack 'production' trusts what the specs do not derive (at access.releaseTags[0].pattern)",
        "'production' admits tags v*, which no ruleset keeps anyone with write access from pushing",
    ]


def test_the_reads_a_stack_config_declares_are_what_the_contract_compares() -> None:
    _, rendered, _ = bundled()
    line = "      api-token: vercelApiToken\n"
    tamper(rendered, "generated", "pulumi/Pulumi.production.yaml", line, "")
    assert codes(rendered) == [
        "generated/esc/production.yaml maps sophia-ai:vercelApiToken, which the pulumi program never reads in "
        "'production'"
    ]


def test_the_rotate_job_outside_its_github_environment_presents_a_subject_its_team_does_not_trust() -> None:
    _, rendered, _ = bundled()
    tamper(rendered, "workflows", "rotate-secrets.yml", "    environment: production-rotation\n", "")
    (found,) = codes(rendered)
    assert found.startswith("rotate-secrets.yml: job 'rotate-production' presents repo:payready/sophia-ai:ref:")
    # Outside its GitHub environment the job could run at any ref: the issuer trusts it at main only.
    assert found.endswith(
        "to Pulumi Cloud team sophia-ai-production-rotator, which no bootstrap stack creates or trusts"
    )


def test_a_rotated_value_read_from_the_secrets_environment_keeps_the_old_credential() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered, "generated", "esc/production.yaml", "production-rotated.openrouter", "production-secrets.openrouter"
    )
    assert codes(rendered) == [
        "generated/esc/production.yaml reads openrouter.apiKey from sophia-ai/production-secrets, which is rotated "
        "in sophia-ai/production-rotated: it would keep the old one"
    ]


def test_nothing_but_a_rotated_value_is_read_from_where_the_rotator_writes() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "generated",
        "esc/production.yaml",
        "production-secrets.portkey.apiKey",
        "production-rotated.portkey.apiKey",
    )
    assert codes(rendered) == [
        "generated/esc/production.yaml reads portkey.apiKey from sophia-ai/production-rotated, which the rotation "
        "workflow may write but does not rotate"
    ]


def test_a_rotation_environment_admitting_any_branch_lets_pull_request_code_write_the_rotated_values() -> None:
    _, rendered, _ = bundled()
    block = (
        "      name: production-rotation\n      reviewers: []\n      canAdminsBypass: false\n"
        "      branchPattern: main\n"
    )
    tamper(
        rendered,
        "generated",
        "bootstrap/Pulumi.production.yaml",
        block,
        block.replace("      branchPattern: main\n", ""),
    )
    found = codes(rendered)
    assert (
        "the rotator identity of 'production' (Pulumi team sophia-ai-production-rotator) can change the stack and "
        "trusts repo:payready/sophia-ai:environment:production-rotation, which pull-request code can present"
    ) in found


def test_the_rotator_team_is_given_to_its_workflow_at_the_default_branch_only() -> None:
    _, rendered, _ = bundled()
    sub = '\n            sub: "repo:payready/sophia-ai:environment:production-rotation"'
    workflow = "payready/sophia-ai/.github/workflows/rotate-secrets.yml"
    config = "bootstrap/Pulumi.production.yaml"
    tamper(rendered, "generated", config, f'"{workflow}@refs/heads/main"{sub}', f'"{workflow}@*"{sub}')
    assert codes(rendered) == [
        f"the OIDC issuer gives the rotator team sophia-ai-production-rotator to {workflow}@*, not only to "
        "rotate-secrets.yml at refs/heads/main",
        "the bootstrap stack 'production' trusts what the specs do not derive "
        "(at access.oidcIssuer.policies[14].rules.job_workflow_ref)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        # A policy that lets pull-request code have the production reader's token (every production secret).
        (
            "        - team: sophia-ai-production-reader\n",
            '        - team: sophia-ai-production-reader\n          rules: {aud: "urn:pulumi:org:payready", '
            'sub: "repo:payready/sophia-ai:pull_request", job_workflow_ref: "*"}\n'
            "        - team: sophia-ai-production-reader\n",
            "access.oidcIssuer.policies",
        ),
        ("stackPermission: 0", "stackPermission: 102", "access.identities.rotator.stackPermission"),
        ('awsRole: ""', "awsRole: sophia-ai-deploy", "access.identities.rotator.awsRole"),
        ('aud: "urn:pulumi:org:payready"', 'aud: "*"', "access.oidcIssuer.policies[0].rules.aud"),
    ],
)
def test_a_bootstrap_stack_trusts_nothing_the_specs_do_not_derive(old: str, new: str, where: str) -> None:
    _, rendered, _ = bundled()
    text = rendered["generated"]["bootstrap/Pulumi.production.yaml"]
    assert old in text, old
    rendered["generated"]["bootstrap/Pulumi.production.yaml"] = text.replace(old, new, 1)
    found = [m for m in codes(rendered) if "trusts what the specs do not derive" in m]
    assert len(found) == 1 and f"(at {where}" in found[0], found


@pytest.mark.parametrize(
    "spelling",
    [
        "x${environments.sophia-ai.production-rotated.slack.botToken}",
        '${environments.sophia-ai["production-rotated"]["slack"].botToken}',
        "${environments.sophia-ai.production-rotated}",
    ],
)
def test_a_reference_into_the_rotated_environment_is_read_in_every_spelling(spelling: str) -> None:
    _, rendered, _ = bundled()
    line = '    SLACK_BOT_TOKEN: "${environments.sophia-ai.production-secrets.slack.botToken}"'
    tamper(rendered, "generated", "esc/production.yaml", line, f"    SLACK_BOT_TOKEN: {json.dumps(spelling)}")
    (found,) = codes(rendered)
    assert found.startswith("generated/esc/production.yaml reads ") and "from sophia-ai/production-rotated" in found


def test_the_rotated_environment_is_not_imported_in_either_form() -> None:
    _, rendered, _ = bundled()
    tamper(
        rendered,
        "generated",
        "esc/production.yaml",
        "values:\n",
        "imports:\n  - sophia-ai/production-rotated: {merge: true}\nvalues:\n",
    )
    assert codes(rendered) == [
        "generated/esc/production.yaml imports sophia-ai/production-rotated, which is written by rotation"
    ]


@pytest.mark.parametrize("suffix", ["rotated", "rotators"])
def test_what_the_bootstrap_creates_once_is_what_the_specs_declare(suffix: str) -> None:
    _, rendered, _ = bundled()
    path = f"esc/production-{suffix}.yaml"
    text = rendered["generated"][path]
    assert "values:" in text
    if suffix == "rotated":  # a rotated environment that reads the admin-only credentials
        tampered = text.replace("  - sophia-ai/production-secrets\n", "  - sophia-ai/production-bootstrap-secrets\n")
    else:  # a rotator retargeted at the deployer
        tampered = text.replace("targetUser: SOPHIA_PROD_SVC", "targetUser: SOPHIA_IAC_DEPLOYER")
    assert tampered != text
    rendered["generated"][path] = tampered
    assert codes(rendered) == [
        f"generated/esc/production-{suffix}.yaml is not the definition sophia-iac declares for it",
        f"the bootstrap stack 'production' does not create generated/esc/production-{suffix}.yaml as it is",
    ]
