"""``sophia-iac plan``: the resources ``pulumi up`` would create for one stack, offline.

The specs are compiled into a temporary directory and each generated project
runs under Pulumi mocks (:mod:`compiler.harness`): no credentials, no network,
no Pulumi CLI. ``--diff REF`` compares resources by URN with the plan of the
base: at a git ref, the repository as it was there, compiled by the compiler
committed there (a pull request that changes the compiler or the schema must
not break its own base); a directory of specs is compiled by this compiler.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .effects import Effects
from .errors import SophiaIacError, UsageError
from .harness import PROJECTS, run_stack
from .model import Model
from .targets.pulumi import BOOTSTRAP, MAIN

if TYPE_CHECKING:
    from .pipeline import Analysis

SECRET = "[secret]"
PROJECT_TITLES = {"pulumi": "infrastructure", "bootstrap": "bootstrap"}


@dataclass(frozen=True)
class Resource:
    project: str
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    custom: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.urn)


@dataclass(frozen=True)
class Change:
    before: Resource
    after: Resource
    inputs: dict[str, tuple[Any, Any]]


@dataclass
class Diff:
    added: list[Resource] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)


def mask(value: Any) -> Any:
    """Inputs with every secret value replaced by a marker."""
    if isinstance(value, dict):
        if "__secret__" in value and len(value) == 1:
            return SECRET
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _resource(project: str, raw: dict[str, Any]) -> Resource:
    parent = raw["parent"].rsplit("::", 1)[-1] if raw["parent"] else ""
    return Resource(
        project,
        raw["urn"],
        raw["type"],
        raw["name"],
        parent,
        mask(raw["inputs"]),
        raw["protect"],
        raw["retainOnDelete"],
        raw["custom"],
    )


def inventory(specs: Path, env: str, projects: Sequence[str], label: str = "specs") -> list[Resource]:
    """Compile ``specs`` into a temporary directory and run each project's ``env`` stack under mocks.

    Source names in headers are ``<label>/...`` whatever the directory is called, so two
    compiles of the same specs from different places are byte-identical.
    """
    from . import emit
    from .commands import stable_sources
    from .pipeline import analyse
    from .render import RenderContext, render_all

    analysis = analyse([str(specs)])
    if analysis.model is None:
        raise SophiaIacError(f"the specs in {specs} do not validate; run `sophia-iac validate {specs}`")
    if env not in [e.name for e in analysis.model.environments]:
        return []  # a stack that does not exist there has no resources
    projects = [p for p in projects if _deploys_anything(analysis.model, env, p)]
    if not projects:
        return []
    with tempfile.TemporaryDirectory(prefix="sophia-iac-plan-") as tmp:
        out = Path(tmp)
        files = render_all(RenderContext(analysis.model, stable_sources(analysis, specs, label)))["generated"]
        emit.apply(out, emit.changes(out, files))
        with ThreadPoolExecutor(max_workers=max(1, len(projects))) as pool:
            runs = list(pool.map(lambda project: (project, run_stack(out, env, project)), projects))
    return sorted((_resource(p, r) for p, run in runs for r in run.resources), key=lambda r: r.key)


def _deploys_anything(model: Model, env: str, project: str) -> bool:
    """Whether a project's stack has any integration or pool enabled (an empty program registers nothing)."""
    layout = BOOTSTRAP if project == "bootstrap" else MAIN
    return any(i.per_env[env].enabled for i in layout.integrations(model)) or any(
        p.per_env[env].enabled for p in layout.gpu_pools(model)
    )


class BaseUnavailable(SophiaIacError):
    """The base of a ``--diff`` cannot be planned; the reason is shown instead of a diff."""


PROJECT_KEYS = {title: key for key, title in PROJECT_TITLES.items()}


def base_inventory(ref: str, specs: Path, env: str, projects: Sequence[str], label: str) -> list[Resource]:
    """The resources of ``env`` at the base: a directory of specs, or a git ref planned by its own compiler (by
    this one where the repository holds none: it uses a released sophia-iac)."""
    if is_directory_base(ref, specs):
        return inventory(Path(ref), env, projects, label)
    with tempfile.TemporaryDirectory(prefix="sophia-iac-base-") as tmp:
        tree, relative = checkout(ref, specs, Path(tmp))
        if not (tree / relative).is_dir():
            return []  # no specs at the base: nothing was deployed from it
        if not (tree / "compiler" / "__main__.py").is_file():
            # A repository that uses a released sophia-iac: its base is planned by the one installed.
            return inventory(tree / relative, env, projects, label)
        return [r for p in projects for r in _plan_at(tree, relative, env, p)]


