"""The registry entry every integration type provides, and what its package must hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..names import module_name

CATEGORIES = ("data-sources", "ai-services", "infrastructure", "devops", "alerting")
# What a type can be to the rest of the project; a type fills a role by listing it in
# ``IntegrationType.roles``, and the compiler asks for roles, never for type names.
REPOSITORY = "repository"  # the pipeline's code host: GitHub environments, required checks, release tags
CLOUD = "cloud"  # the pipeline's cloud account: the IAM roles workflows assume through OIDC
STACKS = "stacks"  # the pipeline's state and secrets: Pulumi stacks, teams, ESC environments
GPU_POOLS = "gpu-pools"  # where GpuPool specs run
# A gpu-pools type lists the account's SSH key names in this config field; a GpuPool's sshKeyName
# must be one of them.
POOL_SSH_KEYS = "sshKeyNames"
# The deploy pipeline needs exactly one integration of each of these (see compiler/contracts.py).
PIPELINE_ROLES = (REPOSITORY, CLOUD, STACKS)
ROLES = (*PIPELINE_ROLES, GPU_POOLS)


# (path inside an integration's config, message): what its service would refuse there; a third
# element "warning" marks what it accepts but discourages (reported as W201, not failing validate).
ConfigProblem = tuple[tuple[str | int, ...], str] | tuple[tuple[str | int, ...], str, str]
ConfigProblems = Callable[[Mapping[str, Any]], Sequence[ConfigProblem]]


class RegistryError(Exception):
    """An integration type's package is incomplete or inconsistent: a bug in the compiler, found at import."""


@dataclass(frozen=True)
class EscRotator:
    """A Pulumi ESC rotator (``fn::rotate::<provider>``) that rotates one secret of a type on ESC's
    schedule, declared in the environment's rotated ESC environment."""

    provider: str
    # The config path naming the secret it rotates, whose value is its output ``output``.
    secret: str
    output: str
    # Its inputs, from one environment's config and a function giving the ESC reference to one of the
    # integration's secrets (by name) in the secrets environment.
    inputs: Callable[[Mapping[str, Any], Callable[[str], str]], dict[str, Any]]
    # Its initial state (the credential in use before its first rotation, so that it opens from the
    # start and the first rotation keeps it valid alongside the new one), from the same.
    state: Callable[[Mapping[str, Any], Callable[[str], str]], dict[str, Any]] | None = None
    # Config paths naming secrets rotated with it, whose value is used once (the public key a user is
    # created with).
    along: tuple[str, ...] = ()
    # Config paths that would undo its rotations (the program setting what it rotates): refused.
    forbids: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntegrationType:
    """What the compiler knows about one integration type (``ENTRY`` in its package).

    The files a type needs are listed in ``compiler/integrations/__init__.py`` and the README.
    """

    name: str
    title: str
    category: str
    component: str
    automatic_rotation: bool
    docs: str
    requirements: tuple[str, ...] = ()
    # Config fields naming another thing, checked like every other reference:
    # dotted path (``[]`` walks a list) -> "secret" (one of this integration's secrets, which its
    # Pulumi module reads), "app-secret" (one only the application reads, from ESC) or
    # "alert-route" (the Project's alert routes).
    references: tuple[tuple[str, str], ...] = ()
    # Config list fields whose items name a resource (``roles[].name``): each must be unique.
    # ``a[].x+y[]`` makes the key from several fields of one item (one resource per combination).
    unique_keys: tuple[str, ...] = ()
    # Whether it has a module of its own in the infrastructure program (``deploy.py``); without one,
    # its instances deploy as a plain component recording their settings.
    deploys: bool = False
    # Whether it owns resources the deploy pipeline depends on (``bootstrap.py``, rendered into the
    # bootstrap project).
    bootstrap: bool = False
    # Secrets its Pulumi module always reads, besides those its config names through ``references``.
    program_secrets: tuple[str, ...] = ()
    # The project whose module reads its secrets: "pulumi" (infrastructure) or "bootstrap".
    secrets_project: str = "pulumi"
    # What it is to the rest of the project (ROLES): the pipeline's repository, cloud or stacks,
    # or where GPU pools run.
    roles: tuple[str, ...] = ()
    # Non-secret settings the application reads, from the config of one environment: name -> value,
    # exported by that environment's ESC environment as ``<INTEGRATION>_<NAME>`` (JSON unless a string).
    application: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # What the service would refuse in one environment's config (beyond its schema): (path inside
    # config, message) pairs, reported at their location in the spec as E210.
    config_problems: ConfigProblems | None = None
    # Requests a minute the service allows this config (its client-side rate limit), which the probes
    # keep to as well as healthCheck.rateLimitPerMinute.
    rate_per_minute: Callable[[Mapping[str, Any]], float | None] | None = None
    # Data files its deploy module reads, from one environment's config: file name -> content (YAML
    # for ``.yaml``, JSON for ``.json``). Rendered into the project at ``names.program_files`` where
    # a pull request shows them; the module finds them with ``runtime.files``.
    program_files: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # Command-line tools its deploy module runs, from one environment's config: each {name, version,
    # url, sha256}, downloaded and checked against its digest before ``pulumi up`` in that deploy job.
    deploy_tools: Callable[[Mapping[str, Any]], list[dict[str, str]]] | None = None
    # Secrets its ``rotate.py`` can issue and revoke through the service's API: an automatic rotation
    # policy on one of them is carried out by ``sophia-iac rotate`` (the others are reminders).
    rotators: tuple[str, ...] = ()
    # Pulumi ESC rotators of its secrets: an automatic rotation policy on the secret one's config path
    # names is declared in the generated rotated ESC environment and carried out on ESC's schedule.
    esc_rotators: tuple[EscRotator, ...] = ()

    @property
    def schema(self) -> str:
        return f"integrations/{self.name}.json"

    @property
    def module(self) -> str:
        """Its package (and generated module) name: ``my-service`` -> ``my_service``."""
        return module_name(self.name)

    def check_files(self, package: Path, package_name: str, schemas: Path) -> None:
        """Raise :class:`RegistryError` unless the package holds exactly the files this entry declares."""
        where = f"compiler/integrations/{package_name}"
        problems = []
        if package_name != self.module:
            problems.append(f"{where} holds ENTRY {self.name!r}, whose package must be named {self.module!r}")
        if not (schemas / f"{self.name}.json").is_file():
            problems.append(f"{where}: no schema schema/integrations/{self.name}.json")
        if self.category not in CATEGORIES:
            problems.append(f"{where}: category {self.category!r} is not one of {', '.join(CATEGORIES)}")
        problems += [f"{where}: role {r!r} is not one of {', '.join(ROLES)}" for r in self.roles if r not in ROLES]
        wanted = {
            "probe.py": True,
            "deploy.py": self.deploys,
            "bootstrap.py": self.bootstrap,
            "rotate.py": bool(self.rotators),
        }
        for file, declared in wanted.items():
            present = (package / file).is_file()
            if present and not declared:
                flag = {"deploy.py": "deploys", "rotate.py": "rotators"}.get(file, file.removesuffix(".py"))
                problems.append(f"{where}/{file} exists but ENTRY does not declare it ({flag}=True)")
            elif declared and not present:
                problems.append(f"{where}/{file} is missing")
        if problems:
            raise RegistryError("; ".join(problems))
