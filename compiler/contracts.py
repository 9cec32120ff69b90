"""The contract stage: checks across generated artifacts, after render and before emit.

Each artifact can be right alone and the pipeline still fail on its first apply.
This stage reads what was rendered (the workflows as YAML, the bootstrap and
infrastructure stack configs, the ESC definitions), not the model that produced
it, and checks that the artifacts agree:

- E501: every status check branch protection requires is a job that runs on every pull request;
- E502: every OIDC subject a job presents is trusted by the role and Pulumi team meant for it, and
  no identity that can write trusts a subject pull-request code can present;
- E503: every secret an ESC environment maps is read by its program, and every secret a program
  reads is mapped by its ESC environment;
- E504: every stack and Pulumi Cloud team a job targets is created by a bootstrap stack;
- E505: every GitHub environment a job names is created by a bootstrap stack, with its protections.

A problem that a spec value causes is reported at that value; one that only a
generator bug could cause is reported at the generated file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .access import (
    ROTATION_WORKFLOW,
    STACK_NONE,
    STACK_READ,
    bootstrap_settings,
    branch_subject,
    environment_subject,
    of_role,
    org_wide_environment,
    pull_request_subject,
    workflow_ref,
)
from .diagnostics import Diagnostic, Location, error
from .homes import bootstrap_only, rotated_paths
from .integrations import with_role
from .integrations.base import CLOUD, REPOSITORY, STACKS
from .load import Document, JsonPath, format_path, trusted_data
from .model import Environment, Model
from .secrets_scan import strings_and_keys
from .targets.esc import CREATED, created, esc_references, outside_references, reference

AWS_LOGIN = "aws-actions/configure-aws-credentials"
PULUMI_LOGIN = "pulumi/auth-actions"
PULUMI_RUN = "pulumi/actions"
ESC_OPEN = "pulumi/esc-action"
_EVENT_TEST = re.compile(r"^github\.event_name == '([a-z_]+)'$")


@dataclass(frozen=True)
class Job:
    """One job of one rendered workflow, with the events its workflow runs on."""

    workflow: str
    id: str
    data: Mapping[str, Any]
    triggers: Mapping[str, Any]

    @property
    def check_name(self) -> str:
        return str(self.data.get("name", self.id))

    @property
    def environment(self) -> str | None:
        env = self.data.get("environment")
        return str(env.get("name") if isinstance(env, Mapping) else env) if env else None

    def inputs(self, action: str) -> list[Mapping[str, Any]]:
        """The ``with:`` of every step that uses ``action``."""
        steps = self.data.get("steps") or []
        return [s.get("with") or {} for s in steps if str(s.get("uses", "")).split("@")[0] == action]

    def trigger(self, event: str) -> Mapping[str, Any]:
        """The filters of one of its workflow's triggers ({} for a list-valued one such as schedule)."""
        found = self.triggers.get(event)
        return found if isinstance(found, Mapping) else {}

    def events(self) -> list[str]:
        """The events this job can run on: its workflow's, narrowed by an ``if: github.event_name == ...``."""
        narrowed = {m.group(1) for term in _conjuncts(self.data.get("if")) if (m := _EVENT_TEST.match(term))}
        return sorted(e for e in self.triggers if not narrowed or e in narrowed)


def _conjuncts(condition: Any) -> list[str]:
    """The top-level ``&&`` terms of a condition without ``||`` (else nothing can be concluded)."""
    text = str(condition or "").strip()
    if not text or "||" in text:
        return []
    return [term.strip() for term in text.split("&&")]


@dataclass(frozen=True)
class Artifacts:
    """What the contracts read: parsed rendered files."""

    jobs: tuple[Job, ...]
    bootstrap: Mapping[str, Mapping[str, Any]]
    infrastructure: Mapping[str, Mapping[str, Any]]
    links: Mapping[tuple[str, str], tuple[str, ...]]
    esc: Mapping[tuple[str, str], Mapping[str, Any]]
    # The texts of the ESC definitions the bootstrap creates once, by (environment, file suffix).
    created: Mapping[tuple[str, str], str]


