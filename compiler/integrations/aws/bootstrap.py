"""AWS, bootstrap: GitHub OIDC trust and the deploy role.

The deploy pipeline assumes the deploy role with a GitHub Actions OIDC token and
gets short-lived STS credentials: no access key exists. This project is applied
by an administrator (it creates the role the pipeline runs as), separately from
the infrastructure project, so a broken infrastructure definition cannot lock
the pipeline out.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import runtime
from . import common

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
# The schema's default (schema/integrations/aws.json): stack config holds only what the spec sets.
DEFAULT_MAX_SESSION_SECONDS = 3600

# The AWS-managed policies the infrastructure module attaches to its AWS Backup role
# (BACKUP_ROLE_POLICIES there): the only ones the deploy role may attach. Keep them in step.
BACKUP_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
)


# Data-plane reads ReadOnlyAccess grants and drift detection never needs.
DATA_READS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "lambda:GetFunction",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "dynamodb:PartiQLSelect",
    "athena:GetQueryResults",
)


def identity(stack: runtime.Stack, kind: str) -> dict[str, Any]:
    """The deploy or reader identity of this environment: its OIDC subject and role name (stack config ``access``).

    The deploy subject is this environment's GitHub environment, which admits only the refs that
    deploy it; the reader subject is the default branch. Pull requests present neither.
    """
    found: dict[str, Any] = stack.access["identities"][kind]
    return found


def trust_policy(sid: str, federated: str, audience: str, subject: str) -> str:
    """Trust for GitHub's OIDC tokens with exactly this audience and subject, and nothing else."""
    condition = {f"{GITHUB_OIDC_HOST}:aud": audience, f"{GITHUB_OIDC_HOST}:sub": subject}
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": federated},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": condition},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _drift_role(
    stack: runtime.Stack,
    component: runtime.Component,
    provider: aws.Provider,
    oidc: aws.iam.OpenIdConnectProvider,
    audience: str,
    federated: str,
    tags: dict[str, str],
) -> aws.iam.Role:
    """Read-only role for `pulumi preview --expect-no-changes` (drift.yml): it can look, never change.

    It trusts the default branch rather than a GitHub environment, so the scheduled drift job
    needs no deployment approval; read-only access is what makes that safe.
    """
    reader = identity(stack, "reader")
    trusted = reader["subject"]
    role = aws.iam.Role(
        f"{component.name}.drift-role",
        name=reader["awsRole"],
        description=(
            f"Assumed by GitHub Actions ({trusted}) to detect drift in {stack.project['name']}/{stack.environment}"
        ),
        max_session_duration=DEFAULT_MAX_SESSION_SECONDS,
        assume_role_policy=trust_policy("GitHubActionsDefaultBranch", federated, audience, trusted),
        tags=tags,
        opts=component.child(provider=provider, depends_on=[oidc]),
    )
    aws.iam.RolePolicyAttachment(
        f"{component.name}.drift-role-read-only",
        role=role.name,
        policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        opts=component.child(provider=provider),
    )
    # A refresh reads resources' configuration, never their data: deny what ReadOnlyAccess would
    # otherwise allow on objects, keys and stored secrets.
    aws.iam.RolePolicy(
        f"{component.name}.drift-role-no-data",
        role=role.id,
        name="no-data-reads",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "NoDataReads", "Effect": "Deny", "Action": list(DATA_READS), "Resource": "*"}],
            }
        ),
        opts=component.child(provider=provider),
    )
    return role


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    tags = stack.tags(component)
    provider = common.provider(stack, component)
    audience = str(stack.access["awsAudience"])
    # One provider per URL and account. Losing it or the role locks the pipeline out, so both are
    # protected where the spec protects stateful resources. An account that already has one
    # (another tool made it) imports it once instead (README: first-time set-up).
    oidc = aws.iam.OpenIdConnectProvider(
        f"{component.name}.github-oidc",
        url=GITHUB_OIDC_URL,
        client_id_lists=[audience],
        # No thumbprints: IAM verifies GitHub's certificate against its own trusted CAs.
        tags=tags,
        opts=component.child(provider=provider, stateful=True),
    )
    role_config = config["deployRole"]
    deployer = identity(stack, "deploy")
    trusted = deployer["subject"]
    # The ARN IAM gives that provider is fixed by account and host; naming it here (rather than
    # waiting for oidc.arn) keeps the trust policy plain data, and depends_on orders the creation.
    federated = f"arn:aws:iam::{stack.account}:oidc-provider/{GITHUB_OIDC_HOST}"
    role = aws.iam.Role(
        f"{component.name}.deploy-role",
        name=deployer["awsRole"],
        description=f"Assumed by GitHub Actions ({trusted}) to deploy {stack.project['name']}/{stack.environment}",
        max_session_duration=role_config.get("maxSessionDurationSeconds", DEFAULT_MAX_SESSION_SECONDS),
        assume_role_policy=trust_policy("GitHubActionsEnvironment", federated, audience, trusted),
        tags=tags,
        opts=component.child(provider=provider, stateful=True, depends_on=[oidc]),
    )
    # What the role may do. The infrastructure program manages S3, KMS and AWS Backup resources,
    # plus one IAM role (AWS Backup's service role). The managed policies from the spec
    # (deployRole.policyArns, e.g. PowerUserAccess: every service except IAM, Organizations and
    # Account) cover the former; they should grant no IAM, which is where privilege escalation
    # happens. The IAM the program needs comes from the inline policy below instead: manage only
    # roles under the infrastructure program's own path, attach only AWS Backup's managed policies
    # to them, and pass them only to AWS Backup. The deploy role itself sits outside that path, so
    # it cannot widen its own trust or permissions.
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{component.name}.deploy-role-{_policy_label(arn)}",
            role=role.name,
            policy_arn=arn,
            opts=component.child(provider=provider),
        )
        for arn in role_config.get("policyArns", [])
    ]
    aws.iam.RolePolicy(
        f"{component.name}.deploy-role-iam",
        role=role.id,
        name="program-roles",
        policy=json.dumps(iam_policy(stack)),
        opts=component.child(provider=provider),
    )
    drift = _drift_role(stack, component, provider, oidc, audience, federated, tags)
    return component.done(
        {
            "driftRoleArn": drift.arn,
            "deployRoleArn": role.arn,
            "deployRoleName": role.name,
            "oidcProviderArn": oidc.arn,
            "oidcSubject": trusted,
            "oidcAudience": audience,
            "managedPolicyArns": [a.policy_arn for a in attachments],
        }
    )


def iam_policy(stack: runtime.Stack) -> dict[str, Any]:
    """The IAM the infrastructure program needs, and no more (see deploy)."""
    # Partition "aws": the schema admits only arn:aws:... policies.
    roles = f"arn:aws:iam::{stack.account}:role{common.role_path(stack)}*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManageProgramRoles",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                    "iam:ListRolePolicies",
                    "iam:ListRoleTags",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription",
                ],
                "Resource": roles,
            },
            {
                "Sid": "AttachOnlyBackupPolicies",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                "Resource": roles,
                "Condition": {"ArnEquals": {"iam:PolicyARN": list(BACKUP_ROLE_POLICIES)}},
            },
            {
                "Sid": "PassProgramRolesToBackup",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            },
        ],
    }


def _policy_label(arn: str) -> str:
    """arn:aws:iam::aws:policy/PowerUserAccess -> policy-aws-PowerUserAccess (stable across reorderings)."""
    owner = arn.split(":")[4]
    path = arn.split(":policy/", 1)[1]
    return f"policy-{owner}-{path.replace('/', '-')}"
