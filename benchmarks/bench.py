#!/usr/bin/env python3
"""Wall-clock benchmark of the sophia-iac CLI, as a user and pre-commit see it.

Run from the project root:

    .venv/bin/python benchmarks/bench.py           # full run (10, 100, 1,000 integrations)
    .venv/bin/python benchmarks/bench.py --quick   # smoke run (10, 100; fewer repeats)

Every figure is the wall time of a fresh subprocess (interpreter start-up
included), median of several runs after one untimed warm-up run. Nothing is
asserted: the script prints figures, ratios and whether the project's targets
are met, and exits 0 unless a benchmark could not be set up (a synthetic tree
that does not validate, a command that fails).

Sections:
  1. Synthetic spec trees of N integrations x 3 environments, in memory (tmpfs
     at /dev/shm when there is one): `validate`, `compile` into an empty and
     into a current output directory, and a bare PyYAML C-loader parse of the
     same files.
  1b. The 1,000-integration compile again, on the disk.
  2. The bundled specs/: `sophia-iac validate` vs `check-jsonschema` with the
     combined editor schema.
  3. Targets.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SCHEMA = ROOT / "schema" / "sophia-iac.schema.json"
# Not resolved: the venv's python is a symlink, and its bin dir is what we want.
BIN = Path(sys.executable).parent

COPIED = ("project.yaml", "environments.yaml", "rotation-policies.yaml")
GPU_POOLS = "gpu-pools.yaml"
GPU_POOL_INTEGRATION = "lambda-labs"
# The bundled integrations the generated pipeline stands on (one each, see compiler/contracts.py).
PIPELINE = ("aws", "github", "pulumi-esc")

# Section 1 runs in memory (tmpfs at /dev/shm when there is one) so that it measures the compiler;
# section 1b repeats the largest compile on the disk. There, creating a thousand files within
# minutes of deleting as many makes ext4's inode allocator step over the just-freed inodes
# (`recently_deleted`, seen with `perf record`): filesystem time that `cp -r` or `git checkout` would
# pay too, and that varies with what else deleted files lately.
MEMORY = Path("/dev/shm")
DISK_NOTE = (
    "  On ext4, creating ~1,000 files within minutes of deleting as many makes the inode allocator step\n"
    "  over the just-freed inodes (kernel `recently_deleted`): filesystem time, not compiler time, and it\n"
    "  varies with whatever deleted files lately. Between empty-directory runs the old output is renamed\n"
    "  aside; the rm -rf row shows the other case."
)
COMPILE_TARGET_S = 1.0  # issue 8: 1,000 integrations x 3 environments in under 1 s
CHECK_JSONSCHEMA_TARGET = 0.5

# Parses every spec file under argv[1] with PyYAML's C loader, nothing more.
PARSE_ONLY = (
    "import sys, pathlib, yaml\n"
    "files = (p for p in pathlib.Path(sys.argv[1]).rglob('*') if p.suffix in ('.yaml', '.yml') and p.is_file())\n"
    "for f in sorted(files):\n"
    "    with open(f, 'rb') as fh:\n"
    "        list(yaml.load_all(fh, Loader=yaml.CSafeLoader))\n"
)


class BenchError(Exception):
    """The benchmark cannot go on (bad setup, a command failed)."""


# --------------------------------------------------------------------------- tools


def _tool(script: str, module: str) -> list[str]:
    exe = BIN / script
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    return [sys.executable, "-m", module]


SOPHIA = _tool("sophia-iac", "compiler")
CHECK_JSONSCHEMA = _tool("check-jsonschema", "check_jsonschema")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)  # plain text diagnostics
    env.pop("SOPHIA_IAC_DEBUG", None)
    return env


ENV = _env()


def run(cmd: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=cwd, env=ENV, capture_output=True, text=True, check=False)


def time_runs(
    cmd: Sequence[str],
    repeats: int,
    *,
    cwd: Path | None = None,
    expect: int = 0,
    before: Callable[[], None] | None = None,
    warmup: int = 1,
) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    """Wall times of ``repeats`` runs of ``cmd`` (after ``warmup`` untimed ones); ``before`` runs untimed first."""
    times: list[float] = []
    last: subprocess.CompletedProcess[str] | None = None
    for i in range(warmup + repeats):
        if before:
            before()
        t0 = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        if proc.returncode != expect:
            raise BenchError(
                f"`{' '.join(cmd)}` exited {proc.returncode} (expected {expect})\n"
                f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
            )
        if i >= warmup:
            times.append(elapsed)
        last = proc
    assert last is not None
    return times, last


def med(times: Sequence[float]) -> float:
    return statistics.median(times)


def _spread(times: Sequence[float]) -> str:
    return f"{ms(min(times))} .. {ms(max(times))}"


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "load average n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join("  " + s for s in out)


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


# ------------------------------------------------------------------ synthetic trees


_META_NAME = re.compile(r"(?m)^(metadata:[ \t]*\n(?:[ \t]+#.*\n)*[ \t]+name:[ \t]*)([a-z][a-z0-9-]*)[ \t]*$")
_ESC_PATH = re.compile(r"(\besc:[ \t]*[\"']?)([A-Za-z_][A-Za-z0-9_]*)(?=[.\"'\s,}])")
_ENV_VAR = re.compile(r"(\benvVar:[ \t]*[\"']?)([A-Z][A-Z0-9_]*)")


def templates() -> list[tuple[str, str]]:
    """(metadata.name, text) of each bundled integration, sorted by file name."""
    out = []
    for f in sorted((SPECS / "integrations").glob("*.yaml")):
        text = f.read_text(encoding="utf-8")
        docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d]
        if len(docs) != 1 or docs[0].get("kind") != "Integration":
            raise BenchError(f"{f}: expected exactly one Integration document")
        out.append((docs[0]["metadata"]["name"], text))
    if not out:
        raise BenchError(f"no integration templates in {SPECS / 'integrations'}")
    return out


def variant(name: str, text: str, k: int) -> tuple[str, str]:
    """Copy ``k`` of a template: copy 0 unchanged (so references to it resolve); else renamed,
    with its secrets' ESC paths and explicit envVars made unique."""
    if k == 0:
        return name, text
    new = f"{name}-{k}"
    text, n = _META_NAME.subn(lambda m: m[1] + new, text, count=1)
    if n != 1:
        raise BenchError(f"template {name}: cannot find metadata.name to rename")
    text = _ESC_PATH.sub(lambda m: f"{m[1]}{m[2]}_{k}", text)
    text = _ENV_VAR.sub(lambda m: f"{m[1]}{m[2]}_{k}", text)
    return new, text


