"""A secret's value and rotation record inside its ESC environment's definition.

The value is at the secret's ESC path under ``values`` (``fn::secret``). Its record is beside it, in
the same definition, at ``values.sophiaIacRotation["<esc path>"]``:

- ``rotatedAt``: when the current credential was written (ISO 8601, UTC);
- ``current``: the service's id of the current credential;
- ``retiring``: ``[{id, revokeAfter}]``, credentials it replaced, revoked once their time has come;
- ``carry``: ``pending`` while the GitHub Actions secret that also carries the value is not yet
  updated (a later run finishes it);
- ``pending``: a rotation under way (``name`` the new credential is made under, ``runner``,
  ``startedAt``, ``leaseUntil``): a runner that finds one it does not hold, still leased, leaves the
  secret alone; one whose lease has run out is finished by whoever comes next.

A secret an ESC rotator rotates has no record of its own: it was last rotated when its rotator's state
was made (``createdAt``). :func:`drift` tells how a live environment the bootstrap created once (the
rotated one, the rotators one) differs from what sophia-iac declares for it.

The definition is edited round-trip (ruamel.yaml), so what people wrote by hand stays as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ..homes import config_at
from ..targets.esc import rotator_path
from .esc import EscError

if TYPE_CHECKING:
    from .esc import Esc

RECORDS = "sophiaIacRotation"


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def definitions(
    esc: Esc | None, environments: Iterable[str], unreadable: Callable[[str, Exception], None]
) -> dict[str, CommentedMap | None]:
    """Each ESC environment's definition (None where it cannot be read or parsed, after telling
    ``unreadable``); nothing is read without an ESC client."""
    out: dict[str, CommentedMap | None] = {}
    if esc is None:
        return out
    for environment in sorted(set(environments)):
        try:
            out[environment] = load(esc.get(environment)[0])
        except (EscError, ValueError) as exc:
            unreadable(environment, exc)
            out[environment] = None
    return out


def load(text: str) -> CommentedMap:
    doc = _yaml().load(text) if text.strip() else None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ValueError("the ESC environment's definition is not a mapping")
    if not isinstance(doc.get("values"), dict):
        doc["values"] = CommentedMap()
    return doc


def dump(doc: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def record(doc: CommentedMap, path: str) -> dict[str, Any]:
    """The rotation record of the secret at ``path`` (plain data; ``{}`` when there is none); for a secret an
    ESC rotator rotates, when its state was made."""
    records = doc["values"].get(RECORDS)
    found = records.get(path) if isinstance(records, dict) else None
    if isinstance(found, dict):
        return dict(_plain(found))
    rotator = config_at(doc["values"], rotator_path(path))
    for key, declared in rotator.items() if isinstance(rotator, dict) else ():
        made = declared.get("state", {}).get("createdAt") if isinstance(declared, dict) else None
        if str(key).startswith("fn::rotate::") and isinstance(made, str | datetime):
            return {"rotatedAt": made}
    return {}


def drift(live: CommentedMap, declared: dict[str, Any], own: Iterable[str] = ()) -> list[str]:
    """How a live ESC environment the bootstrap created once differs from what sophia-iac declares for it:
    a declared value or import missing or changed, an ESC rotator with other inputs, anything else there
    (an import, a value, a function) but ``own`` (the paths the rotation workflow writes) and the rotation
    records. An ESC rotator's ``state`` is ESC's to change."""
    found = []
    imports = [str(i) if not isinstance(i, dict) else str(next(iter(i), "")) for i in live.get("imports") or []]
    if imports != [str(i) for i in declared.get("imports", [])]:
        found.append(f"imports {imports or 'nothing'}, declared {declared.get('imports', []) or 'nothing'}")
    wanted = dict(_leaves(declared.get("values", {}), ""))
    have = dict(_leaves(_plain(live["values"]), ""))
    allowed = (RECORDS, *own)
    for path in sorted(set(wanted) | set(have)):
        if path not in wanted:
            if not any(path == mine or path.startswith(mine + ".") for mine in allowed):
                found.append(f"{path} is not sophia-iac's")
            continue
        mine, theirs = wanted[path], have.get(path)
        if path.split(".")[-1].startswith("fn::rotate::") and isinstance(theirs, dict):
            theirs = {k: v for k, v in theirs.items() if k != "state"}
            mine = {k: v for k, v in mine.items() if k != "state"}
        if theirs != mine:
            found.append(f"{path} differs from the specs" if theirs is not None else f"{path} is missing")
    return found


def _leaves(tree: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    """(dotted path, value) of each value: a function call (``fn::...``) is one leaf, named with it."""
    out = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        functions = [k for k in value if str(k).startswith("fn::")] if isinstance(value, dict) else []
        if isinstance(value, dict) and value and not functions:
            out += _leaves(value, path + ".")
        elif len(functions) == 1 and len(value) == 1:
            out.append((f"{path}.{functions[0]}", value[functions[0]]))
        else:
            out.append((path, value))
    return out


def set_record(doc: CommentedMap, path: str, value: dict[str, Any]) -> None:
    values = doc["values"]
    if not isinstance(values.get(RECORDS), dict):
        values[RECORDS] = CommentedMap()
    values[RECORDS][path] = value


def set_secret(doc: CommentedMap, path: str, plaintext: str) -> None:
    """Put a new secret value at ``path`` (ESC encrypts it when the definition is saved)."""
    node = doc["values"]
    *parents, leaf = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = CommentedMap()
        node = node[part]
    node[leaf] = CommentedMap([("fn::secret", plaintext)])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
