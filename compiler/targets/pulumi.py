"""Two Pulumi projects: the infrastructure program, and the bootstrap program the pipeline depends on.

``generated/pulumi`` deploys the integrations (one stack per environment).
``generated/bootstrap`` holds what the deploy pipeline itself needs (GitHub
environments and their secrets, the AWS OIDC provider and deploy role, the ESC
environments, drift schedules, webhooks): a broken infrastructure definition
can then never lock the pipeline out of itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..access import alert_routes_read, bootstrap_settings
from ..homes import esc_rotated, esc_schedule, rotated_paths
from ..integrations import REGISTRY, IntegrationType
from ..integrations.base import GPU_POOLS
from ..literals import yaml_block
from ..model import Environment, GpuPool, Integration, Model, thaw
from ..names import alert_webhook_key, component_type, gpu_pool_type, program_files
from ..render import RenderContext, header, template
from . import sources
from .esc import created_texts, esc_texts

# The SDK the generated program and the mocks harness are written against; the workflows
# install the Pulumi CLI of the same release.
PULUMI_VERSION = "3.272.0"
PULUMI_REQUIREMENT = f"pulumi=={PULUMI_VERSION}"


@dataclass(frozen=True)
class Layout:
    """One generated Pulumi project."""

    root: str
    suffix: str
    description: str
    bootstrap: bool

    def project_name(self, model: Model) -> str:
        return model.project.pulumi_project + self.suffix

    def integrations(self, model: Model) -> tuple[Integration, ...]:
        """The project's integrations, each after those it depends on (by name where nothing orders them)."""
        mine = [i for i in model.integrations if i.type.bootstrap] if self.bootstrap else list(model.integrations)
        return _dependencies_first(mine)

    def gpu_pools(self, model: Model) -> tuple[GpuPool, ...]:
        return () if self.bootstrap else model.gpu_pools

    def esc_environment(self, env: Environment) -> str:
        return env.esc_environment + self.suffix


MAIN = Layout("pulumi", "", "", bootstrap=False)
BOOTSTRAP = Layout("bootstrap", "-bootstrap", " (bootstrap: what the deploy pipeline depends on)", bootstrap=True)


def requirements(integrations: tuple[Integration, ...], kept: Iterable[IntegrationType] = ()) -> list[str]:
    """The project's pins: the SDK, and what the types it uses, and the modules it keeps, need."""
    extra = {r for i in integrations for r in i.type.requirements} | {r for t in kept for r in t.requirements}
    return [PULUMI_REQUIREMENT, *sorted(extra)]


def stack_config(
    model: Model, env: Environment, layout: Layout, esc_definition: str = "", created: Mapping[str, str] = {}
) -> dict[str, Any]:
    """Non-secret stack config of one environment, in the main project's namespace.

    A bootstrap stack also carries the definitions of the ESC environments it manages, and of those it
    creates once (``created``: the rotated and rotators ones, where there are any, by config key).
    """
    ns = model.project.pulumi_project
    project = model.project
    kind = layout.root
    deployed = frozenset(i.name for i in model.integrations if i.per_env[env.name].enabled)
    extra: dict[str, Any] = {}
    if layout.bootstrap:
        extra[f"{ns}:access"] = bootstrap_settings(model, env)
        extra[f"{ns}:alertWebhooks"] = {r: alert_webhook_key(r) for r in alert_routes_read(model, env, kind)}
        extra[f"{ns}:escDefinition"] = esc_definition
        extra.update({f"{ns}:{key}": text for key, text in sorted(created.items())})
    return extra | {
        f"{ns}:environment": env.name,
        f"{ns}:tier": env.tier,
        f"{ns}:protect": env.protect,
        f"{ns}:account": env.account,
        f"{ns}:region": env.region,
        f"{ns}:project": {
            "name": ns,
            "organization": project.organization,
            "repository": project.repository,
            "defaultBranch": project.default_branch,
            "compliance": list(project.compliance),
        },
        f"{ns}:deploy": {"on": env.deploy_on, "approvals": env.approvals, "reviewers": list(env.reviewers)},
        f"{ns}:esc": _esc_settings(model, env),
        f"{ns}:alertRoutes": {
            r.name: {"channel": r.channel, "webhookConfigKey": alert_webhook_key(r.name), "webhookEsc": r.webhook_esc}
            for r in project.alert_routes
        },
        f"{ns}:alertRoute": env.alert_route or "",
        f"{ns}:secrets": secret_reads(model, env, layout),
        f"{ns}:integrations": {
            i.name: _integration_settings(i, env, kind, model, deployed) for i in layout.integrations(model)
        },
        f"{ns}:gpuPools": {p.name: _pool_settings(p, env) for p in layout.gpu_pools(model)},
    }