def build_tree(root: Path, n: int, tmpl: list[tuple[str, str]]) -> dict[str, int]:
    """``root/specs`` with the bundled project, environments and rotation policies and ``n`` integrations."""
    specs = root / "specs"
    (specs / "integrations").mkdir(parents=True)
    for name in COPIED:
        shutil.copy2(SPECS / name, specs / name)
    names = []
    # The pipeline's integrations exist once (compile refuses a second); the others are copied.
    once = [t for t in tmpl if t[0] in PIPELINE]
    copied = [t for t in tmpl if t[0] not in PIPELINE]
    for i in range(n):
        if i < len(once):
            name, text = once[i]
        else:
            j = i - len(once)
            tname, ttext = copied[j % len(copied)]
            name, text = variant(tname, ttext, j // len(copied))
        (specs / "integrations" / f"{name}.yaml").write_text(text, encoding="utf-8")
        names.append(name)
    for path in (specs / "integrations").glob("*.yaml"):  # a dependency the tree left out is dropped
        text = path.read_text(encoding="utf-8")
        kept = re.sub(
            r"^  dependsOn: \[([^\]]*)\]\n",
            lambda m: m.group(0) if all(d.strip() in names for d in m.group(1).split(",")) else "",
            text,
            flags=re.M,
        )
        if kept != text:
            path.write_text(kept, encoding="utf-8")
    gpu = GPU_POOL_INTEGRATION in names and (SPECS / GPU_POOLS).is_file()
    if gpu:
        shutil.copy2(SPECS / GPU_POOLS, specs / GPU_POOLS)
    _check_tree(specs, names)
    files = sum(1 for _ in specs.rglob("*.yaml"))
    size = sum(f.stat().st_size for f in specs.rglob("*.yaml"))
    return {"files": files, "bytes": size, "gpu_pools": int(gpu)}


def _check_tree(specs: Path, expected: list[str]) -> None:
    """The renaming did what it should: names as expected, environment variables unique (ESC paths
    may be shared: the bundled Airbyte reads the HubSpot, Gong and Snowflake credentials)."""
    names, env = [], {}
    for f in sorted((specs / "integrations").glob("*.yaml")):
        with open(f, "rb") as fh:
            for doc in yaml.load_all(fh, Loader=yaml.CSafeLoader):
                name = doc["metadata"]["name"]
                names.append(name)
                for secret, ref in (doc["spec"].get("secrets") or {}).items():
                    key = ref.get("envVar")
                    if key is None:
                        continue
                    if key in env:
                        raise BenchError(f"synthetic tree: {key!r} used by {env[key]} and {name}/{secret}")
                    env[key] = f"{name}/{secret}"
    if sorted(names) != sorted(expected):
        raise BenchError("synthetic tree: integration names are not the ones generated")


# ------------------------------------------------------------------------ sections


def interpreter_floor(repeats: int) -> float:
    times, _ = time_runs([sys.executable, "-c", "pass"], repeats)
    return med(times)


def section_scaling(
    sizes: Sequence[int], repeats: dict[int, int], floor: float, work: Path
) -> dict[int, dict[str, float]]:
    heading("1. Synthetic spec trees: N integrations x 3 environments")
    tmpl = templates()
    print(f"  templates: {len(tmpl)} bundled integrations ({', '.join(n for n, _ in tmpl)})")
    print("  copy 0 of each keeps its name; copy k>=1 is '<name>-k', ESC paths '<head>_k.<rest>'")
    print(f"  sophia-iac: {' '.join(SOPHIA)}")
    print(f"  interpreter start-up floor (python -c pass): {ms(floor)}")
    results: dict[int, dict[str, float]] = {}
    rows = []
    for n in sizes:
        root = work / f"tree-{n}"
        info = build_tree(root, n, tmpl)
        specs, out = root / "specs", root / "generated"
        # The tree must validate before it is worth timing.
        proc = run([*SOPHIA, "validate", "specs"], cwd=root)
        if proc.returncode != 0:
            raise BenchError(
                f"synthetic tree of {n} integrations does not validate (exit {proc.returncode}):\n"
                f"{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
            )
        reps = repeats[n]
        print(
            f"  N={n:>5,}: {info['files']} files, {info['bytes'] / 1024:,.0f} KiB"
            f"{' (incl. gpu-pools.yaml)' if info['gpu_pools'] else ''}; validates cleanly; {reps} timed runs each ...",
            flush=True,
        )
        validate, _ = time_runs([*SOPHIA, "validate", "specs"], reps, cwd=root)

        def fresh(out: Path = out) -> None:
            shutil.rmtree(out, ignore_errors=True)

        command = [*SOPHIA, "compile", "--specs", "specs", "--out", "generated"]
        compile_, last = time_runs(command, reps, cwd=root, before=fresh)
        written = sum(1 for p in out.rglob("*") if p.is_file())
        m = re.search(r"(\d+) written", last.stderr)
        if not m or int(m.group(1)) == 0:
            raise BenchError(f"compile of N={n} wrote nothing?\n{last.stderr}")
        current, last = time_runs(command, reps, cwd=root)
        if " 0 written" not in last.stderr:
            raise BenchError(f"a second compile of N={n} wrote files?\n{last.stderr}")
        parse, _ = time_runs([sys.executable, "-c", PARSE_ONLY, str(specs)], reps)
        print(
            f"           validate {_spread(validate)}; compile {_spread(compile_)}; compile, output current "
            f"{_spread(current)}; parse {_spread(parse)}",
            flush=True,
        )
        r = {
            "validate": med(validate),
            "compile": med(compile_),
            "current": med(current),
            "parse": med(parse),
            "written": written,
            "files": info["files"],
        }
        results[n] = r
        rows.append(
            [
                f"{n:,}",
                str(info["files"]),
                str(written),
                ms(r["validate"]),
                ms(r["compile"]),
                ms(r["current"]),
                ms(r["parse"]),
                f"{r['validate'] / r['parse']:.1f}x",
                f"{r['compile'] / r['parse']:.1f}x",
                f"{r['validate'] / n * 1000:.2f}",
                f"{r['compile'] / n * 1000:.2f}",
                f"{r['parse'] / n * 1000:.2f}",
            ]
        )
    print()
    print("  Medians (wall time of a fresh process, start-up included). compile: into an empty output")
    print("  directory; no change: again, with the output already current (what pre-commit and CI see).")
    print(
        table(
            [
                "N",
                "spec files",
                "out files",
                "validate",
                "compile",
                "no change",
                "parse(C)",
                "val/parse",
                "comp/parse",
                "val ms/int",
                "comp ms/int",
                "parse ms/int",
            ],
            rows,
        )
    )

    # Marginal cost between consecutive sizes: constant means linear growth.
    if len(sizes) > 1:
        print()
        print("  Growth (marginal cost per added integration between sizes; constant = linear):")
        grows = []
        for a, b in itertools.pairwise(sizes):
            ra, rb = results[a], results[b]
            cells = [f"{a:,} -> {b:,}", f"{b / a:.0f}x"]
            for key in ("validate", "compile", "parse"):
                cells.append(f"{rb[key] / ra[key]:.2f}x")
            for key in ("validate", "compile", "parse"):
                cells.append(f"{(rb[key] - ra[key]) / (b - a) * 1000:.2f}")
            grows.append(cells)
        print(
            table(
                [
                    "sizes",
                    "size x",
                    "validate x",
                    "compile x",
                    "parse x",
                    "val ms/+int",
                    "comp ms/+int",
                    "parse ms/+int",
                ],
                grows,
            )
        )
        print("  (time ratios stay below the size ratio while the fixed start-up cost dominates;")
        print("   the ms per added integration is the figure to compare across rows)")
        print()
        print("  Above the interpreter floor (median - python -c pass):")
        above = []
        for n in sizes:
            r = results[n]
            above.append(
                [f"{n:,}"]
                + [
                    f"{ms(r[k] - floor)}  ({(r[k] - floor) / n * 1000:.2f}/int)"
                    for k in ("validate", "compile", "parse")
                ]
            )
        print(table(["N", "validate", "compile", "parse(C)"], above))
    return results


def _split_documents(src: Path, dest: Path) -> list[Path]:
    """check-jsonschema reads one document per file: write each document of ``src`` to its own file,
    its text byte for byte; files holding one document are copied as they are."""
    text = src.read_text(encoding="utf-8")
    chunks = re.split(r"(?m)^---[ \t]*(?:#.*)?\n", text)
    chunks = [c for c in chunks if any(ln.strip() and not ln.lstrip().startswith("#") for ln in c.splitlines())]
    originals = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    pieces = [yaml.load(c, Loader=yaml.CSafeLoader) for c in chunks]
    if pieces != originals:
        raise BenchError(f"{src}: splitting into documents changed their content")
    out = []
    for i, chunk in enumerate(chunks):
        suffix = f".doc{i}" if len(chunks) > 1 else ""
        target = dest / f"{src.stem}{suffix}{src.suffix}"
        target.write_text(chunk if len(chunks) > 1 else text, encoding="utf-8")
        out.append(target)
    return out


def section_disk(n: int, repeats: int, disk: Path) -> dict[str, float]:
    heading(f"1b. The same {n:,}-integration compile on this machine's disk")
    root = disk / f"tree-{n}"
    build_tree(root, n, templates())
    out, discard = root / "generated", root / "discarded"
    discard.mkdir()
    print(f"  tree under {disk} ({_filesystem(disk)})")
    print(DISK_NOTE)

    def aside(out: Path = out) -> None:
        if out.exists():
            out.rename(discard / f"generated-{len(list(discard.iterdir()))}")

    def removed(out: Path = out) -> None:
        shutil.rmtree(out, ignore_errors=True)

    command = [*SOPHIA, "compile", "--specs", "specs", "--out", "generated"]
    empty, _ = time_runs(command, repeats, cwd=root, before=aside)
    current, _ = time_runs(command, repeats, cwd=root)
    after_rm, _ = time_runs(command, repeats, cwd=root, before=removed, warmup=0)
    rows = [
        ["into an empty directory (previous output renamed aside)", ms(med(empty)), _spread(empty)],
        ["output already current", ms(med(current)), _spread(current)],
        ["right after rm -rf of the previous output", ms(med(after_rm)), _spread(after_rm)],
    ]
    print(table(["compile", "median", "range"], rows))
    return {"compile": med(empty), "current": med(current), "after_rm": med(after_rm)}


def _filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (from /proc/mounts), or 'unknown'."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    best = max(
        (m for m in mounts if str(path).startswith(m[1].rstrip("/") + "/")), key=lambda m: len(m[1]), default=None
    )
    return best[2] if best else "unknown"


