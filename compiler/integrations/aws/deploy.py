"""AWS: KMS key, backup bucket and AWS Backup plan.

The GitHub OIDC provider and the deploy role this program is deployed with live
in the bootstrap project, so a broken definition here cannot lock the pipeline out.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import runtime
from . import common

# The schema's defaults (schema/integrations/aws.json): stack config holds only what the spec sets.
KMS_DEFAULTS: dict[str, Any] = {"rotation": True, "rotationPeriodDays": 365, "deletionWindowDays": 30}
BACKUP_PLAN_DEFAULTS: dict[str, Any] = {"schedule": "0 5 * * *", "retentionDays": 35}

# AWS-managed policies of the AWS Backup role: the service's general policy, plus S3's own, since
# AWSBackupServiceRolePolicyForBackup does not cover S3 buckets. The bootstrap module lets the
# deploy role attach exactly these and nothing else: keep the two lists in step.
BACKUP_ROLE_POLICIES = {
    "backup": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "s3-backup": "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
}


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    tags = stack.tags(component)
    provider = common.provider(stack, component)
    base = f"{stack.project['name']}-{stack.environment}-{component.name}"

    kms = {**KMS_DEFAULTS, **config.get("kms", {})}
    rotation = bool(kms["rotation"])
    key = aws.kms.Key(
        f"{component.name}.kms-key",
        description=f"{base}: backups and data at rest",
        enable_key_rotation=rotation,
        rotation_period_in_days=kms["rotationPeriodDays"] if rotation else None,
        deletion_window_in_days=kms["deletionWindowDays"],
        tags=tags,
        opts=component.child(provider=provider, stateful=True),
    )
    alias = aws.kms.Alias(
        f"{component.name}.kms-alias",
        name=f"alias/{checked(base, 250, 'KMS alias name', component.name)}",
        target_key_id=key.key_id,
        opts=component.child(provider=provider),
    )
    outputs: dict[str, Any] = {"kmsKeyArn": key.arn, "kmsAlias": alias.name}

    bucket, arn = None, ""
    if "backupBucket" in config:
        name = bucket_name(config["backupBucket"]["namePrefix"], stack.environment, stack.account, component.name)
        bucket, arn = backup_bucket(component, provider, key, tags, name, config["backupBucket"]), bucket_arn(name)
        outputs.update(backupBucket=bucket.bucket, backupBucketArn=arn)

    plan = {**BACKUP_PLAN_DEFAULTS, **(config.get("backupPlan") or {"enabled": False})}
    if plan["enabled"] and bucket is not None:  # the schema requires backupBucket with an enabled plan
        outputs.update(backup_plan(stack, component, provider, key, bucket, arn, tags, plan, base))
    return component.done(outputs)


def backup_bucket(
    component: runtime.Component,
    provider: aws.Provider,
    key: aws.kms.Key,
    tags: dict[str, str],
    name: str,
    config: dict[str, Any],
) -> aws.s3.Bucket:
    """The versioned, KMS-encrypted, private backup bucket and its settings (separate resources in pulumi-aws v7)."""
    bucket = aws.s3.Bucket(
        f"{component.name}.backup-bucket",
        bucket=name,
        tags=tags,
        opts=component.child(provider=provider, stateful=True),
    )
    # Versioning, encryption and the public access block are protected like the bucket: deleting
    # one of them would suspend versioning, drop KMS encryption or open the bucket, not just forget it.
    versioning = aws.s3.BucketVersioning(
        f"{component.name}.backup-bucket-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=component.child(provider=provider, stateful=True),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{component.name}.backup-bucket-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn
                ),
                # An S3 bucket key: far fewer KMS requests, same key.
                bucket_key_enabled=True,
            )
        ],
        opts=component.child(provider=provider, stateful=True),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{component.name}.backup-bucket-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=component.child(provider=provider, stateful=True),
    )
    # TLS only. After the public access block: S3 refuses concurrent policy and block changes.
    aws.s3.BucketPolicy(
        f"{component.name}.backup-bucket-policy",
        bucket=bucket.id,
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn(name), f"{bucket_arn(name)}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
        opts=component.child(provider=provider, depends_on=[public_access]),
    )
    rules = lifecycle_rules(config.get("lifecycle") or {})
    if rules:
        # Noncurrent-version rules need versioning in place first.
        aws.s3.BucketLifecycleConfiguration(
            f"{component.name}.backup-bucket-lifecycle",
            bucket=bucket.id,
            rules=rules,
            opts=component.child(provider=provider, depends_on=[versioning]),
        )
    return bucket


def lifecycle_rules(lifecycle: dict[str, Any]) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """The spec's lifecycle as S3 rules, each over the whole bucket (an empty filter)."""
    rules = []
    if "glacierAfterDays" in lifecycle:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="glacier-transition",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=lifecycle["glacierAfterDays"], storage_class="GLACIER"
                    )
                ],
            )
        )
    if "noncurrentDays" in lifecycle:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="noncurrent-expiration",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=lifecycle["noncurrentDays"]
                ),
            )
        )
    return rules


