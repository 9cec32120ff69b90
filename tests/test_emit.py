"""Unit tests of the emit stage, table-driven: what is on disk and in the manifest, what compile
renders, and the changes it decides (write, delete, keep as edited, conflict, refuse, ignore)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import emit

RENDERED = {"a.py": "new\n", "sub/b.py": "b\n"}

# (name, files on disk, manifest entries (path -> the text it recorded), expected changes)
CASES = [
    ("an empty directory", {}, None, {"write": ["a.py", "sub/b.py"]}),
    ("everything current", {"a.py": "new\n", "sub/b.py": "b\n"}, RENDERED, {}),
    (
        "an owned file changed",
        {"a.py": "old\n", "sub/b.py": "b\n"},
        {"a.py": "old\n", "sub/b.py": "b\n"},
        {"write": ["a.py"]},
    ),
    (
        "a file compile did not write",
        {"a.py": "mine\n", "sub/b.py": "b\n"},
        {"sub/b.py": "b\n"},
        {"write": ["a.py"], "conflicts": ["a.py"]},
    ),
    (
        "an owned file no longer produced",
        {**RENDERED, "gone.py": "x\n"},
        {**RENDERED, "gone.py": "x\n"},
        {"delete": ["gone.py"]},
    ),
    (
        "an owned file no longer produced, edited by hand",
        {**RENDERED, "gone.py": "x, edited\n"},
        {**RENDERED, "gone.py": "x\n"},
        {"edited": ["gone.py"]},
    ),
    (
        "a manifest entry leaving the root",
        RENDERED,
        {**RENDERED, "../outside.py": "x\n"},
        {"ignored": ["../outside.py"]},
    ),
    ("an absolute manifest entry", RENDERED, {**RENDERED, "/etc/passwd": "x\n"}, {"ignored": ["/etc/passwd"]}),
]


def lay_out(out: Path, files: dict[str, str], manifest: dict[str, str] | None) -> None:
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    if manifest is not None:
        (out / emit.MANIFEST).write_text(emit.manifest_text(manifest))


@pytest.mark.parametrize("files, manifest, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_changes(
    tmp_path: Path, files: dict[str, str], manifest: dict[str, str] | None, expected: dict[str, list[str]]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lay_out(out, files, manifest)
    changes = emit.changes(out, RENDERED)
    got = {
        "write": sorted(changes.write),
        "delete": changes.delete,
        "edited": changes.edited,
        "conflicts": changes.conflicts,
        "ignored": [rel for rel, _ in changes.ignored],
        "refused": [rel for rel, _ in changes.refused],
    }
    assert {k: v for k, v in got.items() if v} == expected
    assert changes.manifest_stale == (manifest != RENDERED)


def test_a_link_on_the_way_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "sub").symlink_to(tmp_path / "elsewhere")
    changes = emit.changes(out, RENDERED)
    assert [rel for rel, _ in changes.refused] == ["sub/b.py"]
    assert not changes.write


def test_apply_writes_every_change_and_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lay_out(out, {"gone.py": "x\n"}, {"gone.py": "x\n"})
    emit.apply(out, emit.changes(out, RENDERED))
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == {"a.py", "sub/b.py", emit.MANIFEST}
    assert emit.read_manifest(out) == {rel: emit.digest(text) for rel, text in RENDERED.items()}
    assert emit.changes(out, RENDERED).clean
