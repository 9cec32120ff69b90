"""Writing output: atomic writes, a manifest of owned files, and ``--check``.

Everything is rendered in memory, then every changed file is staged beside
its target before any is renamed into place, so a failed compile leaves the
previous output intact; the manifest is written last. Files the compiler did not write are never
overwritten or deleted; owned files it no longer produces are deleted unless
someone edited them by hand.

The output directories and the manifest are repository content a pull request
can change, so nothing is taken on trust: a path compile would write through a
symbolic link, or a file in the way of a directory, is refused before anything
is written; a manifest entry that is not a plain path inside its root (``..``,
absolute, through a link) is reported and ignored, never deleted.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".sophia-iac-manifest.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Changes:
    """What a compile would change under one output directory."""

    write: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    manifest: str = ""
    manifest_stale: bool = False
    # (path, why): files compile would have to write through a link or over a non-directory.
    refused: list[tuple[str, str]] = field(default_factory=list)
    # (manifest entry, why): owned files compile will not touch, because the entry escapes its root.
    ignored: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.write or self.delete or self.edited or self.manifest_stale)


def read_manifest(out: Path) -> dict[str, str]:
    """The files the last compile wrote here, by path; {} for a manifest that is missing or not one."""
    text = _read(out / MANIFEST)
    try:
        data = json.loads(text) if text is not None else {}
    except (ValueError, RecursionError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def manifest_text(files: Mapping[str, str]) -> str:
    body = {"generator": "sophia-iac", "files": {p: digest(t) for p, t in sorted(files.items())}}
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:  # missing, or a path that cannot be looked at: compile writes it (or says why it cannot)
        return None


def _read(path: Path) -> str | None:
    """A regular file's text; None for anything else (a link, a FIFO that would block, a directory)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def outside(
    out: Path,
    rel: str,
    protected: Path | None = None,
    checked: set[Path] | None = None,
    last_is_link: bool | None = None,
) -> str | None:
    """Why ``out/rel`` is not a path compile may touch, or None when it is.

    It must be a plain relative path (no ``..``, ``.``, empty or absolute part), no part of it
    may be a symbolic link or a non-directory where a directory must be, and it must not lie
    under ``protected`` (the specs directory). ``last_is_link`` is what the caller already knows of
    the path itself (from its own ``lstat``), saving a second look.
    """
    parts = rel.split("/")
    odd = "\\" in rel or any(ord(c) < 32 or ord(c) == 127 for c in rel)  # a control character is never ours
    if not rel or PurePosixPath(rel).is_absolute() or odd or any(p in ("", ".", "..") for p in parts):
        return "it is not a plain relative path inside the output root"
    current = out
    for i, part in enumerate(parts):
        current = current / part
        last = i == len(parts) - 1
        if not last and checked is not None and current in checked:
            continue  # a directory already found safe for another file of this plan
        if last_is_link if last and last_is_link is not None else current.is_symlink():
            return f"{current} is a symbolic link"
        if not last and current.exists() and not current.is_dir():
            return f"{current} is a file where a directory must be"
        if not last and checked is not None:
            checked.add(current)
    if protected is not None and _inside(current, protected):
        return f"it is under the specs directory {protected}"
    return None


def _inside(path: Path, directory: Path) -> bool:
    resolved, base = path.resolve(), directory.resolve()
    return resolved == base or base in resolved.parents


def root_problem(out: Path, protected: Path | None = None) -> str | None:
    """Why an output root cannot be used, or None.

    Not a link, nor below one (up to the directory holding the specs, which the repository
    owns); not a file; neither inside nor around the specs directory.
    """
    base = Path(os.path.abspath(protected.parent)) if protected is not None else None
    current = Path(os.path.abspath(out))
    while True:
        if current.is_symlink():
            return f"{current} is a symbolic link"
        if base is None or current == base or base not in current.parents:
            break
        current = current.parent
    if out.exists() and not out.is_dir():
        return f"{out} is a file, not a directory"
    if protected is not None and (_inside(out, protected) or _inside(protected, out)):
        return f"{out} overlaps the specs directory {protected}"
    return None


def changes(out: Path, files: Mapping[str, str], protected: Path | None = None) -> Changes:
    manifest = manifest_text(files)
    result = Changes(manifest=manifest)
    checked: set[Path] = set()
    # A root never overlaps the specs (root_problem) and no link is followed, so what compile writes
    # cannot land under specs/; deletions, named by a manifest anyone can edit, are checked for it too.
    found = {rel: _lstat(out / rel) for rel in files}  # one look at each file, used for every question below
    for rel in [*files, MANIFEST]:
        st = found.get(rel)
        is_link = None if rel not in found else st is not None and stat.S_ISLNK(st.st_mode)
        why = outside(out, rel, None, checked, is_link)
        if why:
            result.refused.append((rel, why))
    if result.refused:
        return result  # nothing is read or written: compile will write nothing
    owned = read_manifest(out)
    result = Changes(manifest=manifest, manifest_stale=_read(out / MANIFEST) != manifest)
    for rel, text in files.items():
        st = found[rel]
        current = _read(out / rel) if st is not None and stat.S_ISREG(st.st_mode) else None
        if current == text:
            continue
        if st is not None and rel not in owned:
            result.conflicts.append(rel)
        result.write[rel] = text
    for rel, recorded in sorted(owned.items()):
        if rel in files:
            continue
        why = outside(out, rel, protected)
        if why:
            result.ignored.append((rel, why))
            continue
        if not (out / rel).is_file():
            continue
        current = _read(out / rel)
        (result.delete if current is not None and digest(current) == recorded else result.edited).append(rel)
    return result


# O_NOFOLLOW and O_CLOEXEC where the system has them; O_BINARY (Windows) so "\n" stays "\n".
_STAGE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _stage(path: Path, text: str, made: set[str] | None = None) -> Path:
    """Write ``text`` to a new temporary file beside ``path``; the caller renames it into place.

    ``made`` remembers the directories already created in this run (one ``mkdir`` per directory).
    """
    parent = str(path.parent)
    if made is None or parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(parent)
    data = text.encode("utf-8")
    for attempt in range(100):
        # Exclusive create of a name no one else uses: never opens, truncates or follows an existing file.
        tmp = f"{parent}/.{path.name}.{os.getpid()}.{attempt}.tmp"
        try:
            fd = os.open(tmp, _STAGE_FLAGS, 0o600)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred stale temporary files of this very process id
        raise FileExistsError(17, "cannot create a temporary file", tmp)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            # No fsync: the rename makes each file atomic for readers and for a crash of this
            # process; surviving power loss is left to the filesystem, as git does by default.
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):  # never hides the error that brought us here
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: Path, text: str) -> None:
    os.replace(_stage(path, text), path)


def apply(out: Path, changes: Changes) -> None:
    """Stage every file first, so a failure (disk full, permissions) replaces nothing; then rename."""
    staged: list[tuple[Path, Path]] = []
    made: set[str] = set()
    try:
        for rel, text in changes.write.items():
            try:
                staged.append((_stage(out / rel, text, made), out / rel))
            except OSError as exc:
                exc.filename = exc.filename or str(out / rel)  # the diagnostic names the file
                raise
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for i, (tmp, target) in enumerate(staged):
        try:
            os.replace(tmp, target)
        except OSError:
            for left, _ in staged[i:]:
                left.unlink(missing_ok=True)
            raise
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


def diff(out: Path, changes: Changes, label: str) -> str:
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