def backup_plan(
    stack: runtime.Stack,
    component: runtime.Component,
    provider: aws.Provider,
    key: aws.kms.Key,
    bucket: aws.s3.Bucket,
    bucket_arn: str,
    tags: dict[str, str],
    plan: dict[str, Any],
    base: str,
) -> dict[str, Any]:
    """A KMS-encrypted vault, a scheduled plan, and a selection backing up the bucket with its own role."""
    schedule = backup_cron(plan["schedule"], component.name)
    name = checked(base, 50, "AWS Backup vault, plan and selection name", component.name)
    # The vault holds the recovery points: stateful.
    vault = aws.backup.Vault(
        f"{component.name}.backup-vault",
        name=name,
        kms_key_arn=key.arn,
        tags=tags,
        opts=component.child(provider=provider, stateful=True),
    )
    backup = aws.backup.Plan(
        f"{component.name}.backup-plan",
        name=name,
        rules=[
            aws.backup.PlanRuleArgs(
                rule_name="scheduled",
                target_vault_name=vault.name,
                schedule=schedule,  # evaluated in UTC, as the spec's cron is
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=plan["retentionDays"]),
                recovery_point_tags=tags,
            )
        ],
        tags=tags,
        opts=component.child(provider=provider),
    )
    role = aws.iam.Role(
        f"{component.name}.backup-role",
        name=checked(f"{base}-backup", 64, "AWS Backup role name", component.name),
        path=common.role_path(stack),
        description=f"AWS Backup service role of {base}",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "backup.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        # Only on behalf of this account (no confused deputy).
                        "Condition": {"StringEquals": {"aws:SourceAccount": stack.account}},
                    }
                ],
            }
        ),
        tags=tags,
        opts=component.child(provider=provider),
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{component.name}.backup-role-{kind}",
            role=role.name,
            policy_arn=arn,
            opts=component.child(provider=provider),
        )
        for kind, arn in BACKUP_ROLE_POLICIES.items()
    ]
    aws.backup.Selection(
        f"{component.name}.backup-selection",
        name=name,
        plan_id=backup.id,
        iam_role_arn=role.arn,
        resources=[bucket_arn],
        opts=component.child(provider=provider, depends_on=[bucket, *attachments]),
    )
    return {"backupVault": vault.name, "backupPlanId": backup.id, "backupSchedule": schedule}


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")


def bucket_name(prefix: str, environment: str, account: str, owner: str) -> str:
    """Deterministic and globally unique: one bucket per environment and account."""
    name = f"{prefix}-{environment}-{account}"
    if not _BUCKET_NAME.match(name) or name.startswith(_RESERVED_BUCKET_PREFIXES):
        raise pulumi.RunError(
            f"{owner}: backup bucket name {name!r} is not a valid S3 bucket name"
            " (3 to 63 lowercase letters, digits and dashes); shorten backupBucket.namePrefix"
        )
    return name