def _esc_settings(model: Model, env: Environment) -> dict[str, str]:
    """The environment's ESC environments; the rotated one only where sophia-iac rotates a secret."""
    out = {"environment": env.esc_environment, "secretsEnvironment": env.esc_secrets}
    rotated = rotated_paths(model, env)
    if rotated.workflow:
        out["rotatedEnvironment"] = env.esc_rotated
    schedule = esc_schedule(model, env)
    if rotated.esc and schedule:
        out["rotatorsEnvironment"] = env.esc_rotators
        out["rotationSchedule"] = schedule
    return out


def secret_reads(model: Model, env: Environment, layout: Layout) -> dict[str, dict[str, str]]:
    """Integration -> secret name -> stack config key: exactly the secrets each module reads in ``env``.

    One top-level key, so a reviewer sees every secret a stack reads in one place, and the
    contract stage reads just this part of a large stack config.
    """
    kind = layout.root
    reads = {
        i.name: {s.name: s.config_key for s in i.program_secrets(env.name, kind)} for i in layout.integrations(model)
    }
    return {name: found for name, found in reads.items() if found}


def _dependencies_first(integrations: list[Integration]) -> tuple[Integration, ...]:
    """``integrations`` (sorted by name) reordered so that each comes after those it depends on that are
    among them; validation has refused cycles."""
    by_name = {i.name: i for i in integrations}
    placed: list[Integration] = []
    done: set[str] = set()

    def place(integration: Integration) -> None:  # what it depends on first (depth-first; no cycles)
        if integration.name in done:
            return
        done.add(integration.name)
        for name in integration.depends_on:
            if name in by_name:
                place(by_name[name])
        placed.append(integration)

    for integration in integrations:
        place(integration)
    return tuple(placed)


def _integration_settings(
    integration: Integration, env: Environment, project: str, model: Model, deployed: frozenset[str]
) -> dict[str, Any]:
    per_env = integration.per_env[env.name]
    hc = per_env.health_check
    health: dict[str, Any] = {"enabled": hc.enabled, "timeoutSeconds": hc.timeout_seconds, "retries": hc.retries}
    if hc.rate_limit_per_minute is not None:
        health["rateLimitPerMinute"] = hc.rate_limit_per_minute
    protect = env.protect if per_env.protect is None else per_env.protect
    # The first environment (tier order) where it is enabled manages what every environment shares
    # (an account's SSH keys or firewall rules): one stack owns each such resource.
    first = next((e.name for e in model.environments if integration.per_env[e.name].enabled), None)
    # What its resources wait for: those of the integrations it depends on that this stack deploys.
    after = [name for name in integration.depends_on if name in deployed]
    # Secrets a Pulumi ESC rotator rotates here: the module leaves what the rotator sets alone.
    by_esc = sorted(s.name for i, s, _, _ in esc_rotated(model, env) if i is integration)
    return {
        "enabled": per_env.enabled,
        "protect": protect,
        "firstEnabled": first == env.name,
        "config": thaw(per_env.config),
        "healthCheck": health,
        **({"dependsOn": after} if after else {}),
        **({"escRotated": by_esc} if by_esc else {}),
    }


