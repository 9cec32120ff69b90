"""What a change does besides its resources, for ``plan --diff``: stack config key by key, each ESC
environment definition as a diff of its YAML, and every other generated file it rewrites, named.

The base's output is what is committed at the base (``compile --check`` keeps it equal to what its
compiler produced, and it is what was deployed); the head's is rendered from the head's specs. A
reviewer reading only the plan learns every file the merge changes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import trusted_data

MANIFEST = ".sophia-iac-manifest.json"
ESC_SUFFIXES = ("", "-bootstrap", "-rotated", "-rotators")
STACK_PROJECTS = (("pulumi", "infrastructure"), ("bootstrap", "bootstrap"))
# Stack config keys carrying an ESC definition: shown as the definition's own diff.
DEFINITION_KEYS = ("escDefinition", "escRotatedDefinition", "escRotatorsDefinition")
_SECRET_LINE = re.compile(r"^(\s*(?:-\s+)?(?:\S+:\s*)?)(\{?\s*fn::secret.*)$")


@dataclass
class Effects:
    config: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # (project, key, before, after)
    esc: list[tuple[str, list[str]]] = field(default_factory=list)  # (file, diff lines)
    files: list[str] = field(default_factory=list)  # other rewritten files, by path

    def __bool__(self) -> bool:
        return bool(self.config or self.esc or self.files)


def committed(tree: Path, workflows_dir: str) -> dict[str, str]:
    """The generated output committed in a checkout: ``generated/...`` and the workflows, by path; where a
    root has a manifest, only the files it says the compiler wrote (a file put there by hand is not output)."""
    out: dict[str, str] = {}
    for root in ("generated", workflows_dir):
        base = tree / root
        if not base.is_dir():
            continue
        owned = _owned(base)
        for path in sorted(base.rglob("*")):
            inside = path.relative_to(base).as_posix()
            if owned is not None and inside not in owned:
                continue
            if path.is_file() and not path.is_symlink() and path.name != MANIFEST:
                try:
                    out[path.relative_to(tree).as_posix()] = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
    return out


def _owned(root: Path) -> set[str] | None:
    """The files a root's manifest lists (None without a readable one)."""
    try:
        files = json.loads((root / MANIFEST).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    return set(files) if isinstance(files, dict) else None


def rendered(files: Mapping[str, Mapping[str, str]], workflows_dir: str) -> dict[str, str]:
    """``render_all`` output by repository path (``generated/...``, the workflows directory)."""
    out = {f"generated/{p}": t for p, t in files.get("generated", {}).items()}
    out.update({f"{workflows_dir}/{p}": t for p, t in files.get("workflows", {}).items()})
    return {p: t for p, t in out.items() if not p.endswith(MANIFEST)}


def effects(before: Mapping[str, str], after: Mapping[str, str], env: str, others: set[str]) -> Effects:
    """What changes for ``env`` (``others``: the other environments, whose own files are not shown here)."""
    result = Effects()
    shown: set[str] = set()
    for project, title in STACK_PROJECTS:
        path = f"generated/{project}/Pulumi.{env}.yaml"
        shown.add(path)
        old, new = _config(before.get(path)), _config(after.get(path))
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                result.config.append((title, key, old.get(key), new.get(key)))
    for suffix in ESC_SUFFIXES:
        path = f"generated/esc/{env}{suffix}.yaml"
        shown.add(path)
        if before.get(path) != after.get(path):
            result.esc.append((path, _definition_diff(before.get(path), after.get(path))))
    for path in sorted(before.keys() | after.keys()):
        if path in shown or before.get(path) == after.get(path) or _of_another(path, others):
            continue
        state = "added" if path not in before else "removed" if path not in after else "changed"
        result.files.append(f"{path} ({state})" if state != "changed" else path)
    return result


def _of_another(path: str, others: set[str]) -> bool:
    """Whether a file belongs to another environment's stack, ESC environment or program files."""
    parts = Path(path).parts
    name = parts[-1]
    for other in others:
        if name == f"Pulumi.{other}.yaml":
            return True
        if parts[:2] == ("generated", "esc") and name in {f"{other}{s}.yaml" for s in ESC_SUFFIXES}:
            return True
        if "files" in parts and parts[parts.index("files") + 2 : parts.index("files") + 3] == (other,):
            return True
    return False


def _config(text: str | None) -> dict[str, Any]:
    """A stack file's config, flattened to dotted keys (namespace dropped; lists kept whole)."""
    data = trusted_data(text) if text else None
    config = (data or {}).get("config") or {}
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        else:
            out[prefix] = value

    for key, value in config.items():
        short = str(key).split(":", 1)[-1]
        if short not in DEFINITION_KEYS:
            walk(short, value)
    return out


def _definition_diff(before: str | None, after: str | None) -> list[str]:
    """A unified diff of two ESC definitions, their generated header left out and secret values masked."""

    def body(text: str | None) -> list[str]:
        lines = (text or "").splitlines()
        while lines and lines[0].startswith("#"):
            lines.pop(0)
        return [_SECRET_LINE.sub(r"\1[secret]", line) for line in lines]

    diff = difflib.unified_diff(body(before), body(after), "before", "after", n=2, lineterm="")
    return [line for line in diff if not line.startswith(("---", "+++"))]