def head_files(specs: Path, label: str, analysis: Analysis | None = None) -> dict[str, str]:
    """The generated output of ``specs`` (what its committed output must be), by repository path; from their
    ``analysis`` where the caller has it already."""
    from . import effects
    from .commands import stable_sources
    from .pipeline import analyse
    from .render import RenderContext, render_all

    analysis = analysis or analyse([str(specs)])
    if analysis.model is None:
        raise SophiaIacError(f"the specs in {specs} do not validate; run `sophia-iac validate {specs}`")
    files = render_all(RenderContext(analysis.model, stable_sources(analysis, specs, label)))
    return effects.rendered(files, analysis.model.project.workflows_dir)


def base_files(ref: str, specs: Path, label: str, workflows_dir: str) -> dict[str, str]:
    """The generated output at the base: a directory of specs rendered by this compiler, or what a git ref
    has committed (what was deployed from it; rendered by this compiler where nothing is committed)."""
    from . import effects

    if is_directory_base(ref, specs):
        return head_files(Path(ref), label)
    with tempfile.TemporaryDirectory(prefix="sophia-iac-base-") as tmp:
        tree, relative = checkout(ref, specs, Path(tmp))
        if not (tree / relative).is_dir():
            return {}
        found = effects.committed(tree, workflows_dir)
        return found if found else head_files(tree / relative, label)


