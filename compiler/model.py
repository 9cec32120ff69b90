"""The frozen, typed model. Nothing after this stage touches raw documents.

Per-environment values are resolved here (overrides merged), so templates
read ``integration.per_env["production"].config`` and never merge anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from .checks import Catalog, walk_config
from .integrations import REGISTRY, IntegrationType
from .load import Document
from .names import config_key, env_var, module_name
from .resolve import effective_spec
from .schemas import duration_seconds


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Named = TypeVar("_Named", bound=_HasName)
_T = TypeVar("_T")
TIER_ORDER = {"development": 0, "staging": 1, "production": 2}


_LEAVES = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts become read-only mappings, lists tuples."""
    kind = type(value)
    if kind in _LEAVES:
        return value  # most values: decided without an isinstance check
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`, for rendering."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is MappingProxyType or isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if kind is tuple:
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class AlertRoute:
    name: str
    channel: str
    webhook_esc: str


@dataclass(frozen=True)
class Project:
    name: str
    description: str
    labels: Mapping[str, str]
    organization: str
    pulumi_project: str
    repository: str
    default_branch: str
    alert_routes: tuple[AlertRoute, ...]
    compliance: tuple[str, ...]
    workflows_dir: str
    source: str
    # Where the checks workflow installs sophia-iac from: "release" (the package index) or "repository".
    compiler_source: str = "release"


@dataclass(frozen=True)
class Environment:
    name: str
    description: str
    labels: Mapping[str, str]
    tier: str
    deploy_on: str
    approvals: int
    reviewers: tuple[str, ...]
    account: str
    region: str
    esc_environment: str
    esc_secrets: str
    # The ESC environment of the values sophia-iac rotates, and their records (only the rotator writes it).
    esc_rotated: str
    # The ESC environment declaring Pulumi ESC rotators and holding their state (ESC writes it).
    esc_rotators: str
    # The admin-only ESC environment of the bootstrap's own credentials.
    esc_bootstrap_secrets: str
    alert_route: str | None
    protect: bool
    source: str


@dataclass(frozen=True)
class RotationPolicy:
    name: str
    description: str
    interval: str
    interval_seconds: int
    method: str
    overlap: str | None
    schedule: str | None
    routes: tuple[str, ...]
    assignees: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Secret:
    name: str
    esc: str
    rotation: str
    env_var: str
    config_key: str
    description: str
    # The GitHub Actions secret (of the environment's GitHub environment) that also carries it.
    github_secret: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    enabled: bool
    timeout_seconds: int
    retries: int
    rate_limit_per_minute: int | None


@dataclass(frozen=True)
class IntegrationEnv:
    """One integration as one environment sees it."""

    enabled: bool
    protect: bool | None
    config: Mapping[str, Any]
    health_check: HealthCheck


@dataclass(frozen=True)
class Integration:
    name: str
    type: IntegrationType
    description: str
    labels: Mapping[str, str]
    secrets: tuple[Secret, ...]
    per_env: Mapping[str, IntegrationEnv]
    source: str
    # Integrations whose resources this one's wait for (spec.dependsOn).
    depends_on: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return module_name(self.name)

    def enabled(self, env: str) -> bool:
        return self.per_env[env].enabled

    def program_secrets(self, env: str, project: str) -> tuple[Secret, ...]:
        """The secrets the ``project`` ("pulumi" or "bootstrap") module reads in one environment.

        Those its config names through a secret reference, plus the type's own; nothing where it is
        disabled, or where the other project's module is the one that authenticates with them.
        """
        if not self.enabled(env) or project != self.type.secrets_project:
            return ()
        names = set(self.type.program_secrets)
        config = self.per_env[env].config
        for field_path, target in self.type.references:
            if target == "secret":
                names.update(str(v) for _, v in walk_config(config, field_path.split(".")))
        return tuple(s for s in self.secrets if s.name in names)


@dataclass(frozen=True)
class GpuPoolEnv:
    enabled: bool
    instance_type: str
    regions: tuple[str, ...]
    min_count: int
    max_count: int
    hourly_budget_usd: float
    price_per_hour_usd: float | None
    protect: bool | None = None  # None: the environment's


@dataclass(frozen=True)
class GpuPool:
    name: str
    description: str
    labels: Mapping[str, str]
    integration: str
    ssh_key_name: str | None
    per_env: Mapping[str, GpuPoolEnv]
    source: str


@dataclass(frozen=True)
class Model:
    project: Project
    environments: tuple[Environment, ...]
    integrations: tuple[Integration, ...]
    rotation_policies: tuple[RotationPolicy, ...]
    gpu_pools: tuple[GpuPool, ...]
    sources: tuple[str, ...]

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)


def _meta(doc: Document) -> tuple[str, Mapping[str, str]]:
    meta = doc.data["metadata"]
    return meta["name"], freeze(meta.get("labels") or {})


def _project(doc: Document) -> Project:
    name, labels = _meta(doc)
    spec = doc.data["spec"]
    routes = tuple(
        AlertRoute(r["name"], r["slack"]["channel"], r["slack"]["webhook"]["esc"]) for r in spec["alertRoutes"]
    )
    return Project(
        name,
        spec.get("description", ""),
        labels,
        spec["pulumi"]["organization"],
        spec["pulumi"]["project"],
        spec["github"]["repository"],
        spec["github"].get("defaultBranch", "main"),
        routes,
        tuple(spec.get("compliance", ())),
        spec["github"].get("workflowsDirectory", ".github/workflows"),
        doc.file,
        spec["github"].get("compilerSource", "release"),
    )


def _environment(doc: Document) -> Environment:
    name, labels = _meta(doc)
    spec = doc.data["spec"]
    deploy, cloud, esc = spec["deploy"], spec["cloud"], spec["esc"]
    return Environment(
        name,
        spec.get("description", ""),
        labels,
        spec["tier"],
        deploy["on"],
        deploy.get("approvals", 0),
        tuple(deploy.get("reviewers", ())),
        cloud["account"],
        cloud["region"],
        esc["environment"],
        esc["secretsEnvironment"],
        esc.get("rotatedEnvironment", esc["environment"] + "-rotated"),
        esc.get("rotatorsEnvironment", esc["environment"] + "-rotators"),
        esc.get("bootstrapSecretsEnvironment", esc["environment"] + "-bootstrap-secrets"),
        spec.get("alertRoute"),
        spec.get("protect", spec["tier"] == "production"),
        doc.file,
    )


def _policy(doc: Document) -> RotationPolicy:
    name, _ = _meta(doc)
    spec = doc.data["spec"]
    return RotationPolicy(
        name,
        spec.get("description", ""),
        spec["interval"],
        duration_seconds(spec["interval"]),
        spec["method"],
        spec.get("overlap"),
        spec.get("schedule"),
        tuple(spec["notify"]["routes"]),
        tuple(spec["notify"].get("assignees", ())),
        doc.file,
    )


def _health(spec: Mapping[str, Any]) -> HealthCheck:
    hc = spec.get("healthCheck") or {}
    return HealthCheck(
        hc.get("enabled", True),
        duration_seconds(hc.get("timeout", "10s")),
        hc.get("retries", 2),
        hc.get("rateLimitPerMinute"),
    )


def _integration(doc: Document, envs: Sequence[str]) -> Integration:
    name, labels = _meta(doc)
    spec = doc.data["spec"]
    secrets = tuple(
        Secret(
            s,
            ref["esc"],
            ref["rotation"],
            env_var(name, s, ref),
            config_key(name, s),
            ref.get("description", ""),
            ref.get("githubSecret"),
        )
        for s, ref in sorted((spec.get("secrets") or {}).items())
    )
    per_env = {}
    # Environments without a config override share the base config object: freeze it once.
    # (Each entry holds its config too, so no other object can take its id while this runs.)
    frozen: dict[int, tuple[Any, Any]] = {}
    for env in envs:
        eff = effective_spec(doc, env)
        config = eff["config"]
        if id(config) not in frozen:
            frozen[id(config)] = (config, freeze(config))
        per_env[env] = IntegrationEnv(eff.get("enabled", True), eff.get("protect"), frozen[id(config)][1], _health(eff))
    return Integration(
        name,
        REGISTRY[spec["type"]],
        spec.get("description", ""),
        labels,
        secrets,
        MappingProxyType(per_env),
        doc.file,
        tuple(spec.get("dependsOn") or ()),
    )


def _gpu_pool(doc: Document, envs: Sequence[str]) -> GpuPool:
    name, labels = _meta(doc)
    spec = doc.data["spec"]
    per_env = {}
    for env in envs:
        e = effective_spec(doc, env)
        per_env[env] = GpuPoolEnv(
            e.get("enabled", True),
            e["instanceType"],
            tuple(e["regions"]),
            e["minCount"],
            e["maxCount"],
            e["hourlyBudgetUsd"],
            e.get("pricePerHourUsd"),
            e.get("protect"),
        )
    return GpuPool(
        name,
        spec.get("description", ""),
        labels,
        spec["integration"],
        spec.get("sshKeyName"),
        MappingProxyType(per_env),
        doc.file,
    )


def _by_name(items: Iterable[_Named]) -> tuple[_Named, ...]:
    return tuple(sorted(items, key=lambda x: x.name))


def build(catalog: Catalog) -> Model:
    """The model of a catalog that passed every check."""
    environments = tuple(
        sorted((_environment(d) for d in catalog.of("Environment")), key=lambda e: (TIER_ORDER[e.tier], e.name))
    )
    names = [e.name for e in environments]
    return Model(
        project=_project(catalog.of("Project")[0]),
        environments=environments,
        integrations=_by_name(_integration(d, names) for d in catalog.of("Integration")),
        rotation_policies=_by_name(_policy(d) for d in catalog.of("RotationPolicy")),
        gpu_pools=_by_name(_gpu_pool(d, names) for d in catalog.of("GpuPool")),
        sources=tuple(sorted({d.file for d in catalog.valid})),
    )


# What is derived from a model, kept per model: targets ask for it many times, some once per integration.
_DERIVED: dict[tuple[int, str, str | None], tuple[Model, Any]] = {}


def derived(model: Model, kind: str, key: str | None, compute: Callable[[], _T]) -> _T:
    """``compute()`` once per ``model``, ``kind`` and ``key`` (an environment's name, say)."""
    slot = (id(model), kind, key)
    held = _DERIVED.get(slot)
    if held is None or held[0] is not model:  # an id reused by a newer model is not a hit
        if len(_DERIVED) > 256:
            _DERIVED.clear()
        held = _DERIVED[slot] = (model, compute())
    found: _T = held[1]
    return found