class Locator:
    """Spec locations by document kind and name; an override's location before its base's."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._docs = {(d.data.get("kind"), _doc_name(d)): d for d in documents if isinstance(d.data, Mapping)}

    def at(self, kind: str, name: str, path: JsonPath, env: str | None = None) -> Location | None:
        doc = self._docs.get((kind, name))
        if doc is None:
            return None
        if env is not None and path[:1] == ("spec",):
            found = doc.position(("spec", "overrides", env, *path[1:]))
            if found:
                return found
        return doc.locate(path)


def _doc_name(doc: Document) -> str | None:
    meta = doc.data.get("metadata")
    return str(meta.get("name")) if isinstance(meta, Mapping) else None


INFRASTRUCTURE_KEYS = ("secrets", "alertWebhooks")


def _stack_config(
    text: str, namespace: str, wanted: Sequence[str] | None = None
) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """A stack config file's ``config`` (without the namespace) and the ESC environments it opens.

    With ``wanted``, only those config keys are parsed: the text is cut at its top-level keys (the
    layout compile writes) and the pieces are parsed as YAML; a key cut wrongly goes missing, which
    the contracts then report.
    """
    data = trusted_data(_sections(text, [f"{namespace}:{key}" for key in wanted]) if wanted else text) or {}
    prefix = namespace + ":"
    config = {k.removeprefix(prefix): v for k, v in (data.get("config") or {}).items()}
    return config, tuple(data.get("environment") or ())


def _sections(text: str, keys: Sequence[str]) -> str:
    """The ``environment:`` list and the wanted top-level ``config:`` entries of a stack config file."""
    heads = {f'  "{key}":' for key in keys} | {f"  {key}:" for key in keys}
    out, keep, in_config = [], False, False
    for line in text.splitlines(keepends=True):
        if not line.startswith(" "):
            in_config = line.startswith("config:")
            keep = line.startswith(("environment:", "config:"))
        elif in_config and line.startswith("  ") and not line.startswith("   "):
            keep = any(line.startswith(head) for head in heads)
        if keep:
            out.append(line)
    return "".join(out)


def parse(model: Model, rendered: Mapping[str, Mapping[str, str]]) -> Artifacts:
    """The rendered files the contracts read, parsed."""
    jobs = []
    for name, text in sorted(rendered.get("workflows", {}).items()):
        if name.endswith((".yml", ".yaml")):
            data = trusted_data(text) or {}
            triggers = _triggers(data.get("on"))
            jobs += [Job(name, job_id, job, triggers) for job_id, job in (data.get("jobs") or {}).items()]
    generated = rendered.get("generated", {})
    ns = model.project.pulumi_project
    bootstrap: dict[str, Mapping[str, Any]] = {}
    infrastructure: dict[str, Mapping[str, Any]] = {}
    links: dict[tuple[str, str], tuple[str, ...]] = {}
    esc: dict[tuple[str, str], Mapping[str, Any]] = {}
    for env in model.environments:
        for project, configs, suffix in (("bootstrap", bootstrap, "-bootstrap"), ("pulumi", infrastructure, "")):
            stack_file = generated.get(f"{project}/Pulumi.{env.name}.yaml")
            if stack_file is not None:
                # The infrastructure config holds every integration's settings; its contracts need two keys.
                wanted = INFRASTRUCTURE_KEYS if project == "pulumi" else None
                configs[env.name], links[(env.name, project)] = _stack_config(stack_file, ns, wanted)
            definition = generated.get(f"esc/{env.name}{suffix}.yaml")
            if definition is not None:
                esc[(env.name, project)] = trusted_data(definition) or {}
    created = {
        (env.name, suffix): generated[f"esc/{env.name}{suffix}.yaml"]
        for env in model.environments
        for suffix, _ in CREATED.values()
        if f"esc/{env.name}{suffix}.yaml" in generated
    }
    return Artifacts(tuple(jobs), bootstrap, infrastructure, links, esc, created)


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {str(e): {} for e in on}
    return {str(e): (v or {}) for e, v in (on or {}).items()}


def check(model: Model, rendered: Mapping[str, Mapping[str, str]], documents: Sequence[Document]) -> list[Diagnostic]:
    """Every contract problem between the rendered artifacts."""
    where = Locator(documents)
    missing = _missing_pipeline(model, where)
    if missing:
        return missing  # every contract below would fail for the same reason
    art = parse(model, rendered)
    out: list[Diagnostic] = []
    for contract in (required_checks, oidc_trust, esc_secrets, stacks_created, environments_exist):
        out += contract(model, art, where)
    return out


# What the integration filling each pipeline role creates for it, and the code of the contract it keeps.
PIPELINE = {
    REPOSITORY: ("E505", "the GitHub environments the workflows run in, each admitting only the refs that deploy it"),
    CLOUD: ("E502", "the IAM roles the workflows assume through GitHub OIDC"),
    STACKS: ("E504", "the Pulumi stacks, the Pulumi Cloud teams and the OIDC trust the workflows use"),
}


def _type_of(role: str) -> str:
    """The integration type that fills ``role``, for messages (``a|b`` where several could)."""
    return "|".join(sorted(entry.name for entry in with_role(role))) or f"<no type fills '{role}'>"


def _missing_pipeline(model: Model, where: Locator) -> list[Diagnostic]:
    """Exactly one integration of each type the pipeline stands on: none leaves it without, two would fight."""
    out = []
    for role, (code, what) in PIPELINE.items():
        name = _type_of(role)
        found = [i for i in model.integrations if role in i.type.roles]
        if not found:
            out.append(
                error(
                    where.at("Project", model.project.name, ("spec",)),
                    code,
                    f"the generated workflows need an Integration of type {name}: its bootstrap creates {what}",
                    hint=f"declare one (kind: Integration, spec.type: {name}); see the README's first-time set-up",
                )
            )
        for extra in found[1:]:
            out.append(
                error(
                    where.at("Integration", extra.name, ("spec", "type")),
                    code,
                    f"a second Integration of type {name} ('{extra.name}', after '{found[0].name}'): both "
                    f"bootstraps would create {what}",
                    path="spec.type",
                    hint=f"keep one Integration of type {name}; use overrides for per-environment differences",
                )
            )
    return out


def _enabled(config: Mapping[str, Any], model: Model, role: str) -> str | None:
    """The name of the integration filling ``role`` that a stack's config enables, if any."""
    for integration in model.integrations:
        settings = (config.get("integrations") or {}).get(integration.name)
        if role in integration.type.roles and settings and settings.get("enabled", True):
            return integration.name
    return None