def _pool_settings(pool: GpuPool, env: Environment) -> dict[str, Any]:
    e = pool.per_env[env.name]
    settings: dict[str, Any] = {
        "enabled": e.enabled,
        "integration": pool.integration,
        "protect": env.protect if e.protect is None else e.protect,
        "instanceType": e.instance_type,
        "regions": list(e.regions),
        "minCount": e.min_count,
        "maxCount": e.max_count,
        "hourlyBudgetUsd": e.hourly_budget_usd,
    }
    if pool.ssh_key_name:
        settings["sshKeyName"] = pool.ssh_key_name
    return settings


def _meta(ctx: RenderContext, item: Integration | GpuPool, extra: dict[str, Any]) -> dict[str, Any]:
    source = ctx.source_names([item.source])[0]
    return {"description": item.description, "labels": thaw(item.labels), **extra, "source": source}


# Where the static modules of a generated program come from: ``compiler/integrations``, whose layout
# ``program/`` mirrors (runtime.py beside one package per type), so their relative imports hold in both.
SHIPPED = Path(__file__).resolve().parent.parent / "integrations"
PACKAGE_INIT = '"""{what}"""\n'


@dataclass(frozen=True)
class Listed:
    """One entry of the generated ``__main__.py`` (a ``runtime.Instance`` there): an integration or GPU pool
    and how it deploys."""

    name: str
    type: str
    deploy: str  # a Python expression naming the deploy function (a module alias of ours, never spec text)
    meta: dict[str, Any]
    pool: bool = False


class PulumiTarget:
    name = "pulumi"
    root = "generated"

    def render(self, ctx: RenderContext) -> dict[str, str]:
        files: dict[str, str] = {}
        for layout in (MAIN, BOOTSTRAP):
            files.update(self._project(ctx, layout))
        return files

    def _project(self, ctx: RenderContext, layout: Layout) -> dict[str, str]:
        model = ctx.model
        root = layout.root
        integrations, pools = layout.integrations(model), layout.gpu_pools(model)
        everything = header(ctx.source_names(model.sources))
        module = "bootstrap" if layout.bootstrap else "deploy"
        used = {i.type for i in integrations if _ships(i.type, layout)}
        # A dynamic provider is kept in state as a reference to its module: the modules of every type
        # that has one ship whether the specs use the type or not, so resources left in a stack by a
        # type removed from the specs can still be refreshed and deleted.
        kept = {t for t in REGISTRY.values() if _ships(t, layout) and _dynamic(t)}
        shipped = sorted(used | kept, key=lambda t: t.name)
        instances = [self._instance(ctx, i, layout) for i in integrations]
        instances += [self._pool(ctx, p) for p in pools]
        files = {
            f"{root}/Pulumi.yaml": template(
                "pulumi/Pulumi.yaml.j2",
                header=header(ctx.source_names([model.project.source])),
                name=layout.project_name(model),
                description=model.project.description + layout.description,
            ),
            f"{root}/requirements.txt": template(
                "pulumi/requirements.txt.j2",
                header=header(ctx.source_names(sources.requirements(integrations))),
                requirements=requirements(integrations, kept),
            ),
            f"{root}/__main__.py": template(
                "pulumi/__main__.py.j2",
                header=everything,
                name=layout.project_name(model),
                namespace=model.project.pulumi_project,
                imports=[(t.module, module) for t in shipped if t in used],
                instances=instances,
            ),
            f"{root}/program/__init__.py": _package_init("The modules this Pulumi program is made of."),
            f"{root}/program/runtime.py": _shipped("runtime.py"),
            # The HTTP layer of dynamic providers (imported, with httpx, only by the types that use it).
            f"{root}/program/http.py": _shipped("http.py"),
        }
        for entry in shipped:
            files[f"{root}/program/{entry.module}/__init__.py"] = _package_init(f"{entry.title}: its {module} module.")
            for name in (f"{module}.py", *helpers(entry)):
                files[f"{root}/program/{entry.module}/{name}"] = _shipped(f"{entry.module}/{name}")
        for integration in integrations:
            if _ships(integration.type, layout):
                files.update(_program_files(ctx, integration, root))
        texts = esc_texts(ctx) if layout.bootstrap else {}
        created = created_texts(ctx) if layout.bootstrap else {}
        for env in model.environments:
            files[f"{root}/Pulumi.{env.name}.yaml"] = template(
                "pulumi/Pulumi.stack.yaml.j2",
                header=everything,
                env=env,
                esc_environment=layout.esc_environment(env),
                esc_file=f"generated/esc/{env.name}{layout.suffix}.yaml",
                config=stack_config(model, env, layout, texts.get(env.name, ""), created.get(env.name, {})),
            )
        return files

    def _instance(self, ctx: RenderContext, integration: Integration, layout: Layout) -> Listed:
        entry = integration.type
        meta = _meta(ctx, integration, {"type": entry.name, "category": entry.category})
        return Listed(
            integration.name,
            component_type(entry.component, bootstrap=layout.bootstrap),
            f"{entry.module}.deploy" if _ships(entry, layout) else "runtime.component",
            meta,
        )

    def _pool(self, ctx: RenderContext, pool: GpuPool) -> Listed:
        integration = next((i for i in ctx.model.integrations if i.name == pool.integration), None)
        component = integration.type.component if integration else "Gpu"
        # The GPU-pools type's deploy module runs the pool (deploy_pool) where it has one.
        hosted = integration is not None and GPU_POOLS in integration.type.roles and integration.type.deploys
        deploy = f"{integration.type.module}.deploy_pool" if hosted and integration else "runtime.component"
        return Listed(pool.name, gpu_pool_type(component), deploy, _meta(ctx, pool, {}), pool=True)