def bucket_arn(name: str) -> str:
    """A bucket's ARN is fixed by its name: plain data, so policies stay plain JSON."""
    return f"arn:aws:s3:::{name}"


def checked(name: str, limit: int, what: str, owner: str) -> str:
    if len(name) > limit:
        raise pulumi.RunError(f"{owner}: {what} {name!r} is longer than {limit} characters")
    return name


# Five-field cron -> AWS Backup schedule expression.
#
# Specs write cron(8): "minute hour day-of-month month day-of-week", in UTC. AWS Backup takes
# cron(minute hour day-of-month month day-of-week year) and differs in ways that matter:
# - a sixth field, the year: always "*";
# - exactly one of day-of-month and day-of-week must be "?". cron(8)'s "*" (any) becomes "?" in
#   whichever is unrestricted. If a spec restricts both, cron(8) runs when EITHER matches, which
#   AWS cannot express: refused rather than silently changed;
# - day-of-week counts 1-7 from Sunday where cron(8) counts 0-7 (0 and 7 both Sunday): days are
#   written as names (SUN..SAT), which mean the same in both, after expanding ranges and steps;
# - "*/n" is spelled with its start, "0/n" (hour) or "1/n" (day-of-month, month);
# - AWS Backup runs at most hourly, so the minute must be a single number.
# Examples: "0 5 * * *" -> "cron(0 5 * * ? *)"; "30 2 * * 1-5" -> "cron(30 2 ? * MON,TUE,WED,THU,FRI *)".
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def backup_cron(expression: str, owner: str) -> str:
    fields = expression.split()
    if len(fields) != 5:
        raise pulumi.RunError(f"{owner}: backup schedule {expression!r} is not a five-field cron expression")
    minute, hour, dom, month, dow = fields
    if not minute.isdigit():
        raise pulumi.RunError(
            f"{owner}: backup schedule {expression!r}: AWS Backup runs at most hourly, so the minute must be one number"
        )
    hour, dom, month = _from_start(hour, "0"), _from_start(dom, "1"), _from_start(month.upper(), "1")
    days = _weekdays(dow, expression, owner)
    if days is None:
        return f"cron({minute} {hour} {'*' if dom == '?' else dom} {month} ? *)"
    if dom not in ("*", "?"):
        raise pulumi.RunError(
            f"{owner}: backup schedule {expression!r} restricts both day-of-month and day-of-week,"
            " which AWS Backup cannot express; restrict one of them"
        )
    return f"cron({minute} {hour} ? {month} {days} *)"


def _from_start(field: str, start: str) -> str:
    return ",".join(start + item[1:] if item.startswith("*/") else item for item in field.split(","))


def _weekdays(field: str, expression: str, owner: str) -> str | None:
    """cron(8) day-of-week as AWS day names; None when every day matches."""
    if field in ("*", "?"):
        return None
    days: set[int] = set()
    for item in field.upper().split(","):
        span, _, step = item.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, _, high = span.partition("-")
            first, last = _day(low, expression, owner), _day(high, expression, owner)
        else:
            first = _day(span, expression, owner)
            last = 6 if step else first
        if last < first:  # a range through Sunday, such as SAT-SUN (6-0)
            last += 7
        if step and (not step.isdigit() or int(step) == 0):
            raise pulumi.RunError(f"{owner}: backup schedule {expression!r}: bad day-of-week step {item!r}")
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return None if len(days) == 7 else ",".join(_DAYS[day] for day in sorted(days))


def _day(token: str, expression: str, owner: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _DAYS:
        return _DAYS.index(token)
    raise pulumi.RunError(f"{owner}: backup schedule {expression!r}: unsupported day-of-week {token!r}")
