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

The definition is edited round-trip (ruamel.yaml), so what people wrote by hand stays as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

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
    """The rotation record of the secret at ``path`` (plain data; ``{}`` when there is none)."""
    records = doc["values"].get(RECORDS)
    found = records.get(path) if isinstance(records, dict) else None
    return _plain(found) if isinstance(found, dict) else {}


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
