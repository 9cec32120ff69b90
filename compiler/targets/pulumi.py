"""The Pulumi project: Pulumi.yaml, one stack file per environment, the program."""

from __future__ import annotations

from functools import cache
from typing import Any

from ..model import Environment, GpuPool, Integration, Model, thaw
from ..render import Context, header, template

# The SDK the generated program and the mocks harness are written against.
PULUMI_REQUIREMENT = "pulumi==3.272.0"
ROOT = "pulumi"


def requirements(model: Model) -> list[str]:
    extra = {r for i in model.integrations for r in i.type.requirements}
    return [PULUMI_REQUIREMENT, *sorted(extra)]


def stack_config(model: Model, env: Environment) -> dict[str, Any]:
    """Non-secret stack config of one environment, namespaced by the project."""
    ns = model.project.pulumi_project
    return {
        f"{ns}:environment": env.name,
        f"{ns}:tier": env.tier,
        f"{ns}:protect": env.protect,
        f"{ns}:account": env.account,
        f"{ns}:region": env.region,
        f"{ns}:integrations": {i.name: _integration_settings(i, env.name) for i in model.integrations},
        f"{ns}:gpuPools": {p.name: _pool_settings(p, env.name) for p in model.gpu_pools},
    }


def _integration_settings(integration: Integration, env: str) -> dict[str, Any]:
    per_env = integration.per_env[env]
    hc = per_env.health_check
    health: dict[str, Any] = {"enabled": hc.enabled, "timeoutSeconds": hc.timeout_seconds, "retries": hc.retries}
    if hc.rate_limit_per_minute is not None:
        health["rateLimitPerMinute"] = hc.rate_limit_per_minute
    return {"enabled": per_env.enabled, "config": thaw(per_env.config), "healthCheck": health}


def _pool_settings(pool: GpuPool, env: str) -> dict[str, Any]:
    e = pool.per_env[env]
    settings: dict[str, Any] = {
        "enabled": e.enabled,
        "instanceType": e.instance_type,
        "regions": list(e.regions),
        "minCount": e.min_count,
        "maxCount": e.max_count,
        "hourlyBudgetUsd": e.hourly_budget_usd,
    }
    if pool.ssh_key_name:
        settings["sshKeyName"] = pool.ssh_key_name
    return settings


def _meta(ctx: Context, item: Integration | GpuPool, extra: dict[str, Any]) -> dict[str, Any]:
    source = ctx.source_names([item.source])[0]
    return {"description": item.description, "labels": thaw(item.labels), **extra, "source": source}


class PulumiTarget:
    name = "pulumi"

    def render(self, ctx: Context) -> dict[str, str]:
        model = ctx.model
        everything = header(ctx.source_names(model.sources))
        py_all = header(ctx.source_names(model.sources))
        files = {
            f"{ROOT}/Pulumi.yaml": template(
                "pulumi/Pulumi.yaml.j2", header=header(ctx.source_names([model.project.source])), project=model.project
            ),
            f"{ROOT}/requirements.txt": template(
                "pulumi/requirements.txt.j2", header=everything, requirements=requirements(model)
            ),
            f"{ROOT}/__main__.py": template(
                "pulumi/__main__.py.j2",
                header=py_all,
                project=model.project,
                integrations=model.integrations,
                gpu_pools=model.gpu_pools,
            ),
        }
        for package in ("program", "program/integrations", "program/gpu_pools"):
            files[f"{ROOT}/{package}/__init__.py"] = template(f"pulumi/{package}/__init__.py.j2", header=header([]))
        files[f"{ROOT}/program/runtime.py"] = template("pulumi/program/runtime.py.j2", header=header([]))
        for env in model.environments:
            files[f"{ROOT}/Pulumi.{env.name}.yaml"] = template(
                "pulumi/Pulumi.stack.yaml.j2", header=everything, env=env, config=stack_config(model, env)
            )
        for integration in model.integrations:
            files[f"{ROOT}/program/integrations/{integration.module}.py"] = self._integration(ctx, integration)
        for pool in model.gpu_pools:
            files[f"{ROOT}/program/gpu_pools/{pool.module}.py"] = self._pool(ctx, pool)
        return files

    def _integration(self, ctx: Context, integration: Integration) -> str:
        meta = _meta(ctx, integration, {"type": integration.type.name, "category": integration.type.category})
        secrets = {s.name: s.config_key for s in integration.secrets}
        name = f"pulumi/program/integrations/{integration.type.name}.py.j2"
        loader = ctx_loader_has(name)
        return template(
            name if loader else "pulumi/program/integrations/integration.py.j2",
            header=header(ctx.source_names([integration.source])),
            integration=integration,
            meta=meta,
            secrets=secrets,
        )

    def _pool(self, ctx: Context, pool: GpuPool) -> str:
        integration = next((i for i in ctx.model.integrations if i.name == pool.integration), None)
        secrets = {s.name: s.config_key for s in integration.secrets} if integration else {}
        sources = [pool.source] + ([integration.source] if integration else [])
        return template(
            "pulumi/program/gpu_pools/gpu_pool.py.j2",
            header=header(ctx.source_names(sources)),
            pool=pool,
            meta=_meta(ctx, pool, {}),
            secrets=secrets,
        )


@cache
def _templates() -> frozenset[str]:
    from ..render import environment

    return frozenset(environment().list_templates())


def ctx_loader_has(name: str) -> bool:
    return name in _templates()
