"""The repository is input too: whatever a pull request puts in the manifest or the output directories,
compile and --check touch nothing outside their output roots and nothing under specs/; an I/O fault is a
located diagnostic that leaves the previous output intact."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CASES, Result

MANIFEST = "generated/.sophia-iac-manifest.json"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (links not followed), with its bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


@pytest.fixture
def compiled(project: Callable[[Path], Path], cli: Callable[..., Result]) -> Iterator[Path]:
    root = project(CASES / "valid" / "minimal")
    assert cli("compile").code == 0
    yield root


def add_to_manifest(root: Path, entries: dict[str, Path]) -> None:
    """Claim files in the manifest, each with the digest of the file it names (so compile would delete it)."""
    manifest = root / MANIFEST
    data = json.loads(manifest.read_text())
    for entry, target in entries.items():
        data["files"][entry] = hashlib.sha256(target.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data))


def test_manifest_entries_that_escape_are_reported_never_deleted(compiled: Path, cli: Callable[..., Result]) -> None:
    root = compiled
    victim = root.parent / f"{root.name}-victim.txt"
    victim.write_text("not ours\n")
    (root / "generated" / "link.txt").symlink_to(victim)
    entries = {
        f"../../{root.parent.name}/{victim.name}": victim,
        "../specs/project.yaml": root / "specs" / "project.yaml",
        str(victim): victim,  # absolute
        "esc/../../specs/environments.yaml": root / "specs" / "environments.yaml",
        "./esc/development.yaml": root / "generated" / "esc" / "development.yaml",
        "link.txt": victim,  # a link inside the root to a file outside
    }
    add_to_manifest(root, entries)
    specs = snapshot(root / "specs")
    for args in (["compile", "--check"], ["compile"]):
        result = cli(*args)
        warnings = [line for line in result.out.splitlines() if "warning[W102]" in line]
        assert len(warnings) == len(entries), result.out
        assert all(line.startswith(f"{MANIFEST}:1:1: warning[W102]: manifest entry ") for line in warnings)
    assert victim.read_text() == "not ours\n" and (root / "generated" / "link.txt").is_symlink()
    assert snapshot(root / "specs") == specs
    # The rewritten manifest no longer claims them.
    assert not set(entries) & set(json.loads((root / MANIFEST).read_text())["files"])


@pytest.mark.parametrize(
    "link, expected",
    [
        ("generated/esc", "refusing to write esc/development.yaml: generated/esc is a symbolic link"),
        ("generated/pulumi/program", "generated/pulumi/program is a symbolic link"),
        ("generated", "refusing to write output: "),
        (".github", "refusing to write output: "),
    ],
)
def test_no_write_follows_a_link_out_of_its_root(
    compiled: Path, cli: Callable[..., Result], link: str, expected: str
) -> None:
    root = compiled
    elsewhere = Path(tempfile.mkdtemp(prefix="sophia-iac-elsewhere-"))
    moved = elsewhere / "real"
    (root / link).rename(moved)
    (root / link).symlink_to(moved)
    # Make compile want to write: a changed spec changes every generated file's content.
    spec = root / "specs" / "gong.yaml"
    spec.write_text(spec.read_text().replace("description: Gong call analysis.", "description: Gong, changed."))
    before = snapshot(elsewhere)
    for args in (["compile"], ["compile", "--check"]):
        result = cli(*args)
        assert result.code == 1, result.out + result.err
        assert "error[E011]" in result.out and expected in result.out
        assert "Traceback" not in result.out + result.err
    assert snapshot(elsewhere) == before


@pytest.mark.parametrize("blocker", ["generated", "generated/esc", ".github/workflows"])
def test_a_file_in_the_way_of_an_output_directory(compiled: Path, cli: Callable[..., Result], blocker: str) -> None:
    root = compiled
    target = root / blocker
    backup = root / f"{blocker.replace('/', '_')}.bak"
    target.rename(backup)
    target.write_text("a file, not a directory\n")
    before = snapshot(root)
    result = cli("compile")
    assert result.code == 1 and "error[E011]" in result.out, result.out + result.err
    assert "is a file" in result.out
    assert snapshot(root) == before


@pytest.mark.parametrize("out", ["specs/generated", ".", "specs"])
def test_output_never_overlaps_the_specs(compiled: Path, cli: Callable[..., Result], out: str) -> None:
    before = snapshot(compiled / "specs")
    result = cli("compile", "--out", out)
    assert result.code == 1 and "overlaps the specs directory" in result.out
    assert snapshot(compiled / "specs") == before


def test_an_output_path_too_long_is_a_located_diagnostic(compiled: Path, cli: Callable[..., Result]) -> None:
    out = "gen/" + "x" * 300
    result = cli("compile", "--out", out)
    assert result.code == 1
    assert result.out.startswith(f"{out}:1:1: error[E010]: cannot write output: File name too long")
    assert not (compiled / "gen").exists() or not any((compiled / "gen").iterdir())


@pytest.mark.parametrize(
    "fault", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EIO], ids=["no-space", "denied", "read-only", "io"]
)
def test_a_write_fault_leaves_the_previous_output_intact(
    compiled: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, fault: int
) -> None:
    root = compiled
    # Five stale files, so compile has several to write when the fault hits.
    for path in sorted((root / "generated").rglob("*.py"))[:5]:
        path.write_text(path.read_text() + "# stale\n")
    before = snapshot(root / "generated")
    real = os.open
    calls = []

    def failing(path: str, flags: int, *args: int, **kwargs: object) -> int:
        if str(path).endswith(".tmp"):  # compile staging a file beside its target
            calls.append(path)
            if len(calls) == 3:  # some files are already staged when the fault hits
                raise OSError(fault, os.strerror(fault), str(path))
        return real(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", failing)
    result = cli("compile")
    assert result.code == 1, result.out + result.err
    assert f"error[E010]: cannot write output: {os.strerror(fault)}" in result.out
    assert "no file was left half-written" in result.out
    assert snapshot(root / "generated") == before
    assert not list((root / "generated").rglob("*.tmp"))  # staged files are cleaned up


def test_a_planted_temporary_name_is_never_followed(tmp_path: Path) -> None:
    """Whatever sits at the names compile stages under (a link out, a stale file), it is skipped, not opened."""
    from compiler import emit

    out = tmp_path / "generated"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not yours\n")
    (out / f".a.py.{os.getpid()}.0.tmp").symlink_to(elsewhere)
    (out / f".a.py.{os.getpid()}.1.tmp").write_text("stale\n")
    emit.write_atomic(out / "a.py", "print('new')\n")
    assert (out / "a.py").read_text() == "print('new')\n"
    assert (out / "a.py").stat().st_mode & 0o777 == 0o644
    assert elsewhere.read_text() == "not yours\n"
    assert (out / f".a.py.{os.getpid()}.1.tmp").read_text() == "stale\n"
