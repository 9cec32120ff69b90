"""generated/ARCHITECTURE.md (the strategy's architecture diagram and an inventory) and generated/SETUP.md
(the first-time set-up of this project, in the order that works), derived from the specs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..access import org_wide_environment, stacks
from ..integrations import CATEGORIES
from ..integrations.base import STACKS
from ..model import Environment, Integration, Model
from ..render import RenderContext, header, template
from .esc import exported_secrets, program_secret_keys

if TYPE_CHECKING:
    from ..rotation import Planned

CATEGORY_TITLES = {
    "data-sources": "Data Sources",
    "ai-services": "AI Services",
    "infrastructure": "Infrastructure",
    "devops": "DevOps",
    "alerting": "Alerting",
}
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:/()+-]")


def mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: anything outside a safe set becomes an entity code."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", text)


def markdown_cell(text: str) -> str:
    """Text for a Markdown table cell: one line, no table or HTML syntax."""
    flat = " ".join(text.split())
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'")):
        flat = flat.replace(raw, safe)
    return flat


@dataclass(frozen=True)
class SetUp:
    """What one environment needs by hand before its bootstrap stack can be applied."""

    env: Environment
    bootstrap_environment: str
    bootstrap_stack: str
    # Paths the secrets environment (the pipeline may open it) and the admin-only one must hold, each with
    # what needs it (integrations, alert routes).
    shared: tuple[tuple[str, str], ...]
    admin_only: tuple[tuple[str, str], ...]


def _paths(model: Model, env: Environment) -> dict[str, set[str]]:
    """ESC environment -> the paths the generated definitions of ``env`` reference in it."""
    found: dict[str, set[str]] = {env.esc_secrets: set(), env.esc_bootstrap_secrets: set()}
    places = list(exported_secrets(model, env).values())
    for project in ("pulumi", "bootstrap"):
        places += program_secret_keys(model, env, project).values()
    for home, path in places:
        # A rotated value is put in the secrets environment first, by people: the rotated environment imports
        # it, and an ESC rotator starts from it.
        found[env.esc_secrets if home in (env.esc_rotated, env.esc_rotators) else home].add(path)
    return found


def _needed_by(model: Model, env: Environment) -> dict[str, str]:
    """ESC path -> what reads its value in ``env``: integrations (with the secret's name) and alert routes."""
    users: dict[str, list[str]] = {}
    for i in model.integrations:
        if i.enabled(env.name):
            for s in i.secrets:
                users.setdefault(s.esc, []).append(f"{i.name} ({s.name})")
    for r in model.project.alert_routes:
        users.setdefault(r.webhook_esc, []).append(f"alert route {r.name}")
    return {path: ", ".join(names) for path, names in users.items()}


def _granted_teams(model: Model) -> list[str]:
    """Pulumi Cloud teams the stacks integration (``roles: stacks``) grants ESC access to, in any environment."""
    names = {
        str(team["name"])
        for i in model.integrations
        if STACKS in i.type.roles
        for per_env in i.per_env.values()
        for team in per_env.config.get("teams", ())
    }
    return sorted(names)


def set_up(model: Model) -> list[SetUp]:
    """Each environment's hand-made ESC environments and the secret paths they must hold, bootstrap order.

    The stack that owns what exists once (the OIDC issuer naming every environment's teams,
    branch protection) comes last.
    """
    owner = org_wide_environment(model)
    org, project = model.project.organization, model.project.pulumi_project
    out = []
    for access in sorted(stacks(model), key=lambda a: a.env is owner):
        env = access.env
        paths, needed = _paths(model, env), _needed_by(model, env)
        out.append(
            SetUp(
                env,
                f"{org}/{env.esc_environment}-bootstrap",
                f"{org}/{project}-bootstrap/{env.name}",
                tuple((p, needed.get(p, "")) for p in sorted(paths[env.esc_secrets])),
                tuple((p, needed.get(p, "")) for p in sorted(paths[env.esc_bootstrap_secrets])),
            )
        )
    return out


METHODS = {
    "esc": "rotated by Pulumi ESC's rotator",
    "workflow": "rotated by `sophia-iac rotate`",
    "reminder": "reminder",
}


@dataclass(frozen=True)
class Row:
    integration: Integration
    environments: tuple[bool, ...]
    secrets: tuple[str, ...]


def _secret_cell(model: Model, integration: Integration, methods: Mapping[tuple[str, str], Planned]) -> tuple[str, ...]:
    """Each secret with its policy and the method that really rotates it (compiler/rotation)."""
    policies = {p.name: p for p in model.rotation_policies}
    cells = []
    for s in integration.secrets:
        policy = policies[s.rotation]
        found = methods.get((integration.name, s.name))
        how = METHODS[found.method] if found else "unused"
        if found is not None and found.owner:
            how += f" with `{found.owner}`"
        elif found is not None and found.why:
            how += f" ({found.why})"
        cells.append(f"`{s.name}` ({s.rotation}: every {policy.interval}, {how})")
    return tuple(cells)


class DocsTarget:
    name = "docs"
    root = "generated"

    def render(self, ctx: RenderContext) -> dict[str, str]:
        model = ctx.model
        from ..rotation import planned  # here: rotation reads the targets' ESC layout

        methods = {(p.integration.name, p.secret.name): p for p in planned(model)}  # once: one pass over all
        envs = model.environments
        groups = [
            (category, CATEGORY_TITLES[category], [i for i in model.integrations if i.type.category == category])
            for category in CATEGORIES
        ]
        rows = [
            Row(i, tuple(i.per_env[e.name].enabled for e in envs), _secret_cell(model, i, methods))
            for i in model.integrations
        ]
        text = template(
            "docs/ARCHITECTURE.md.j2",
            # Inside an HTML comment: a file name must not be able to close it.
            header=header(ctx.source_names(model.sources), comment="").replace("--", "-&#45;"),
            model=model,
            groups=[g for g in groups if g[2]],
            rows=rows,
            envs=envs,
            label=mermaid_text,
            cell=markdown_cell,
        )
        setup = template(
            "docs/SETUP.md.j2",
            header=header(ctx.source_names(model.sources), comment="").replace("--", "-&#45;"),
            model=model,
            steps=set_up(model),
            owner=org_wide_environment(model),
            stacks={a.env.name: a for a in stacks(model)},
            teams=_granted_teams(model),
            cell=markdown_cell,
        )
        return {"ARCHITECTURE.md": text, "SETUP.md": setup}
