"""What each subcommand does, given a typed request; returns the exit code."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Location, Severity, error, has_errors, render, sort, warning
from .errors import OutputConflict, UsageError
from .pipeline import Analysis, analyse

OK, PROBLEMS = 0, 1


def _report(diagnostics: Sequence[Diagnostic], fmt: str, files: int | None = None, *, aside: bool = False) -> None:
    """Print the diagnostics (on standard error when ``aside``: the command's output is something else)."""
    if fmt == "json" or diagnostics:
        (sys.stderr if aside else sys.stdout).write(render(diagnostics, fmt))
    if fmt == "text":
        errors = sum(d.is_error for d in diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
        scope = f" in {files} file{'s' * (files != 1)}" if files is not None else ""
        if diagnostics:
            print(
                f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}{scope}",
                file=sys.stderr,
            )


def validate(paths: Sequence[str], fmt: str) -> int:
    analysis = analyse(paths)
    files = len({d.file for d in analysis.documents})
    _report(analysis.diagnostics, fmt, files)
    if fmt == "text" and not analysis.diagnostics:
        documents = len(analysis.documents)
        print(f"{files} file{'s' * (files != 1)}, {documents} document{'s' * (documents != 1)}: valid", file=sys.stderr)
    return PROBLEMS if has_errors(analysis.diagnostics) else OK


def stable_sources(analysis: Analysis, specs: str | Path, label: str | None = None) -> dict[str, str]:
    """Spec file names for headers (``<label>/<path in specs dir>``), independent of the working directory."""
    root = Path(specs).resolve()
    label = label or root.name
    out = {}
    for doc in analysis.documents:
        try:
            out[doc.file] = f"{label}/{Path(doc.file).resolve().relative_to(root).as_posix()}"
        except ValueError:
            out[doc.file] = Path(doc.file).name
    return out


def _analyse_specs(specs: str, fmt: str, *, aside: bool = False) -> Analysis | None:
    if not Path(specs).is_dir():
        raise UsageError(f"specs directory not found: {specs}")
    analysis = analyse([specs])
    _report(analysis.diagnostics, fmt, len({d.file for d in analysis.documents}), aside=aside)
    return analysis if analysis.ok else None


def compile(specs: str, out: str, *, check: bool, force: bool, fmt: str) -> int:
    from . import contracts
    from .render import RenderContext, render_all

    analysis = _analyse_specs(specs, fmt)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    rendered = render_all(RenderContext(analysis.model, stable_sources(analysis, specs)))
    broken = contracts.check(analysis.model, rendered, analysis.documents)
    if broken:
        from .secrets_scan import redact, secret_like

        _report(sort(redact(broken, secret_like(analysis.documents))), fmt, len({d.file for d in analysis.documents}))
        return PROBLEMS
    roots = output_roots(specs, out, analysis.model.project.workflows_dir)
    try:
        return _emit(Path(specs), roots, rendered, check=check, force=force, fmt=fmt)
    except OSError as exc:
        _report([_io_problem(exc)], fmt)
        return PROBLEMS


def _emit(
    specs: Path, roots: dict[str, Path], rendered: dict[str, dict[str, str]], *, check: bool, force: bool, fmt: str
) -> int:
    """Plan every output root, refuse what would leave one, then check or write them all."""
    from . import emit

    unsafe = [
        error(Location(_label(roots[name]), 1, 1), "E011", f"refusing to write output: {why}")
        for name in rendered
        if (why := emit.root_problem(roots[name], specs))
    ]
    if unsafe:
        _report(unsafe, fmt)
        return PROBLEMS
    plans = {name: emit.changes(roots[name], files, specs) for name, files in rendered.items()}
    refused = [
        error(Location(f"{_label(roots[name])}/{rel}", 1, 1), "E011", f"refusing to write {rel}: {why}")
        for name, p in plans.items()
        for rel, why in p.refused
    ]
    ignored = [
        warning(
            Location(f"{_label(roots[name])}/{emit.MANIFEST}", 1, 1),
            "W102",
            f"manifest entry {rel!r} is left alone: {why}",
            hint="the manifest lists only files under its own directory; someone edited it",
        )
        for name, p in plans.items()
        for rel, why in p.ignored
    ]
    _report(refused + ignored, fmt)
    if refused:
        return PROBLEMS
    if check:
        results = [_check(roots[name], plans[name], _label(roots[name])) for name in plans]
        return PROBLEMS if PROBLEMS in results else OK
    conflicts = [f"{_label(roots[name])}/{c}" for name, p in plans.items() for c in p.conflicts]
    if conflicts and not force:
        raise OutputConflict(
            f"refusing to overwrite files compile did not write: {', '.join(conflicts)}\n"
            "  hint: move them away, or pass --force to let compile own them"
        )
    for name, changes in plans.items():
        _apply(roots[name], changes, len(rendered[name]), fmt)
    return OK


def _io_problem(exc: OSError) -> Diagnostic:
    """An operating-system error while reading or writing output, at the path it names."""
    path = exc.filename if isinstance(exc.filename, str) else "output"
    reason = exc.strerror or type(exc).__name__
    return error(
        Location(_label(Path(path)), 1, 1),
        "E010",
        f"cannot write output: {reason}",
        hint="no file was left half-written: each is its previous or its new version (`compile --check` shows which)",
    )


def output_roots(specs: str, out: str, workflows_dir: str) -> dict[str, Path]:
    """Where each output root goes: ``--out``, and the workflows directory beside the specs."""
    # Lexical, not resolved: a link anywhere on the way is refused later (emit.root_problem), never followed.
    return {"generated": Path(out), "workflows": Path(os.path.abspath(specs)).parent / workflows_dir}


def _label(root: Path) -> str:
    try:
        return Path(os.path.relpath(root)).as_posix()
    except ValueError:
        return root.as_posix()


def _apply(root: Path, changes: object, total: int, fmt: str) -> None:
    from . import emit

    assert isinstance(changes, emit.Changes)
    label = _label(root)
    emit.apply(root, changes)
    edited = [
        warning(None, "W101", f"{label}/{rel} is no longer generated but was edited by hand; left in place")
        for rel in changes.edited
    ]
    _report(edited, fmt)
    print(
        f"sophia-iac: {label}: {len(changes.write)} written, {len(changes.delete)} deleted, "
        f"{total - len(changes.write)} unchanged",
        file=sys.stderr,
    )


def _check(root: Path, changes: object, label: str) -> int:
    from . import emit

    assert isinstance(changes, emit.Changes)
    if changes.clean and not changes.conflicts:
        print(f"sophia-iac: {label} is up to date", file=sys.stderr)
        return OK
    sys.stdout.write(emit.diff(root, changes, label))
    for rel in changes.edited:
        print(f"sophia-iac: {label}/{rel} is no longer generated and was edited by hand", file=sys.stderr)
    print(f"sophia-iac: {label} is stale; run `sophia-iac compile` and commit the result", file=sys.stderr)
    return PROBLEMS


def _analyse_for_env(specs: str, env: str) -> Analysis | None:
    """The valid specs (problems printed otherwise), checking that ``env`` is one of their environments."""
    analysis = _analyse_specs(specs, "text", aside=True)  # the command's output is a plan or a document
    if analysis is None or analysis.model is None:
        return None
    names = [e.name for e in analysis.model.environments]
    if env not in names:
        raise UsageError(f"unknown environment '{env}'; environments: {', '.join(names)}")
    return analysis


def show(specs: str, env: str, fmt: str) -> int:
    from .show import effective_documents, to_json, to_yaml

    analysis = _analyse_for_env(specs, env)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    docs = effective_documents(analysis.documents, env)
    sys.stdout.write(to_json(docs) if fmt == "json" else to_yaml(docs, env))
    return OK


def plan(specs: str, env: str, project: str, against: str | None, fmt: str) -> int:
    import importlib.util

    from . import plan as planner

    if importlib.util.find_spec("pulumi") is None:
        raise UsageError(
            "plan runs the generated programs under Pulumi mocks and needs their SDKs: "
            "pip install -e '.[plan]' (or 'sophia-iac[plan]')"
        )
    analysis = _analyse_for_env(specs, env)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    projects = planner.projects_for(project)
    label = Path(specs).resolve().name
    after = planner.inventory(Path(specs), env, projects, label)
    result, note, changes = None, "", None
    if against is not None:
        from . import effects

        try:
            result = planner.diff(planner.base_inventory(against, Path(specs), env, projects, label), after)
        except planner.BaseUnavailable as exc:
            note = str(exc)
        workflows_dir = analysis.model.project.workflows_dir
        others = {e.name for e in analysis.model.environments} - {env}
        before = planner.base_files(against, Path(specs), label, workflows_dir)
        changes = effects.effects(before, planner.head_files(Path(specs), label, analysis), env, others)
    pools = planner.gpu_pools(analysis.model, env) if "pulumi" in projects else []
    if fmt == "json":
        sys.stdout.write(planner.format_json(after, result, note, pools, changes))
    elif fmt == "markdown":
        sys.stdout.write(planner.format_markdown(after, result, env, note, changes))
    else:
        if note:
            print(f"sophia-iac: not compared with {against}: {note}", file=sys.stderr)
        if result is not None:
            sys.stdout.write(planner.format_diff_text(result, changes))
        else:
            sys.stdout.write(planner.format_text(after, env, projects, pools))
    return OK


def schema(kind: str | None, *, write: bool, check: bool) -> int:
    from . import editor_schema

    if kind:
        sys.stdout.write(json.dumps(editor_schema.one(kind), indent=2) + "\n")
        return OK
    text = editor_schema.combined_text()
    target = editor_schema.combined_path()
    if write:
        from .emit import write_atomic

        write_atomic(target, text)
        print(f"sophia-iac: wrote {target}", file=sys.stderr)
        return OK
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current == text:
            return OK
        print(f"sophia-iac: {target} is stale; run `sophia-iac schema --write`", file=sys.stderr)
        return PROBLEMS
    sys.stdout.write(text)
    return OK


def test_integrations(specs: str, env: str, endpoints: Sequence[str], concurrency: int, output: str) -> int:
    """One authenticated read per integration of ``env``; credentials from the environment ESC opens."""
    import os

    from . import probes

    analysis = _analyse_for_env(specs, env)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, not {concurrency}")
    return probes.run(analysis.model, env, endpoints, concurrency, Path(output), os.environ)


def _esc(model: Any, environ: Mapping[str, str]) -> Any:
    """The ESC client the environment allows (``PULUMI_ACCESS_TOKEN``; ``SOPHIA_IAC_ESC_URL`` replaces the
    service's URL), or None without a token."""
    from .rotation.esc import DEFAULT_URL, Esc

    token = environ.get("PULUMI_ACCESS_TOKEN", "").strip()
    if not token:
        return None
    return Esc(model.project.organization, token, environ.get("SOPHIA_IAC_ESC_URL") or DEFAULT_URL)


def secrets(specs: str, env: str | None, fmt: str) -> int:
    """Every secret with its rotation method and where it stands (its record in ESC, when readable)."""
    from datetime import datetime, timezone

    from . import rotation
    from .rotation import state as records

    analysis = _analyse_for_env(specs, env) if env else _analyse_specs(specs, "text", aside=True)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    model = analysis.model
    esc = _esc(model, os.environ)
    now = datetime.now(timezone.utc)  # noqa: UP017
    items = rotation.planned(model, env)

    def unreadable(home: str, exc: Exception) -> None:
        print(f"sophia-iac: cannot read ESC environment {home}: {exc}", file=sys.stderr)

    definitions = records.definitions(esc, (i.esc_environment for i in items), unreadable)
    rows = []
    by_label = {(i.env.name, i.label): i for i in items}
    for item in items:
        home = item.esc_environment
        # A secret rotated with another (its owner) stands where that one does.
        source = by_label.get((item.env.name, item.owner or ""), item)
        doc = definitions.get(source.esc_environment)
        found = records.record(doc, source.secret.esc) if doc is not None else None
        where = rotation.status(item, found, now)
        rows.append(
            {
                "secret": item.label,
                "environment": item.env.name,
                "esc": f"{home}:{item.secret.esc}",
                "policy": item.policy.name,
                "method": item.method,
                "rotatedWith": item.owner,
                "note": item.why,
                "lastRotated": rotation.iso(where.last_rotated) if where.last_rotated else None,
                "nextDue": rotation.iso(where.next_due) if where.next_due else None,
                "status": where.status,
            }
        )
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return OK
    if esc is None:
        print("sophia-iac: PULUMI_ACCESS_TOKEN is not set: last rotations are unknown", file=sys.stderr)
    head = ("SECRET", "ENVIRONMENT", "POLICY", "METHOD", "LAST ROTATED", "NEXT DUE", "STATUS")
    table: list[tuple[str, ...]] = [head]
    table += [
        (
            str(r["secret"]),
            str(r["environment"]),
            str(r["policy"]),
            str(r["method"]) + ("*" if r["note"] else "") + (f" (with {r['rotatedWith']})" if r["rotatedWith"] else ""),
            str(r["lastRotated"] or "unknown"),
            str(r["nextDue"] or "unknown"),
            str(r["status"]),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        sys.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")
    if any(r["note"] for r in rows):
        sys.stdout.write("* the policy asks for automatic rotation; no rotator handles this secret yet\n")
    return OK


def rotate(
    specs: str,
    env: str,
    *,
    due: bool,
    secret: str | None,
    dry_run: bool,
    endpoints: Sequence[str],
    record: bool = False,
) -> int:
    """Rotate the due (or named) secrets of ``env`` (see compiler/rotation/runner.py)."""
    from .integrations import REGISTRY
    from .probes.jobs import endpoints as endpoint_overrides
    from .rotation.runner import Runner, summary

    analysis = _analyse_for_env(specs, env)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    esc = _esc(analysis.model, os.environ)
    overrides = endpoint_overrides(endpoints, os.environ, REGISTRY)
    runner = Runner(analysis.model, env, esc, os.environ, overrides, github=_github(analysis.model))
    if record and secret is not None:
        if esc is None:
            raise UsageError("recording a rotation needs ESC: set PULUMI_ACCESS_TOKEN")
        outcomes = [] if dry_run else runner.record(secret)
    else:
        outcomes = runner.run(due=due, secret=secret, dry_run=dry_run)
    sys.stdout.write(summary(outcomes))
    return PROBLEMS if any(o.action == "failed" for o in outcomes) else OK


def _github(model: Any) -> Any:
    """The GitHub client ``GITHUB_TOKEN`` allows (``GITHUB_API_URL`` replaces the API's URL), or None."""
    from .rotation.remind import GitHub

    token = os.environ.get("GITHUB_TOKEN", "").strip()
    url = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    return GitHub(model.project.repository, token, url) if token else None


def remind(specs: str, env: str, *, dry_run: bool) -> int:
    """Open, update or close the reminder issue of ``env`` (see compiler/rotation/remind.py)."""
    from datetime import datetime, timezone

    from .rotation.remind import created_drift, remind, summary

    analysis = _analyse_for_env(specs, env)
    if analysis is None or analysis.model is None:
        return PROBLEMS
    model = analysis.model
    github = _github(model)
    if github is None:
        raise UsageError("remind needs GITHUB_TOKEN (issues: write) to open or update the reminder issue")
    now = datetime.now(timezone.utc)  # noqa: UP017
    esc = _esc(model, os.environ)
    result = remind(model, env, esc, github, os.environ, now, dry_run=dry_run)
    sys.stdout.write(summary(result, env))
    # The environments the bootstrap created once: the reader checks nobody changed them behind the specs.
    drifted = created_drift(model, env, esc) if esc is not None else []
    for problem in drifted:
        print(f"sophia-iac: {problem}", file=sys.stderr)
    if drifted:
        print(
            "sophia-iac: the rotated environment holds only the values the rotation workflow rotates; a rotator's "
            "inputs are changed with `esc env edit`, keeping its state",
            file=sys.stderr,
        )
    return PROBLEMS if drifted else OK