def _program_files(ctx: RenderContext, integration: Integration, root: str) -> dict[str, str]:
    """The data files the integration's module reads, per environment where it is enabled."""
    render = integration.type.program_files
    if render is None:
        return {}
    out = {}
    for env in ctx.model.environments:
        per_env = integration.per_env[env.name]
        if not per_env.enabled:
            continue
        for name, content in sorted(render(per_env.config).items()):
            path = f"{root}/{program_files(integration.name, env.name)}/{name}"
            head = header(ctx.source_names([integration.source]), comment="")
            if name.endswith(".json"):  # JSON has no comments: the header is its first key, "//"
                out[path] = json.dumps({"//": head.split("\n"), **content}, indent=2, sort_keys=True) + "\n"
            else:
                out[path] = (
                    "".join(f"# {line}\n" for line in head.split("\n")) + yaml_block(content).lstrip("\n") + "\n"
                )
    return out


def _dynamic(entry: IntegrationType) -> bool:
    """Whether the type's program module registers dynamic providers (its ``providers.py``)."""
    return (SHIPPED / entry.module / "providers.py").is_file()


def _ships(entry: IntegrationType, layout: Layout) -> bool:
    """Whether the type has a module of its own in this project."""
    return entry.bootstrap if layout.bootstrap else entry.deploys


@cache
def helpers(entry: IntegrationType) -> tuple[str, ...]:
    """The modules of a type's package its program modules share (anything but the entry, the
    probe and the program modules themselves): shipped with whichever of them a project uses."""
    own = {"__init__.py", "probe.py", "deploy.py", "bootstrap.py", "rotate.py"}
    return tuple(sorted(p.name for p in (SHIPPED / entry.module).glob("*.py") if p.name not in own))


@cache
def _shipped(relative: str) -> str:
    """A static module of the generated program: the compiler's own, under the generated-file header."""
    origin = f"compiler/integrations/{relative}"
    note = f"# Copied verbatim from {origin}, where it is linted, type-checked and tested."
    return f"{header([])}\n{note}\n{(SHIPPED / relative).read_text(encoding='utf-8')}"


def _package_init(what: str) -> str:
    return header([]) + "\n" + PACKAGE_INIT.format(what=what)