def _plan_at(tree: Path, relative: str, env: str, project: str) -> list[Resource]:
    """``sophia-iac plan --format json`` run by the compiler committed in ``tree``."""
    command = [sys.executable, "-m", "compiler", "plan", "--specs", relative, "--env", env, "--project", project]
    environ = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [*command, "--format", "json"], cwd=tree, env=environ, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        reason = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
        if "no resource was registered" in reason:
            return []  # an older compiler planning a stack with nothing in it
        raise BaseUnavailable(f"the compiler at the base cannot plan it: {reason}")
    try:
        return [_from_json(r) for r in json.loads(proc.stdout)["resources"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise BaseUnavailable(f"the compiler at the base printed a plan this one cannot read ({exc})") from exc


def _from_json(raw: dict[str, Any]) -> Resource:
    return Resource(
        PROJECT_KEYS[raw["project"]],
        raw["urn"],
        raw["type"],
        raw["name"],
        raw["parent"],
        raw["inputs"],
        raw["protect"],
        raw["retainOnDelete"],
        custom=not raw["type"].startswith("sophia:"),
    )


def is_directory_base(ref: str, specs: Path) -> bool:
    """Whether ``--diff`` names a directory of specs rather than a git ref: a ref that git resolves to a commit
    always wins, so a pull request cannot plant a directory named like its base commit and compare its
    specs with themselves."""
    if not Path(ref).is_dir():
        return False
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=specs,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode != 0


def checkout(ref: str, specs: Path, dest: Path) -> tuple[Path, str]:
    """The whole repository as it is at a git ref, and the specs directory's path inside it."""
    top = _git(specs, "rev-parse", "--show-toplevel").strip()
    relative = specs.resolve().relative_to(Path(top).resolve()).as_posix()
    archive = dest / "tree.tar"
    with archive.open("wb") as f:
        proc = subprocess.run(
            ["git", "-C", top, "archive", "--format=tar", "--end-of-options", ref],
            stdout=f,
            stderr=subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        raise UsageError(f"cannot read git ref '{ref}': {proc.stderr.decode().strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(dest / "tree", filter="data")
    return dest / "tree", relative


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UsageError(f"--diff needs a git repository or a specs directory: {proc.stderr.strip()}")
    return proc.stdout


def diff(before: Iterable[Resource], after: Iterable[Resource]) -> Diff:
    old = {r.key: r for r in before}
    new = {r.key: r for r in after}
    result = Diff()
    for key in sorted(new.keys() - old.keys()):
        result.added.append(new[key])
    for key in sorted(old.keys() - new.keys()):
        result.removed.append(old[key])
    for key in sorted(old.keys() & new.keys()):
        changed = _changed_inputs(old[key], new[key])
        if changed:
            result.changed.append(Change(old[key], new[key], changed))
    return result


def _changed_inputs(before: Resource, after: Resource) -> dict[str, tuple[Any, Any]]:
    keys = sorted(before.inputs.keys() | after.inputs.keys())
    changed = {
        k: (before.inputs.get(k), after.inputs.get(k)) for k in keys if before.inputs.get(k) != after.inputs.get(k)
    }
    for option, old, new in (
        ("(protect)", before.protect, after.protect),
        ("(retainOnDelete)", before.retain_on_delete, after.retain_on_delete),
    ):
        if old != new:
            changed[option] = (old, new)
    return changed


def _pair(old: Any, new: Any) -> tuple[str, str]:
    """Two values as shown side by side: whole where short, else a window around where they first differ,
    so two different long values never read the same."""
    a, b = json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True)
    if len(a) <= 80 and len(b) <= 80:
        return a, b
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - 30)

    def window(text: str) -> str:
        part = text[start : start + 80]
        return ("..." if start else "") + part + ("..." if start + 80 < len(text) else "")

    return window(a), window(b)


def _flags(resource: Resource) -> str:
    flags = [f for f, on in (("protected", resource.protect), ("retained", resource.retain_on_delete)) if on]
    return f"  [{', '.join(flags)}]" if flags else ""


def gpu_pools(model: Model, env: str) -> list[dict[str, Any]]:
    """What each GPU pool enabled in ``env`` runs: its instances (named as the deploy names them), the
    regions it tries in order, and its hourly cost at the declared price (the deploy checks the live one)."""
    out = []
    for pool in model.gpu_pools:
        e = pool.per_env[env]
        if not e.enabled:
            continue
        price = e.price_per_hour_usd
        out.append(
            {
                "name": pool.name,
                "instanceType": e.instance_type,
                "instances": [f"{pool.name}-{env}-{k}" for k in range(e.min_count)],
                "minCount": e.min_count,
                "maxCount": e.max_count,
                "regionOrder": list(e.regions),
                "declaredPricePerHourUsd": price,
                "hourlyCostUsd": None if price is None else round(price * e.min_count, 2),
                "hourlyCostAtMaxUsd": None if price is None else round(price * e.max_count, 2),
                "hourlyBudgetUsd": e.hourly_budget_usd,
            }
        )
    return out


def _pool_lines(pools: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["GPU pools:"] if pools else []
    for p in pools:
        running = ", ".join(p["instances"]) or "none"
        lines.append(f"  {p['name']}: {p['minCount']} x {p['instanceType']} (maxCount {p['maxCount']}): {running}")
        lines.append(f"    regions, tried in order: {', '.join(p['regionOrder'])}")
        if p["declaredPricePerHourUsd"] is None:
            cost = "no declared price; the deploy checks the live price against the budget"
        else:
            cost = (
                f"${p['hourlyCostUsd']:.2f}/h at the declared ${p['declaredPricePerHourUsd']:.2f}/h "
                f"(${p['hourlyCostAtMaxUsd']:.2f}/h at maxCount)"
            )
        lines.append(f"    hourly cost: {cost}; budget ${p['hourlyBudgetUsd']:.2f}/h")
    return lines


def format_text(
    resources: Sequence[Resource], env: str, projects: Sequence[str], pools: Sequence[dict[str, Any]] = ()
) -> str:
    lines: list[str] = []
    for project in projects:
        mine = [r for r in resources if r.project == project]
        lines.append(f"{PROJECT_TITLES[project]} stack '{env}': {len(mine)} resources")
        lines.extend(_tree(mine))
        lines.append("")
    if pools:
        lines.extend([*_pool_lines(pools), ""])
    lines.append("Resources by type:")
    for type_token, count in sorted(Counter(r.type for r in resources).items()):
        lines.append(f"  {count:4d}  {type_token}")
    return "\n".join(lines) + "\n"


def _tree(resources: Sequence[Resource]) -> list[str]:
    children: dict[str, list[Resource]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r)
    names = {r.urn.rsplit("::", 1)[-1] for r in resources}
    roots = [r for r in resources if r.parent not in names]
    lines: list[str] = []

    def walk(node: Resource, depth: int) -> None:
        lines.append(f"{'  ' * depth}{node.name}  ({node.type}){_flags(node)}")
        for child in sorted(children.get(node.urn.rsplit("::", 1)[-1], []), key=lambda r: r.name):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: r.name):
        walk(root, 1)
    return lines


def format_diff_text(result: Diff, effects: Effects | None = None) -> str:
    lines = []
    for r in result.added:
        lines.append(f"+ {r.name}  ({r.type}, {PROJECT_TITLES[r.project]}){_flags(r)}")
    for c in result.changed:
        lines.append(f"~ {c.after.name}  ({c.after.type}, {PROJECT_TITLES[c.after.project]})")
        lines.extend(f"    {k}: {' -> '.join(_pair(old, new))}" for k, (old, new) in c.inputs.items())
    for r in result.removed:
        lines.append(f"- {r.name}  ({r.type}, {PROJECT_TITLES[r.project]}){_flags(r)}")
    if effects:
        for project, key, old, new in effects.config:
            lines.append(f"~ {project} stack config {key}: {' -> '.join(_pair(old, new))}")
        for path, diff in effects.esc:
            lines += [f"~ {path}", *(f"    {line}" for line in diff)]
        lines += [f"~ {path}" for path in effects.files]
    lines.append(f"{len(result.added)} to add, {len(result.changed)} to change, {len(result.removed)} to remove")
    return "\n".join(lines) + "\n"


def _counts(result: Diff, effects: Effects | None) -> str:
    parts = [f"**{len(result.added)} to add, {len(result.changed)} to change, {len(result.removed)} to remove**"]
    if effects:
        for n, what in ((len(effects.config), "stack config key"), (len(effects.esc), "ESC definition")):
            if n:
                parts.append(f"{n} {what}{'s' * (n != 1)} changed")
        if effects.files:
            parts.append(f"{len(effects.files)} other generated file{'s' * (len(effects.files) != 1)}")
    return " · ".join(parts)


def format_markdown(
    resources: Sequence[Resource], result: Diff | None, env: str, note: str = "", effects: Effects | None = None
) -> str:
    if result is not None and not note and not (result.added or result.changed or result.removed or effects):
        return f"**sophia-iac plan, `{env}`:** nothing changes.\n"  # one line: a reviewer has nothing to read
    lines = [f"### sophia-iac plan: `{env}`", ""]
    if note:
        shown = note.replace("<", "&lt;").replace("`", "'").replace("\n", " ")
        lines += [f"> **Not compared with the base:** {shown}. Below is the whole stack after this change.", ""]
    if result is not None:
        lines += [_counts(result, effects), ""]
        rows = [("+", r) for r in result.added] + [("~", c.after) for c in result.changed]
        rows += [("-", r) for r in result.removed]
        if rows:
            lines += ["| | resource | type | project |", "|---|---|---|---|"]
            lines += [
                f"| {op} | `{r.name}`{_flags(r).replace('[', '(').replace(']', ')')} | `{r.type}` | "
                f"{PROJECT_TITLES[r.project]} |"
                for op, r in rows
            ]
        for c in result.changed:
            pairs = {k: _pair(old, new) for k, (old, new) in c.inputs.items()}
            body = [line for k, (a, b) in pairs.items() for line in (f"- {k}: {a}", f"+ {k}: {b}")]
            fence = _fence(body)
            lines += ["", f"<details><summary><code>{c.after.name}</code> inputs</summary>", "", f"{fence}diff"]
            lines += [*body, fence, "</details>"]
        if effects and effects.config:
            lines += ["", "**Stack config**", "", "| stack | key | before | after |", "|---|---|---|---|"]
            lines += [
                f"| {project} | `{key}` | {' | '.join(_cell(v) for v in _pair(old, new))} |"
                for project, key, old, new in effects.config
            ]
        if effects and effects.esc:
            lines += ["", "**ESC environments**"]
            for path, diff in effects.esc:
                fence = _fence(diff)
                lines += ["", f"<details open><summary><code>{path}</code></summary>", "", f"{fence}diff", *diff, fence]
                lines.append("</details>")
        if effects and effects.files:
            lines += ["", "**Other generated files**", ""] + [f"- {_cell(json.dumps(p)[1:-1])}" for p in effects.files]
        lines.append("")
    counts = Counter(r.type for r in resources)
    summary = "in the stack after this change" if result is not None else f"in stack `{env}`"
    lines += [f"<details><summary>{len(resources)} resources {summary}, by type</summary>", ""]
    lines += ["| type | count |", "|---|---|", *(f"| `{t}` | {n} |" for t, n in sorted(counts.items()))]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _fence(body: Sequence[str]) -> str:
    """A code fence longer than any run of backticks in ``body``: spec text cannot close it early."""
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _cell(text: str) -> str:
    return "(none)" if text == "null" else "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def format_json(
    resources: Sequence[Resource],
    result: Diff | None,
    note: str = "",
    pools: Sequence[dict[str, Any]] = (),
    effects: Effects | None = None,
) -> str:
    def res(r: Resource) -> dict[str, Any]:
        return {
            "project": PROJECT_TITLES[r.project],
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "protect": r.protect,
            "retainOnDelete": r.retain_on_delete,
            "inputs": r.inputs,
        }

    body: dict[str, Any] = {"resources": [res(r) for r in resources], "gpuPools": list(pools)}
    if note:
        body["diffUnavailable"] = note
    if result is not None:
        body["diff"] = {
            "added": [res(r) for r in result.added],
            "changed": [
                {"urn": c.after.urn, "inputs": {k: {"before": o, "after": n} for k, (o, n) in c.inputs.items()}}
                for c in result.changed
            ],
            "removed": [res(r) for r in result.removed],
        }
    if effects is not None:
        body["effects"] = {
            "stackConfig": [
                {"stack": project, "key": key, "before": old, "after": new} for project, key, old, new in effects.config
            ],
            "esc": [{"file": path, "diff": diff} for path, diff in effects.esc],
            "files": list(effects.files),
        }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def projects_for(choice: str) -> list[str]:
    return list(PROJECTS) if choice == "all" else [choice]