def section_check_jsonschema(repeats: int, floor: float, work: Path) -> dict[str, float]:
    heading("2. Bundled specs/: sophia-iac validate vs check-jsonschema")
    originals = sorted(p for p in SPECS.rglob("*.yaml") if p.is_file())
    rel = [p.relative_to(ROOT).as_posix() for p in originals]
    print(f"  specs: {len(originals)} files under specs/; schema: {SCHEMA.relative_to(ROOT)}")
    print(f"  check-jsonschema: {' '.join(CHECK_JSONSCHEMA)}")

    # As-is, on the original files.
    as_is = run([*CHECK_JSONSCHEMA, "--schemafile", str(SCHEMA), *rel], cwd=ROOT)
    multi = [
        p
        for p in originals
        if len([d for d in yaml.load_all(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) if d is not None]) > 1
    ]
    print(f"  on the original files: exit {as_is.returncode}", end="")
    if as_is.returncode != 0 and multi:
        print(
            f" - check-jsonschema reads one YAML document per file and cannot parse the multi-document files "
            f"({', '.join(p.name for p in multi)}: 'expected a single document in the stream')."
        )
    else:
        print()

    # The same documents, one per file.
    split_dir = work / "split"
    split_dir.mkdir()
    (split_dir / "integrations").mkdir()
    split: list[Path] = []
    for p in originals:
        dest = split_dir / p.parent.relative_to(SPECS)
        split += _split_documents(p, dest)
    split_rel = [p.relative_to(work).as_posix() for p in split]
    docs = len(split)
    print(f"  so it is given the same {docs} documents split one per file (byte-identical text) in a temp dir")

    # A deliberately broken copy: a value only the $ref'd integration-type schema forbids, and one the
    # $ref'd kind schema forbids. Exit 1 on both proves the relative $refs resolve and are enforced.
    broken_dir = work / "broken"
    broken_dir.mkdir()
    breaks = {
        "type schema (integrations/snowflake.json)": ("integrations/snowflake.yaml", "size: XSMALL", "size: HUGE"),
        "kind schema (rotationpolicy.json)": ("rotation-policies.yaml", "interval: 90d", "interval: ninety"),
    }
    broken_files = {}
    for what, (name, old, new) in breaks.items():
        text = (SPECS / name).read_text(encoding="utf-8")
        if old not in text:
            raise BenchError(f"cannot break specs/{name}: {old!r} not found")
        target = broken_dir / (Path(name).stem + ".broken.yaml")
        first = re.split(r"(?m)^---[ \t]*\n", text.replace(old, new, 1))[0]  # one document
        target.write_text(first, encoding="utf-8")
        broken_files[what] = target

    candidates = [
        ("--schemafile <path>", ["--schemafile", str(SCHEMA)]),
        (
            "--schemafile <path> --base-uri file://<dir>/",
            ["--schemafile", str(SCHEMA), "--base-uri", SCHEMA.parent.as_uri() + "/"],
        ),
    ]
    chosen = None
    for label, args in candidates:
        ok = run([*CHECK_JSONSCHEMA, *args, *split_rel], cwd=work)
        caught = {
            w: run([*CHECK_JSONSCHEMA, *args, f.relative_to(work).as_posix()], cwd=work)
            for w, f in broken_files.items()
        }
        verdicts = ", ".join(f"{w}: exit {p.returncode}" for w, p in caught.items())
        print(f"  invocation {label}: valid specs exit {ok.returncode}; broken copies -> {verdicts}")
        if ok.returncode == 0 and all(p.returncode == 1 for p in caught.values()):
            chosen = (label, args)
            for w, p in caught.items():
                msg = next((ln.strip() for ln in p.stdout.splitlines() if "::" in ln), p.stdout.strip()[:200])
                print(f"    {w}: {msg}")
            break
        if ok.returncode != 0:
            print("    " + (ok.stdout + ok.stderr).strip().replace("\n", "\n    ")[:1500])
    if chosen is None:
        raise BenchError("no check-jsonschema invocation both passes the specs and rejects the broken copies")
    print(f"  relative $refs resolve with: {chosen[0]}")
    # sophia-iac on the same broken values, for symmetry (its whole tree must still fail).
    sym = work / "broken-tree"
    shutil.copytree(SPECS, sym / "specs")
    for name, old, new in breaks.values():
        f = sym / "specs" / name
        f.write_text(f.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    sv = run([*SOPHIA, "validate", "specs"], cwd=sym)
    codes = sorted(set(re.findall(r"\b[EW]\d{3}\b", sv.stdout)))
    print(f"  sophia-iac validate on the same broken values: exit {sv.returncode} ({', '.join(codes) or 'no codes'})")

    print(f"  timing, {repeats} runs each ...", flush=True)
    validate, _ = time_runs([*SOPHIA, "validate", "specs"], repeats, cwd=ROOT)
    cj, _ = time_runs([*CHECK_JSONSCHEMA, *chosen[1], *split_rel], repeats, cwd=work)
    v, c = med(validate), med(cj)
    print()
    rows = [
        ["python -c pass (floor)", ms(floor), "", ""],
        ["sophia-iac validate specs", ms(v), ms(v - floor), f"{ms(min(validate))} .. {ms(max(validate))}"],
        [f"check-jsonschema ({docs} docs)", ms(c), ms(c - floor), f"{ms(min(cj))} .. {ms(max(cj))}"],
    ]
    print(table(["command", "median", "above floor", "range"], rows))
    print()
    print(f"  validate / check-jsonschema = {v / c:.2f}  (target <= {CHECK_JSONSCHEMA_TARGET})")
    print(f"  above the floor: {(v - floor) / (c - floor):.2f}")
    print("  (check-jsonschema checks each document's shape only; validate also checks every environment's")
    print("   effective spec, cross-document references, generated-name collisions and plaintext secrets)")
    return {"validate": v, "check_jsonschema": c, "floor": floor}


def section_targets(scaling: dict[int, dict[str, float]], cj: dict[str, float], disk: dict[str, float] | None) -> None:
    heading("3. Targets")
    if 1000 in scaling:
        for key, what in (("compile", "into an empty directory"), ("current", "with the output current")):
            t = scaling[1000][key]
            verdict = "target met" if t < COMPILE_TARGET_S else "target missed"
            print(f"  compile of 1,000 integrations in < {COMPILE_TARGET_S:g} s, {what}: {t:.2f} s -> {verdict}")
    else:
        print(f"  compile of 1,000 integrations in < {COMPILE_TARGET_S:g} s: not measured (--quick)")
    if disk:
        print(
            f"    on the disk (1b): {disk['compile']:.2f} s into an empty directory, {disk['current']:.2f} s "
            f"with the output current, {disk['after_rm']:.2f} s right after rm -rf"
        )
    ratio = cj["validate"] / cj["check_jsonschema"]
    verdict = "target met" if ratio <= CHECK_JSONSCHEMA_TARGET else "target missed"
    print(f"  validate / check-jsonschema <= {CHECK_JSONSCHEMA_TARGET}: {ratio:.2f} -> {verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100 only, fewer repeats")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, repeats, cj_repeats, floor_repeats = (10, 100), {10: 3, 100: 3}, 3, 5
    else:
        sizes, repeats, cj_repeats, floor_repeats = (10, 100, 1000), {10: 5, 100: 5, 1000: 5}, 7, 9

    print(f"sophia-iac benchmark{' (--quick)' if args.quick else ''}")
    print(
        f"  python {sys.version.split()[0]} at {sys.executable}; PyYAML {yaml.__version__}, "
        f"C loader {'yes' if getattr(yaml, '__with_libyaml__', False) else 'NO'}; {os.cpu_count()} CPUs"
    )
    print("  every figure: wall time of a fresh subprocess, median of the timed runs after 1 warm-up")
    # pip byte-compiles what it installs (check-jsonschema included); an editable install
    # under PYTHONDONTWRITEBYTECODE never is, so compile ours too for a like-for-like start-up.
    compileall.compile_dir(str(ROOT / "compiler"), quiet=1)
    print("  both tools start from byte-compiled sources, as a normal pip install leaves them")
    print(f"  at start: {_load()} (other processes on this machine add noise; compare with the end)")
    try:
        with tempfile.TemporaryDirectory(prefix="sophia-iac-bench-") as tmp:
            work = Path(tmp)
            floor = interpreter_floor(floor_repeats)
            memory = MEMORY if MEMORY.is_dir() and os.access(MEMORY, os.W_OK) else None
            with tempfile.TemporaryDirectory(prefix="sophia-iac-bench-", dir=memory) as trees:
                print(f"  synthetic trees under {trees} ({_filesystem(Path(trees))})")
                scaling = section_scaling(sizes, repeats, floor, Path(trees))
            disk = section_disk(1000, repeats[1000], work) if 1000 in sizes else None
            cj_work = work / "cj"
            cj_work.mkdir()
            cj = section_check_jsonschema(cj_repeats, floor, cj_work)
            section_targets(scaling, cj, disk)
            print(f"\n  at end: {_load()}")
    except BenchError as exc:
        print(f"\nbench: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
