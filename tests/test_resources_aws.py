"""The aws integration: real pulumi_aws resources, under mocks, in the infrastructure and bootstrap projects."""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import json
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
import pytest

from compiler.harness import StackRun
from compiler.model import thaw
from tests.conftest import Result, platform_model

MODEL = platform_model()
assert MODEL is not None
ENVIRONMENTS = [e.name for e in MODEL.environments]
ENV = {e.name: e for e in MODEL.environments}
AWS = next(i for i in MODEL.integrations if i.type.name == "aws")
REPOSITORY = MODEL.project.repository
OIDC_HOST = "token.actions.githubusercontent.com"

PROVIDER = "pulumi:providers:aws"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
BACKUP_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


def config(env: str) -> dict[str, Any]:
    """The aws integration's effective config in one environment, straight from the specs."""
    effective: dict[str, Any] = thaw(AWS.per_env[env].config)
    return effective


def protected(env: str) -> bool:
    own = AWS.per_env[env].protect
    return ENV[env].protect if own is None else own


def plan_enabled(env: str) -> bool:
    return bool(config(env).get("backupPlan", {}).get("enabled"))


@pytest.fixture(scope="module")
def infra(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/ infrastructure project, run once per stack."""
    return {env: stack_run(env) for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def bootstrap(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/ bootstrap project, run once per stack."""
    return {env: stack_run(env, "bootstrap") for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def module() -> ModuleType:
    """The infrastructure program's AWS module, for its pure helpers (the cron conversion): the module
    the generated program ships verbatim, imported where it lives in the compiler."""
    with warnings.catch_warnings():  # importing pulumi_aws warns about its deprecated resources
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("compiler.integrations.aws.deploy")


def children(run: StackRun, component_type: str) -> dict[str, dict[str, Any]]:
    """The resources of the aws component, by logical name."""
    return {r["name"]: r for r in run.children(run.component(component_type, AWS.name))}


def infra_children(run: StackRun) -> dict[str, dict[str, Any]]:
    return children(run, "sophia:integrations:Aws")


def bootstrap_children(run: StackRun) -> dict[str, dict[str, Any]]:
    """The bootstrap resources of the deploy path (the read-only drift role has its own test)."""
    found = children(run, "sophia:bootstrap:Aws")
    return {name: r for name, r in found.items() if not name.startswith("aws.drift-role")}


def one(resources: dict[str, dict[str, Any]], type_token: str) -> dict[str, Any]:
    (found,) = [r for r in resources.values() if r["type"] == type_token]
    return found


def types(resources: dict[str, dict[str, Any]]) -> Counter[str]:
    return Counter(r["type"] for r in resources.values())


def takes_tags(type_token: str) -> bool:
    """Whether the pulumi_aws resource class behind a type token has a tags argument."""
    _, module_path, name = type_token.split(":")
    with warnings.catch_warnings():  # importing a pulumi_aws module warns about its deprecated resources
        warnings.simplefilter("ignore", DeprecationWarning)
        cls = getattr(importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}"), name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_the_bundled_spec_covers_both_branches() -> None:
    """The tests below follow the spec; make sure it still exercises both sides of each choice."""
    assert any(plan_enabled(env) for env in ENVIRONMENTS)
    assert not all(plan_enabled(env) for env in ENVIRONMENTS)
    assert protected("production") and not protected("development")


# Resource inventory ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_infrastructure_resources(infra: dict[str, StackRun], env: str) -> None:
    expected = Counter(
        {
            PROVIDER: 1,
            KEY: 1,
            ALIAS: 1,
            BUCKET: 1,
            VERSIONING: 1,
            ENCRYPTION: 1,
            PUBLIC_ACCESS: 1,
            BUCKET_POLICY: 1,
            LIFECYCLE: 1,
        }
    )
    if plan_enabled(env):
        expected.update({VAULT: 1, PLAN: 1, SELECTION: 1, ROLE: 1, ATTACHMENT: 2})
    assert types(infra_children(infra[env])) == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bootstrap_resources(bootstrap: dict[str, StackRun], infra: dict[str, StackRun], env: str) -> None:
    policies = config(env)["deployRole"].get("policyArns", [])
    expected = Counter({PROVIDER: 1, OIDC: 1, ROLE: 1, INLINE_POLICY: 1, ATTACHMENT: len(policies)})
    assert types(bootstrap_children(bootstrap[env])) == +expected
    # The pipeline's own trust lives only in the bootstrap project.
    assert not {OIDC, INLINE_POLICY} & set(types(infra_children(infra[env])))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_logical_names_are_deterministic_and_namespaced(
    infra: dict[str, StackRun], bootstrap: dict[str, StackRun], env: str
) -> None:
    for found in (infra_children(infra[env]), bootstrap_children(bootstrap[env])):
        assert found and all(name.startswith(f"{AWS.name}.") for name in found)
    assert {"aws.provider", "aws.kms-key", "aws.backup-bucket"} <= set(infra_children(infra[env]))
    assert {"aws.provider", "aws.github-oidc", "aws.deploy-role"} <= set(bootstrap_children(bootstrap[env]))


# The provider ----------------------------------------------------------------------------------


@pytest.mark.parametrize("project", ["pulumi", "bootstrap"])
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_explicit_provider_pinned_to_the_account_without_credentials(
    infra: dict[str, StackRun], bootstrap: dict[str, StackRun], env: str, project: str
) -> None:
    resources = (infra_children(infra[env]) if project == "pulumi" else bootstrap_children(bootstrap[env])).values()
    (provider,) = [r for r in resources if r["type"] == PROVIDER]
    assert provider["name"] == f"{AWS.name}.provider"
    inputs = provider["inputs"]
    assert inputs["region"] == ENV[env].region
    assert json.loads(inputs["allowedAccountIds"]) == [ENV[env].account]
    static = {"accessKey", "secretKey", "token", "profile", "sharedCredentialsFiles", "assumeRoleWithWebIdentity"}
    assert static.isdisjoint(inputs)
    tags = json.loads(inputs["defaultTags"])["tags"]
    assert {f"compliance-{regime}": "in-scope" for regime in MODEL.project.compliance}.items() <= tags.items()
    assert tags["environment"] == env
    # Every AWS resource goes through it, never through the default provider.
    for resource in resources:
        if resource["type"].startswith("aws:"):
            assert resource["provider"].startswith(provider["urn"] + "::"), resource["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_aws_secret_reaches_either_project(
    infra: dict[str, StackRun], bootstrap: dict[str, StackRun], env: str
) -> None:
    assert AWS.secrets == ()
    for resources in (infra_children(infra[env]), bootstrap_children(bootstrap[env])):
        assert "mock-secret" not in repr(list(resources.values()))


# KMS and the backup bucket ---------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kms_key_rotates(infra: dict[str, StackRun], env: str) -> None:
    resources = infra_children(infra[env])
    kms = {"rotation": True, "rotationPeriodDays": 365, "deletionWindowDays": 30, **config(env).get("kms", {})}
    assert kms["rotation"] is True
    key = one(resources, KEY)
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["inputs"]["rotationPeriodInDays"] == kms["rotationPeriodDays"]
    assert key["inputs"]["deletionWindowInDays"] == kms["deletionWindowDays"]
    alias = one(resources, ALIAS)
    assert alias["inputs"]["name"] == f"alias/{MODEL.project.pulumi_project}-{env}-{AWS.name}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_bucket_is_versioned_encrypted_and_private(infra: dict[str, StackRun], env: str) -> None:
    resources = infra_children(infra[env])
    bucket, key = one(resources, BUCKET), one(resources, KEY)
    name = f"{config(env)['backupBucket']['namePrefix']}-{env}-{ENV[env].account}"
    assert bucket["inputs"]["bucket"] == name and len(name) <= 63

    versioning = one(resources, VERSIONING)
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    assert bucket["urn"] in versioning["dependencies"]

    encryption = one(resources, ENCRYPTION)
    (rule,) = encryption["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["bucketKeyEnabled"] is True
    # The key's ARN is computed by AWS (null under mocks); the dependency shows it is this key.
    assert {key["urn"], bucket["urn"]} <= set(encryption["dependencies"])

    block = one(resources, PUBLIC_ACCESS)["inputs"]
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[setting] is True, setting

    policy = one(resources, BUCKET_POLICY)
    (statement,) = json.loads(policy["inputs"]["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    assert one(resources, PUBLIC_ACCESS)["urn"] in policy["dependencies"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_lifecycle_rules_follow_the_spec(infra: dict[str, StackRun], env: str) -> None:
    resources = infra_children(infra[env])
    lifecycle = config(env)["backupBucket"]["lifecycle"]
    rules = {rule["id"]: rule for rule in one(resources, LIFECYCLE)["inputs"]["rules"]}
    assert rules == {
        "glacier-transition": {
            "id": "glacier-transition",
            "status": "Enabled",
            "filter": {},
            "transitions": [{"days": lifecycle["glacierAfterDays"], "storageClass": "GLACIER"}],
        },
        "noncurrent-expiration": {
            "id": "noncurrent-expiration",
            "status": "Enabled",
            "filter": {},
            "noncurrentVersionExpiration": {"noncurrentDays": lifecycle["noncurrentDays"]},
        },
    }
    # Noncurrent versions exist only once versioning is on.
    assert one(resources, VERSIONING)["urn"] in one(resources, LIFECYCLE)["dependencies"]


def test_production_keeps_a_year_of_noncurrent_versions(infra: dict[str, StackRun]) -> None:
    rules = one(infra_children(infra["production"]), LIFECYCLE)["inputs"]["rules"]
    assert {"noncurrentDays": 365} in [r.get("noncurrentVersionExpiration") for r in rules]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stateful_resources_are_protected_and_retained_where_the_spec_protects(
    infra: dict[str, StackRun], env: str
) -> None:
    resources = infra_children(infra[env])
    keep = protected(env)
    stateful = {KEY, BUCKET, VERSIONING, ENCRYPTION, PUBLIC_ACCESS, VAULT}
    for resource in resources.values():
        expected = keep and resource["type"] in stateful
        assert (resource["protect"], resource["retainOnDelete"]) == (expected, expected), resource["name"]


def test_production_bucket_and_key_are_kept_development_ones_are_not(infra: dict[str, StackRun]) -> None:
    for env, keep in (("production", True), ("development", False)):
        resources = infra_children(infra[env])
        for type_token in (BUCKET, KEY):
            resource = one(resources, type_token)
            assert resource["protect"] is keep and resource["retainOnDelete"] is keep, (env, type_token)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_compliance_tags_on_every_taggable_resource(
    infra: dict[str, StackRun], bootstrap: dict[str, StackRun], env: str
) -> None:
    compliance = {f"compliance-{regime}": "in-scope" for regime in MODEL.project.compliance}
    assert compliance  # soc2, gdpr, hipaa in the bundled project
    tagged = 0
    for resources in (infra_children(infra[env]), bootstrap_children(bootstrap[env])):
        for resource in resources.values():
            if resource["type"].startswith("aws:") and takes_tags(resource["type"]):
                tags = resource["inputs"].get("tags", {})
                assert compliance.items() <= tags.items(), resource["name"]
                assert tags["environment"] == env and tags["managed-by"] == "sophia-iac"
                tagged += 1
    assert tagged >= 4


# AWS Backup ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_plan_where_the_spec_asks_for_one(infra: dict[str, StackRun], module: ModuleType, env: str) -> None:
    resources = infra_children(infra[env])
    if not plan_enabled(env):
        assert not {VAULT, PLAN, SELECTION, ROLE} & set(types(resources))
        return
    spec = {"schedule": "0 5 * * *", "retentionDays": 35, **config(env)["backupPlan"]}
    vault, plan, selection = one(resources, VAULT), one(resources, PLAN), one(resources, SELECTION)
    role, bucket = one(resources, ROLE), one(resources, BUCKET)
    (rule,) = plan["inputs"]["rules"]
    assert rule["schedule"] == module.backup_cron(spec["schedule"], "aws")
    assert rule["lifecycle"] == {"deleteAfter": spec["retentionDays"]}
    assert rule["targetVaultName"] == vault["inputs"]["name"]
    assert vault["urn"] in plan["dependencies"]
    # The selection backs up the bucket, with the AWS Backup role, in this plan.
    assert selection["inputs"]["resources"] == [f"arn:aws:s3:::{bucket['inputs']['bucket']}"]
    assert selection["inputs"]["planId"] == f"{plan['name']}-id"
    attachments = [r for r in resources.values() if r["type"] == ATTACHMENT]
    assert {bucket["urn"], plan["urn"], *(a["urn"] for a in attachments)} <= set(selection["dependencies"])
    assert {a["inputs"]["role"] for a in attachments} == {role["inputs"]["name"]}
    assert BACKUP_POLICY in {a["inputs"]["policyArn"] for a in attachments}
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ENV[env].account}}


def test_staging_and_production_back_up_daily_at_five_utc(infra: dict[str, StackRun]) -> None:
    for env in ("staging", "production"):
        (rule,) = one(infra_children(infra[env]), PLAN)["inputs"]["rules"]
        assert rule["schedule"] == "cron(0 5 * * ? *)"


@pytest.mark.parametrize(
    "cron, expected",
    [
        ("0 5 * * *", "cron(0 5 * * ? *)"),
        ("15 3 1 * *", "cron(15 3 1 * ? *)"),
        ("0 */6 * * *", "cron(0 0/6 * * ? *)"),
        ("0 4 */2 * *", "cron(0 4 1/2 * ? *)"),
        ("30 2 * * 1-5", "cron(30 2 ? * MON,TUE,WED,THU,FRI *)"),
        ("0 4 * * 0", "cron(0 4 ? * SUN *)"),
        ("0 4 * * 7", "cron(0 4 ? * SUN *)"),
        ("0 4 * * 5-7", "cron(0 4 ? * SUN,FRI,SAT *)"),
        ("0 4 * * sat-sun", "cron(0 4 ? * SUN,SAT *)"),
        ("0 4 * * */2", "cron(0 4 ? * SUN,TUE,THU,SAT *)"),
        ("0 4 * * 1,3", "cron(0 4 ? * MON,WED *)"),
        ("0 4 * * 0-6", "cron(0 4 * * ? *)"),
        ("0 4 * jan mon", "cron(0 4 ? JAN MON *)"),
        ("0 4 ? * *", "cron(0 4 * * ? *)"),
    ],
)
def test_cron_conversion(module: ModuleType, cron: str, expected: str) -> None:
    assert module.backup_cron(cron, "aws") == expected


@pytest.mark.parametrize(
    "cron, why",
    [
        ("0 4 1 * 1", "both day-of-month and day-of-week"),
        ("*/15 * * * *", "at most hourly"),
        ("0 4 * * 5#2", "unsupported day-of-week"),
        ("0 4 * * *  *", "five-field"),
    ],
)
def test_cron_that_aws_backup_cannot_express_is_refused(module: ModuleType, cron: str, why: str) -> None:
    with pytest.raises(pulumi.RunError, match=why):
        module.backup_cron(cron, "aws")


def test_an_enabled_plan_needs_a_bucket(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    root = project(None)
    spec = root / "specs" / "integrations" / "aws.yaml"
    text = spec.read_text()
    start, end = text.index("    backupBucket:\n"), text.index("    backupPlan:\n")
    spec.write_text(text[:start] + text[end:])
    result = cli("validate")
    assert result.code == 1
    assert "missing required key 'backupBucket'" in result.out + result.err


# Bootstrap: GitHub OIDC and the deploy role ----------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_github_oidc_provider(bootstrap: dict[str, StackRun], env: str) -> None:
    oidc = one(bootstrap_children(bootstrap[env]), OIDC)
    audience = config(env).get("oidc", {}).get("audience", "sts.amazonaws.com")
    assert oidc["inputs"]["url"] == f"https://{OIDC_HOST}"
    assert oidc["inputs"]["clientIdLists"] == [audience]
    assert oidc["protect"] is oidc["retainOnDelete"] is protected(env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_trusts_exactly_this_repository_and_environment(bootstrap: dict[str, StackRun], env: str) -> None:
    resources = bootstrap_children(bootstrap[env])
    role, oidc = one(resources, ROLE), one(resources, OIDC)
    role_config = config(env)["deployRole"]
    audience = config(env).get("oidc", {}).get("audience", "sts.amazonaws.com")
    assert role["inputs"]["name"] == role_config["name"]
    assert role["inputs"]["maxSessionDuration"] == role_config.get("maxSessionDurationSeconds", 3600)
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ENV[env].account}:oidc-provider/{OIDC_HOST}"}
    assert oidc["urn"] in role["dependencies"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{OIDC_HOST}:aud": audience,
            f"{OIDC_HOST}:sub": f"repo:{REPOSITORY}:environment:{env}",
        }
    }
    assert REPOSITORY == "payready/sophia-ai"
    assert f"repo:payready/sophia-ai:environment:{env}" in role["inputs"]["assumeRolePolicy"]
    assert "*" not in role["inputs"]["assumeRolePolicy"]
    assert role["protect"] is role["retainOnDelete"] is protected(env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_permissions(bootstrap: dict[str, StackRun], infra: dict[str, StackRun], env: str) -> None:
    resources = bootstrap_children(bootstrap[env])
    role = one(resources, ROLE)
    attachments = [r for r in resources.values() if r["type"] == ATTACHMENT]
    assert sorted(a["inputs"]["policyArn"] for a in attachments) == sorted(config(env)["deployRole"]["policyArns"])
    assert {a["inputs"]["role"] for a in attachments} == {role["inputs"]["name"]}

    inline = one(resources, INLINE_POLICY)
    assert role["urn"] in inline["dependencies"]
    statements = {s["Sid"]: s for s in json.loads(inline["inputs"]["policy"])["Statement"]}
    assert set(statements) == {"ManageProgramRoles", "AttachOnlyBackupPolicies", "PassProgramRolesToBackup"}
    scope = f"arn:aws:iam::{ENV[env].account}:role/{MODEL.project.pulumi_project}/{env}/*"
    for statement in statements.values():
        assert statement["Effect"] == "Allow" and statement["Resource"] == scope
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(action.startswith("iam:") and "*" not in action for action in actions)
    assert statements["PassProgramRolesToBackup"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}
    }
    allowed = statements["AttachOnlyBackupPolicies"]["Condition"]["ArnEquals"]["iam:PolicyARN"]

    # The deploy role (path /) is outside its own IAM scope: it cannot rewrite its trust or permissions.
    assert not fnmatch.fnmatchcase(f"arn:aws:iam::{ENV[env].account}:role/{role['inputs']['name']}", scope)
    # ...and what the infrastructure program does with IAM is inside it.
    if plan_enabled(env):
        program = infra_children(infra[env])
        backup_role = one(program, ROLE)["inputs"]
        arn = f"arn:aws:iam::{ENV[env].account}:role{backup_role['path']}{backup_role['name']}"
        assert fnmatch.fnmatchcase(arn, scope)
        used = {r["inputs"]["policyArn"] for r in program.values() if r["type"] == ATTACHMENT}
        assert used == set(allowed)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_deploy_role_trusts_only_its_own_github_environment(bootstrap: dict[str, StackRun], env: str) -> None:
    """Deploys run in their environment's GitHub environment, which admits only the refs that deploy it."""
    assert ENV[env].deploy_on in ("push", "release")
    policy = json.loads(one(bootstrap_children(bootstrap[env]), ROLE)["inputs"]["assumeRolePolicy"])
    assert policy["Statement"][0]["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"] == (
        f"repo:payready/sophia-ai:environment:{env}"
    )
    assert "StringLike" not in policy["Statement"][0]["Condition"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_drift_role_is_read_only_and_trusts_only_the_default_branch(bootstrap: dict[str, StackRun], env: str) -> None:
    (role,) = [r for r in bootstrap[env].of_type("aws:iam/role:Role") if r["name"] == "aws.drift-role"]
    assert role["inputs"]["name"] == "sophia-ai-drift"
    statement = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert len(statement) == 1
    assert statement[0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement[0]["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:payready/sophia-ai:ref:refs/heads/main",
    }
    attached = [
        r["inputs"]["policyArn"]
        for r in bootstrap[env].of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r["name"].startswith("aws.drift-role")
    ]
    assert attached == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    # ...but no data: objects, decryption and stored secrets are denied.
    (deny,) = [
        r for r in bootstrap[env].of_type("aws:iam/rolePolicy:RolePolicy") if r["name"] == "aws.drift-role-no-data"
    ]
    (statement,) = json.loads(deny["inputs"]["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
    assert {"s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"} <= set(statement["Action"])
