"""Writing output: atomic writes, a manifest of owned files, and ``--check``.

Everything is rendered in memory, then every changed file is staged beside
its target before any is renamed into place, so a failed compile leaves the
previous output intact; the manifest is written last. Files the compiler did not write are never
overwritten or deleted; owned files it no longer produces are deleted unless
someone edited them by hand.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".sophia-iac-manifest.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    """What a compile would change under one output directory."""

    write: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    manifest: str = ""
    manifest_stale: bool = False

    @property
    def clean(self) -> bool:
        return not (self.write or self.delete or self.edited or self.manifest_stale)


def read_manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def manifest_text(files: Mapping[str, str]) -> str:
    body = {"generator": "sophia-iac", "files": {p: digest(t) for p, t in sorted(files.items())}}
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def plan(out: Path, files: Mapping[str, str]) -> Plan:
    owned = read_manifest(out)
    manifest = manifest_text(files)
    result = Plan(manifest=manifest, manifest_stale=_read(out / MANIFEST) != manifest)
    for rel, text in files.items():
        current = _read(out / rel)
        if current == text:
            continue
        if (out / rel).exists() and rel not in owned:
            result.conflicts.append(rel)
        result.write[rel] = text
    for rel, recorded in sorted(owned.items()):
        if rel in files or not (out / rel).exists():
            continue
        current = _read(out / rel)
        (result.delete if current is not None and digest(current) == recorded else result.edited).append(rel)
    return result


def _stage(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``; the caller renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # No fsync: the rename makes each file atomic for readers and for a crash of this
        # process; surviving power loss is left to the filesystem, as git does by default.
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, text: str) -> None:
    os.replace(_stage(path, text), path)


def apply(out: Path, changes: Plan) -> None:
    """Stage every file first, so a failure (disk full, permissions) replaces nothing; then rename."""
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, text in changes.write.items():
            staged.append((_stage(out / rel, text), out / rel))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for rel in changes.delete:
        (out / rel).unlink()
        _prune(out, (out / rel).parent)
    if changes.manifest_stale:
        write_atomic(out / MANIFEST, changes.manifest)


def _prune(out: Path, directory: Path) -> None:
    """Remove directories the deletions left empty, up to the output root."""
    while directory != out and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def diff(out: Path, changes: Plan, label: str) -> str:
    """A unified diff from what is on disk to what compile would write."""
    chunks: list[str] = []
    for rel, text in sorted(changes.write.items()):
        old = _read(out / rel) or ""
        chunks.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True), f"a/{label}/{rel}", f"b/{label}/{rel}"
            )
        )
    for rel in changes.delete:
        old = _read(out / rel) or ""
        chunks.extend(difflib.unified_diff(old.splitlines(keepends=True), [], f"a/{label}/{rel}", "/dev/null"))
    if changes.manifest_stale:
        chunks.append(f"--- a/{label}/{MANIFEST}\n+++ b/{label}/{MANIFEST}\n@@ manifest differs @@\n")
    return "".join(c if c.endswith("\n") else c + "\n\\ No newline at end of file\n" for c in chunks)