def _integration_at(model: Model, where: Locator, role: str, env: str, path: JsonPath) -> Location | None:
    integration = of_role(model, role)
    if integration is None:
        return where.at("Project", model.project.name, ("spec",))
    return where.at("Integration", integration.name, path, env)


# E501 ------------------------------------------------------------------------------------------


def required_checks(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    owner = org_wide_environment(model)
    config = art.bootstrap.get(owner.name, {})
    github = _enabled(config, model, REPOSITORY)
    if github is None:
        return []
    protection = config["integrations"][github]["config"].get("branchProtection") or {}
    branch = model.project.default_branch
    out = []
    for i, name in enumerate(protection.get("requiredStatusChecks", [])):
        problem = _check_problem(name, art.jobs, branch)
        if problem:
            path = ("spec", "config", "branchProtection", "requiredStatusChecks", i)
            out.append(
                error(
                    where.at("Integration", github, path, owner.name),
                    "E501",
                    f"required status check '{name}' {problem}; no pull request could merge",
                    path=format_path(path),
                    hint="checks that run on every pull request: "
                    + ", ".join(sorted(j.check_name for j in art.jobs if not _always_on_pull_requests(j, branch))),
                )
            )
    return out


def _check_problem(name: str, jobs: Sequence[Job], branch: str) -> str | None:
    named = [j for j in jobs if j.check_name == name]
    if not named:
        return "is not the name of any generated job"
    problems = [p for j in named if (p := _always_on_pull_requests(j, branch))]
    return problems[0] if len(problems) == len(named) else None


def _always_on_pull_requests(job: Job, branch: str) -> str | None:
    """Why this job does not report a status on every pull request into ``branch`` (None when it does)."""
    if "pull_request" not in job.triggers:
        return f"is job '{job.id}' of {job.workflow}, which does not run on pull requests"
    trigger = job.trigger("pull_request")
    filters = [k for k in ("paths", "paths-ignore", "branches-ignore") if k in trigger]
    branches = trigger.get("branches")
    if filters or (branches and not any(fnmatch.fnmatchcase(branch, b) for b in branches)):
        return f"is job '{job.id}' of {job.workflow}, whose pull_request trigger is filtered"
    if "pull_request" not in job.events() or job.data.get("if") or job.data.get("needs"):
        return f"is job '{job.id}' of {job.workflow}, which a condition or a failed dependency can skip"
    if (job.data.get("strategy") or {}).get("matrix"):
        return f"is matrix job '{job.id}' of {job.workflow}, which reports one check per leg"
    return None


# E502 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trusted:
    """One identity a bootstrap stack creates: its environment, subject, role and team."""

    env: str
    kind: str
    account: str
    subject: str
    aws_role: str
    pulumi_team: str
    writes: bool
    stack_permission: int
    rotates: bool  # writes the rotated ESC environment

    @property
    def changes_something(self) -> bool:
        """Whether it can change anything: the stack, or the values the pipeline reads."""
        return self.writes or self.rotates or self.stack_permission not in (STACK_NONE, STACK_READ)


def identities(art: Artifacts) -> list[Trusted]:
    return [
        Trusted(
            env,
            kind,
            str(config.get("account")),
            str(i["subject"]),
            str(i["awsRole"]),
            str(i["pulumiTeam"]),
            bool(i["writes"]),
            int(i["stackPermission"]),
            bool(i.get("rotates", False)),
        )
        for env, config in sorted(art.bootstrap.items())
        for kind, i in sorted(((config.get("access") or {}).get("identities") or {}).items())
    ]


def presented(job: Job, model: Model) -> list[str]:
    """The OIDC subjects a job can present (``*`` where the ref is chosen by whoever runs it)."""
    if job.environment:
        return [environment_subject(model, job.environment)]
    subjects = []
    for event in job.events():
        if event == "pull_request":
            subjects.append(pull_request_subject(model))
        elif event == "push":
            subjects += [branch_subject(model, b) for b in job.trigger("push").get("branches") or ["*"]]
        elif event == "schedule":
            subjects.append(branch_subject(model, model.project.default_branch))
        elif event == "workflow_dispatch":
            subjects.append(branch_subject(model, "*"))
        elif event == "release":
            subjects.append(f"repo:{model.project.repository}:ref:refs/tags/*")
    return subjects


def _can_present(job: Job, model: Model, subject: str) -> bool:
    return any(fnmatch.fnmatchcase(subject, p) for p in presented(job, model))


def oidc_trust(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    trusted = identities(art)
    out = _collisions(model, art, trusted, where)
    out += _writers_reachable_from_pull_requests(model, art, trusted, where)
    out += _rotators_pinned(model, art, trusted)
    out += _access_as_derived(model, art)
    for job in art.jobs:
        out += _job_trust(model, art, job, trusted, where)
    return out


def _collisions(model: Model, art: Artifacts, trusted: Sequence[Trusted], where: Locator) -> list[Diagnostic]:
    """Two stacks creating one role name in one account: each would overwrite the other's trust."""
    out: list[Diagnostic] = []
    seen: dict[tuple[str, str], Trusted] = {}
    for t in trusted:
        if not _has_role(model, art, t):
            continue
        key = (t.account, t.aws_role)
        first = seen.setdefault(key, t)
        if first is not t:
            out.append(
                error(
                    where.at("Environment", t.env, ("spec", "cloud", "account")),
                    "E502",
                    f"environments '{first.env}' and '{t.env}' both create IAM role '{t.aws_role}' in account "
                    f"{t.account}: two stacks would fight over one role and its trust ({first.subject}; {t.subject})",
                    path="spec.cloud.account",
                    hint="give each environment its own AWS account (or its own deployRole.name)",
                )
            )
    return out


def pull_request_reachable(model: Model, art: Artifacts, subject: str) -> bool:
    """Whether code in a pull request can present ``subject``."""
    if subject == pull_request_subject(model):
        return True
    if subject.startswith(environment_subject(model, "")):
        name = subject.rsplit(":", 1)[1]
        gate = _gate(model, art, name)
        return gate is None or not (gate.get("branchPattern") or gate.get("tagPattern"))
    return subject != branch_subject(model, model.project.default_branch)


def _gate(model: Model, art: Artifacts, name: str) -> Mapping[str, Any] | None:
    """The GitHub environment ``name`` as a bootstrap stack creates it (None when none does)."""
    for config in art.bootstrap.values():
        if _enabled(config, model, REPOSITORY) is None:
            continue
        access = config.get("access") or {}
        gates = ("githubEnvironment", "notificationsEnvironment", "rotationEnvironment")
        for gate in (access.get(key) for key in gates):
            if gate and gate.get("name") == name:
                return dict(gate)
    return None


def _writers_reachable_from_pull_requests(
    model: Model, art: Artifacts, trusted: Sequence[Trusted], where: Locator
) -> list[Diagnostic]:
    out = []
    for t in trusted:
        exists = _has_role(model, art, t) or _issuer_allows(model, art, t)
        if not t.changes_something or not exists:
            continue
        if not pull_request_reachable(model, art, t.subject):
            continue
        role = f"IAM role {t.aws_role}, " if t.aws_role else ""
        what = f"the {t.kind} identity of '{t.env}' ({role}Pulumi team {t.pulumi_team}) can change"
        if _gate(model, art, t.env) is None:
            out.append(
                error(
                    _integration_at(model, where, REPOSITORY, t.env, ("spec", "enabled")),
                    "E502",
                    f"{what} the stack and trusts {t.subject}, but no bootstrap stack creates GitHub environment "
                    f"'{t.env}': any workflow, a pull request's included, can name it",
                    hint=(
                        f"enable an Integration of type {_type_of(REPOSITORY)} in '{t.env}': "
                        "its bootstrap restricts who may use it"
                    ),
                )
            )
            continue
        out.append(
            error(
                where.at("Environment", t.env, ("spec", "deploy", "on")),
                "E502",
                f"{what} the stack and trusts {t.subject}, which pull-request code can present",
                path="spec.deploy.on",
                hint="deploy it on push (from the default branch) or release; pull requests get the offline plan",
            )
        )
    return out


def _rotators_pinned(model: Model, art: Artifacts, trusted: Sequence[Trusted]) -> list[Diagnostic]:
    """The issuer trusts a rotator team from the rotation workflow at the default branch only: its team may
    write the values the pipeline reads, so the workflow at another ref (a pushed branch) must not get it."""
    owner = art.bootstrap.get(org_wide_environment(model).name, {})
    policies = ((owner.get("access") or {}).get("oidcIssuer") or {}).get("policies", [])
    elsewhere = workflow_ref(model, ROTATION_WORKFLOW, "refs/heads/not-" + model.project.default_branch)
    out = []
    for t in trusted:
        for policy in policies:
            pattern = str((policy.get("rules") or {}).get("job_workflow_ref", "*"))
            if t.rotates and policy.get("team") == t.pulumi_team and fnmatch.fnmatchcase(elsewhere, pattern):
                out.append(
                    error(
                        None,
                        "E502",
                        f"the OIDC issuer gives the rotator team {t.pulumi_team} to {pattern}, not only to "
                        f"{ROTATION_WORKFLOW} at refs/heads/{model.project.default_branch}",
                        hint="a generator bug: please report it",
                    )
                )
    return out


def _access_as_derived(model: Model, art: Artifacts) -> list[Diagnostic]:
    """Each bootstrap stack trusts exactly what :mod:`compiler.access` derives: not one more issuer policy, a
    broader subject, workflow ref or audience, another stack permission or role. (The other trust contracts
    check what the derivation means; this one that nothing was added to it on the way.)"""
    out = []
    for env in model.environments:
        if env.name not in art.bootstrap:
            continue
        found = art.bootstrap[env.name].get("access")
        difference = _first_difference(found, bootstrap_settings(model, env), "access")
        if difference:
            out.append(
                error(
                    None,
                    "E502",
                    f"the bootstrap stack '{env.name}' trusts what the specs do not derive (at {difference})",
                    hint="a generator bug: please report it",
                )
            )
    return out


def _first_difference(found: Any, wanted: Any, path: str) -> str | None:
    if isinstance(found, Mapping) and isinstance(wanted, Mapping):
        for key in sorted(set(found) | set(wanted), key=str):
            inner = _first_difference(found.get(key), wanted.get(key), f"{path}.{key}")
            if inner:
                return inner
        return None
    if isinstance(found, list) and isinstance(wanted, list):
        for i, (a, b) in enumerate(zip(found, wanted, strict=False)):
            inner = _first_difference(a, b, f"{path}[{i}]")
            if inner:
                return inner
        return None if len(found) == len(wanted) else f"{path}[{min(len(found), len(wanted))}]"
    return None if found == wanted else path


def _job_trust(model: Model, art: Artifacts, job: Job, trusted: Sequence[Trusted], where: Locator) -> list[Diagnostic]:
    out = []
    target = _target_env(model, job)
    for inputs in job.inputs(AWS_LOGIN):
        arn = str(inputs.get("role-to-assume", ""))
        match = [
            t for t in trusted if arn == f"arn:aws:iam::{t.account}:role/{t.aws_role}" and _has_role(model, art, t)
        ]
        out += _trust_problem(model, job, f"IAM role {arn}", match, target, where, CLOUD)
        audience = str(inputs.get("audience", "sts.amazonaws.com"))
        for t in match:
            expected = str(((art.bootstrap[t.env].get("access") or {}).get("awsAudience")) or "")
            if audience != expected:
                out.append(_at_workflow(job, f"presents audience {audience}; IAM role {arn} trusts {expected}"))
    for inputs in job.inputs(PULUMI_LOGIN):
        team = str(inputs.get("scope", "")).removeprefix("team:")
        match = [t for t in trusted if t.pulumi_team == team and _issuer_allows(model, art, t, job)]
        out += _trust_problem(model, job, f"Pulumi Cloud team {team}", match, target, where, STACKS)
    return out


def _trust_problem(
    model: Model,
    job: Job,
    what: str,
    match: Sequence[Trusted],
    target: str | None,
    where: Locator,
    creator: str,  # the role whose integration creates that trust
) -> list[Diagnostic]:
    subjects = ", ".join(dict.fromkeys(presented(job, model))) or "no subject"
    if not match:
        env = target or ""
        return [
            error(
                _integration_at(model, where, creator, env, ("spec", "enabled")),
                "E502",
                f"{job.workflow}: job '{job.id}' presents {subjects} to {what}, which no bootstrap stack creates "
                "or trusts",
                hint=f"enable an Integration of type {_type_of(creator)} in '{env}': its bootstrap creates that trust",
            )
        ]
    usable = [t for t in match if _can_present(job, model, t.subject)]
    if not usable:
        trust = ", ".join(t.subject for t in match)
        return [_at_workflow(job, f"presents {subjects} to {what}, which trusts only {trust}")]
    if target and all(t.env != target for t in usable):
        return [_at_workflow(job, f"acts on environment '{target}' as {what}, which is meant for '{usable[0].env}'")]
    return []


def _has_role(model: Model, art: Artifacts, t: Trusted) -> bool:
    """Whether the IAM role of an identity exists: the cloud integration's bootstrap creates it (an identity
    without a role name has none)."""
    return bool(t.aws_role) and _enabled(art.bootstrap.get(t.env, {}), model, CLOUD) is not None


def _issuer_allows(model: Model, art: Artifacts, t: Trusted, job: Job | None = None) -> bool:
    """Whether the OIDC issuer lets ``t``'s subject have its team's token (from ``job``'s workflow, if given)."""
    owner = art.bootstrap.get(org_wide_environment(model).name, {})
    if _enabled(owner, model, STACKS) is None or _enabled(art.bootstrap.get(t.env, {}), model, STACKS) is None:
        return False
    issuer = (owner.get("access") or {}).get("oidcIssuer") or {}
    # The claim a job of that workflow presents, at the ref it runs at, matched against each policy's pattern.
    claim = workflow_ref(model, job.workflow, _job_ref(model, art, job, t.subject)) if job else None
    return any(
        p.get("team") == t.pulumi_team
        and (p.get("rules") or {}).get("sub") == t.subject
        and (claim is None or fnmatch.fnmatchcase(claim, str((p.get("rules") or {}).get("job_workflow_ref", ""))))
        for p in issuer.get("policies", [])
    )


def _job_ref(model: Model, art: Artifacts, job: Job, subject: str) -> str:
    """The ref a job presenting ``subject`` runs at: the subject's own ref, or its GitHub environment's one
    branch where it admits only that, else any ref."""
    ref_subject = f"repo:{model.project.repository}:ref:"
    if subject.startswith(ref_subject) and not any(c in subject for c in "*?["):
        return subject.removeprefix(ref_subject)
    gate = _gate(model, art, job.environment) if job.environment else None
    branch = str((gate or {}).get("branchPattern") or "")
    return f"refs/heads/{branch}" if branch and not any(c in branch for c in "*?[") else "<any ref>"


def _target_env(model: Model, job: Job) -> str | None:
    """The environment whose stack or ESC environment a job acts on, if it names one."""
    for inputs in job.inputs(PULUMI_RUN):
        return str(inputs.get("stack-name", "")).rsplit("/", 1)[-1]
    for inputs in job.inputs(ESC_OPEN):
        name = str(inputs.get("environment", "")).split("/", 1)[-1]
        return next((e.name for e in model.environments if e.esc_environment == name), None)
    # A job that only reads through the Pulumi Cloud API (the reminder) names its environment in ENVIRONMENT.
    named = str((job.data.get("env") or {}).get("ENVIRONMENT", ""))
    return named if any(e.name == named for e in model.environments) else None


def _at_workflow(job: Job, message: str, code: str = "E502") -> Diagnostic:
    return error(None, code, f"{job.workflow}: job '{job.id}' {message}", hint="a generator bug: please report it")


# E503 ------------------------------------------------------------------------------------------


def esc_secrets(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    out = _bootstrap_credentials_shared(model, where) + _created(model, art)
    for env in model.environments:
        for project, configs, suffix in (
            ("pulumi", art.infrastructure, ""),
            ("bootstrap", art.bootstrap, "-bootstrap"),
        ):
            if env.name not in configs:
                continue
            out += _esc_problems(model, art, env, project, configs[env.name], suffix)
    return out


def _bootstrap_credentials_shared(model: Model, where: Locator) -> list[Diagnostic]:
    """A secret that names the ESC path of a bootstrap credential would copy it where the pipeline can read it."""
    admin = {s.esc: (i, s) for i in model.integrations if bootstrap_only(i) for s in i.secrets}
    out = []
    for integration in model.integrations:
        if bootstrap_only(integration):
            continue
        for secret in integration.secrets:
            if secret.esc in admin:
                owner, credential = admin[secret.esc]
                path = ("spec", "secrets", secret.name, "esc")
                out.append(
                    error(
                        where.at("Integration", integration.name, path),
                        "E503",
                        f"secret '{secret.name}' reads ESC path {secret.esc}, the bootstrap's credential "
                        f"'{credential.name}' of '{owner.name}': the pipeline's identities would be able to read it",
                        path=format_path(path),
                        hint="give it a credential of its own; the bootstrap's stay in the admin-only ESC environment",
                    )
                )
    return out


def _esc_problems(
    model: Model, art: Artifacts, env: Environment, project: str, config: Mapping[str, Any], suffix: str
) -> list[Diagnostic]:
    ns = model.project.pulumi_project
    reads = {f"{ns}:{key}" for key in _reads(config)}
    definition = art.esc.get((env.name, project)) or {}
    mapped = set(((definition.get("values") or {}).get("pulumiConfig") or {}).keys())
    file = f"generated/esc/{env.name}{suffix}.yaml"
    out = []
    for key in sorted(mapped - reads):
        out.append(error(None, "E503", f"{file} maps {key}, which the {project} program never reads in '{env.name}'"))
    for key in sorted(reads - mapped):
        out.append(error(None, "E503", f"the {project} program reads {key} in '{env.name}', which {file} does not map"))
    name = env.esc_environment + suffix
    if name not in art.links.get((env.name, project), ()):
        out.append(error(None, "E503", f"the {project} stack '{env.name}' does not open ESC environment {name}"))
    if project == "pulumi" and _mentions(definition, env.esc_bootstrap_secrets):
        out.append(
            error(
                None, "E503", f"{file}, which the pipeline opens, references {env.esc_bootstrap_secrets} (admin-only)"
            )
        )
    return out + _rotated_problems(model, env, definition, file)


def _rotated_problems(model: Model, env: Environment, definition: Mapping[str, Any], file: str) -> list[Diagnostic]:
    """A rotated value is read from where it is rotated, and nothing else is read from there: the rotator
    team may write the rotated environment, so a reference to any other path in it would let the rotation
    workflow set a value it does not rotate (and the rotators environment holds only what ESC rotates);
    a rotated value read from the secrets environment would keep its old credential. References are read
    in every spelling ESC accepts (dots, brackets, inside longer strings); neither environment is imported."""
    rotated = rotated_paths(model, env)
    allowed = {env.esc_rotated: rotated.workflow, env.esc_rotators: rotated.esc}
    out = []
    for text in _strings(definition.get("values")):
        for home, path in esc_references(text):
            if not home and any(name in path for name in (*allowed, env.esc_secrets)):
                out.append(error(None, "E503", f"{file} has a reference ESC cannot read: ${{{path}}}"))
            elif home in allowed and path not in allowed[home]:
                what = "the rotation workflow may write" if home == env.esc_rotated else "ESC's rotators write"
                shown = path or "the whole environment"
                out.append(error(None, "E503", f"{file} reads {shown} from {home}, which {what} but does not rotate"))
            elif home == env.esc_secrets and path in rotated.workflow | rotated.esc:
                where = env.esc_rotated if path in rotated.workflow else env.esc_rotators
                message = f"{file} reads {path} from {home}, which is rotated in {where}: it would keep the old one"
                out.append(error(None, "E503", message))
        if any(name in outside_references(text) for name in allowed):
            out.append(error(None, "E503", f"{file} names {', '.join(sorted(allowed))} outside a reference"))
    for imported in _imports(definition):
        if imported in allowed:
            out.append(error(None, "E503", f"{file} imports {imported}, which is written by rotation"))
    return list({d.message: d for d in out}.values())  # a path mapped twice (config, variable): said once


def _strings(value: Any) -> list[str]:
    return [text for _, text, is_key in strings_and_keys(value, ()) if not is_key]


def _imports(definition: Mapping[str, Any]) -> list[str]:
    """The environments a definition imports, in either form (a name, or a name with options)."""
    out = []
    for entry in definition.get("imports") or []:
        out += [str(k) for k in entry] if isinstance(entry, Mapping) else [str(entry)]
    return out


def _created(model: Model, art: Artifacts) -> list[Diagnostic]:
    """The definitions the bootstrap creates once (the rotated and rotators environments) are exactly what
    sophia-iac declares, and are what the bootstrap stack creates them from."""
    out = []
    for env in model.environments:
        declared = {c.key: c.definition for c in created(model, env)}
        config = art.bootstrap.get(env.name, {})
        for key, (suffix, _) in CREATED.items():
            wanted = declared.get(key)
            file = f"generated/esc/{env.name}{suffix}.yaml"
            text = art.created.get((env.name, suffix))
            found = trusted_data(text) if text is not None else None
            if found != wanted:
                out.append(error(None, "E503", f"{file} is not the definition sophia-iac declares for it"))
            if env.name in art.bootstrap and config.get(key) != text:
                out.append(error(None, "E503", f"the bootstrap stack '{env.name}' does not create {file} as it is"))
    return out


def _mentions(definition: Mapping[str, Any], environment: str) -> bool:
    """Whether an ESC definition imports an environment or references a value in it."""
    prefix = reference(environment, "").removesuffix("}")
    imports = [str(i) for i in definition.get("imports") or []]
    values = strings_and_keys(definition.get("values"), ())
    return environment in imports or any(prefix in text for _, text, is_key in values if not is_key)


def _reads(config: Mapping[str, Any]) -> set[str]:
    """Stack config keys of the secrets a program reads, as its stack config declares them (``secrets``)."""
    keys = set((config.get("alertWebhooks") or {}).values())
    for reads in (config.get("secrets") or {}).values():
        keys.update(reads.values())
    return keys


# E504 ------------------------------------------------------------------------------------------


def stacks_created(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    out = []
    created = {
        "/".join(str(access["stack"][k]) for k in ("organization", "project", "name")): env
        for env, config in art.bootstrap.items()
        if (access := config.get("access")) and _enabled(config, model, STACKS)
    }
    for job in art.jobs:
        for inputs in job.inputs(PULUMI_RUN):
            stack = str(inputs.get("stack-name", ""))
            if stack not in created:
                env = stack.rsplit("/", 1)[-1]
                out.append(
                    error(
                        _integration_at(model, where, STACKS, env, ("spec", "enabled")),
                        "E504",
                        f"{job.workflow}: job '{job.id}' targets stack {stack}, which no bootstrap stack creates",
                        hint=(
                            f"enable an Integration of type {_type_of(STACKS)} in '{env}': "
                            "its bootstrap creates the stack"
                        ),
                    )
                )
    return out


# E505 ------------------------------------------------------------------------------------------


def environments_exist(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    out = _reviewer_ids(model, art, where) + _release_tags_guarded(model, art)
    for job in art.jobs:
        name = job.environment
        if name is None:
            continue
        gate = _gate(model, art, name)
        if gate is None:
            out.append(
                error(
                    _integration_at(model, where, REPOSITORY, name, ("spec", "enabled")),
                    "E505",
                    f"{job.workflow}: job '{job.id}' runs in GitHub environment '{name}', which no bootstrap stack "
                    "creates: GitHub would create it on first use, unprotected",
                    hint=f"enable an Integration of type {_type_of(REPOSITORY)} in every environment "
                    "(the production-tier one also creates 'notifications')",
                )
            )
            continue
        out += [_at_workflow(job, problem, "E505") for problem in _admits(job, gate)]
    return out


def _release_tags_guarded(model: Model, art: Artifacts) -> list[Diagnostic]:
    """A tag pattern an environment admits must be one only its release managers may create."""
    owner = art.bootstrap.get(org_wide_environment(model).name, {})
    guarded = {str(t.get("pattern")) for t in (owner.get("access") or {}).get("releaseTags") or []}
    if _enabled(owner, model, REPOSITORY) is None:
        guarded = set()
    out = []
    for env, config in sorted(art.bootstrap.items()):
        pattern = ((config.get("access") or {}).get("githubEnvironment") or {}).get("tagPattern")
        if pattern and pattern not in guarded:
            out.append(
                error(
                    None,
                    "E505",
                    f"'{env}' admits tags {pattern}, which no ruleset keeps anyone with write access from pushing",
                    hint="a generator bug: please report it",
                )
            )
    return out


def _admits(job: Job, gate: Mapping[str, Any]) -> list[str]:
    """What a job's triggers need from its environment's deployment policy, and does not get."""
    out = []
    for event in job.events():
        branches = job.trigger(event).get("branches") or []
        if event in ("push", "schedule", "workflow_dispatch") and not gate.get("branchPattern"):
            out.append(f"runs on {event} in '{gate['name']}', which admits no branch")
        elif event == "push" and any(b != gate.get("branchPattern") for b in branches):
            out.append(f"runs on pushes to {branches} in '{gate['name']}', which admits {gate.get('branchPattern')}")
        elif event == "release" and not gate.get("tagPattern"):
            out.append(f"runs on releases in '{gate['name']}', which admits no tag")
    return out


def _reviewer_ids(model: Model, art: Artifacts, where: Locator) -> list[Diagnostic]:
    out = []
    for env in model.environments:
        config = art.bootstrap.get(env.name, {})
        github = _enabled(config, model, REPOSITORY)
        if github is None:
            continue
        known = config["integrations"][github]["config"].get("reviewerIds") or {}
        for i, reviewer in enumerate(env.reviewers):
            if reviewer not in known:
                path = ("spec", "deploy", "reviewers", i)
                out.append(
                    error(
                        where.at("Environment", env.name, path),
                        "E505",
                        f"deploy reviewer '{reviewer}' of '{env.name}' has no id in the {github} integration's "
                        "config.reviewerIds: its GitHub environment would have no reviewers",
                        path=format_path(path),
                        hint=f"add reviewerIds: {{{reviewer}: <id>}} (gh api users/<login> or orgs/<org>/teams/<slug>)",
                    )
                )
    return out
