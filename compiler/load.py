"""YAML text -> documents whose every node keeps its ``file:line:col``.

ruamel.yaml composes the node graph (C parser when available, YAML 1.2
resolution, so ``NO``/``yes``/``on`` stay strings); this module turns nodes
into plain JSON-like data, keeping the graph for locations, and enforces the
load-time limits: file size, UTF-8, tabs in indentation, duplicate keys,
alias expansion, depth.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Location, error, warning

MAX_FILE_BYTES = 1 << 20
MAX_NODES = 50_000
MAX_DEPTH = 64
SPEC_SUFFIXES = (".yaml", ".yml")

JsonPath = tuple[str | int, ...]

_TAB_INDENT = re.compile(rb"^[ ]*\t", re.MULTILINE)
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset("tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp"))


@dataclass(frozen=True)
class Document:
    """One YAML document: plain data, and the composed node graph it came from.

    Locations are looked up in the node graph on demand (only problems and
    ``show`` need them), which keeps loading as fast as composing. An
    effective document (an environment's view, see ``resolve``) shares its
    base document's graph and looks in its override subtree first.
    """

    file: str
    data: Any
    start: Location
    root: Any = field(repr=False, compare=False)
    overlay: JsonPath | None = None

    def position(self, path: JsonPath, *, key: bool = False) -> Location | None:
        """The exact location of ``path`` (its key when ``key``), or None."""
        if self.overlay is not None and path[:1] == ("spec",) and len(path) > 1:
            found = self._find(self.overlay + path[1:], key)
            if found:
                return found
        return self._find(path, key)

    def locate(self, path: JsonPath, *, key: bool = False) -> Location:
        """The nearest known location of ``path`` (its key when ``key``)."""
        for n in range(len(path), -1, -1):
            found = self.position(path[:n], key=key) or self.position(path[:n])
            if found:
                return found
        return self.start

    def _find(self, path: JsonPath, key: bool) -> Location | None:
        root = self.root.node() if isinstance(self.root, _Root) else self.root
        found = _walk_nodes(root, path)
        if found is None:
            return None
        key_node, value_node = found
        node = key_node if key and key_node is not None else value_node
        return _loc(self.file, node)


class _Deferred:
    """The text of a file loaded in another process, composed again the first time one of its documents
    is asked for a location: every document's graph at once, by where it starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._roots: dict[tuple[int, int], Any] | None = None

    def root(self, start: Location) -> Any:
        if self._roots is None:
            self._roots = {
                (node.start_mark.line + 1, node.start_mark.column + 1): node
                for node, _ in _compose_all(self.text)
                if node is not None
            }
        return self._roots[(start.line, start.column)]

    def __getstate__(self) -> dict[str, Any]:
        return {"text": self.text, "_roots": None}  # the graphs are never sent between processes


@dataclass(frozen=True)
class _Root:
    """A document's node graph, kept as its file's deferred text and where the document starts."""

    text: _Deferred
    start: Location

    def node(self) -> Any:
        return self.text.root(self.start)


def _walk_nodes(node: Any, path: JsonPath) -> tuple[Any, Any] | None:
    """(key node, value node) at ``path`` in a composed graph; the first of duplicate keys wins."""
    key_node = None
    for part in path:
        if node.id == "mapping" and isinstance(part, str):
            match = next(((k, v) for k, v in node.value if k.id == "scalar" and k.value == part), None)
            if match is None:
                return None
            key_node, node = match
        elif node.id == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
            key_node, node = None, node.value[part]
        else:
            return None
    return key_node, node


def format_path(path: Sequence[str | int]) -> str:
    """``("spec", "secrets", 0)`` -> ``spec.secrets[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def discover(paths: Sequence[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand directories into their spec files, sorted for stable output."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and p.is_symlink():
            # Read through, it could be the whole filesystem; compiled, its outputs would land beside the target.
            problems.append(error(Location(raw, 1, 1), "E008", f"{raw} is a symbolic link; give the directory itself"))
        elif p.is_dir():
            for f in sorted(f for f in p.rglob("*") if f.suffix in SPEC_SUFFIXES):
                problem = _unreadable(f, p)
                if problem:
                    problems.append(error(Location(display_name(f), 1, 1), "E008", problem))
                elif f.is_file():
                    files.append(f)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(error(Location(raw, 1, 1), "E008", f"no such file or directory: {raw}"))
    return files, problems


def _unreadable(path: Path, root: Path) -> str | None:
    """Why a spec-named entry under ``root`` is not read: a link out of the tree or to nothing, or not a file.

    A pull request can add any of these; reading through a link could print another file's
    content in a syntax error, and reading a FIFO would hang.
    """
    if path.is_symlink():
        try:
            target = path.resolve(strict=False)
        except (OSError, RuntimeError):
            return "cannot read file: it is a loop of symbolic links"
        if not target.exists():
            return "cannot read file: it is a symbolic link to nothing"
        if root.resolve() not in target.parents:
            return "cannot read file: it is a symbolic link out of the specs directory"
    if path.is_dir():
        return None  # a directory named like a spec file: its contents are searched
    if not path.is_file():
        return "cannot read file: it is not a regular file"
    return None


def display_name(path: Path) -> str:
    """Paths relative to the working directory when possible, with ``/``."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = str(path)
    shown = rel if not rel.startswith("..") else str(path)
    return shown.replace(os.sep, "/")


def portable(docs: Sequence[Document], text: str) -> list[Document]:
    """The documents of one file, made cheap to send to another process: their node graphs replaced by
    the file's text, composed again (every document at once) when a location is first asked for."""
    deferred = _Deferred(text)
    return [replace(doc, root=_Root(deferred, doc.start)) for doc in docs]


def load_file(path: Path, name: str | None = None) -> tuple[list[Document], list[Diagnostic]]:
    docs, problems, _ = load_file_text(path, name)
    return docs, problems


def load_file_text(path: Path, name: str | None = None) -> tuple[list[Document], list[Diagnostic], str]:
    """``load_file``, and the text its documents were parsed from ("" where none was)."""
    name = name or display_name(path)
    raw = _read_file(path, name)
    if isinstance(raw, Diagnostic):
        return [], [raw], ""
    docs, problems = load_bytes(raw, name)
    return docs, problems, raw.decode("utf-8").removeprefix("\ufeff") if docs else ""


def _read_file(path: Path, name: str) -> bytes | Diagnostic:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return _too_large(name, size)
        return path.read_bytes()
    except OSError as exc:
        return error(Location(name, 1, 1), "E008", f"cannot read file: {exc.strerror}")


def _too_large(name: str, size: int) -> Diagnostic:
    return error(
        Location(name, 1, 1),
        "E001",
        f"file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes",
        hint="split the specs into several files",
    )


def load_bytes(raw: bytes, name: str) -> tuple[list[Document], list[Diagnostic]]:
    """Check the bytes, then parse every document in them."""
    if len(raw) > MAX_FILE_BYTES:
        return [], [_too_large(name, len(raw))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [_not_utf8(raw, name, exc)]
    tabs = [_tab_problem(raw, m.end() - 1, name) for m in _TAB_INDENT.finditer(raw)]
    if tabs:
        return [], tabs
    return _parse(text.removeprefix("\ufeff"), name)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _not_utf8(raw: bytes, name: str, exc: UnicodeDecodeError) -> Diagnostic:
    line, col = _position(raw, exc.start)
    return error(
        Location(name, line, col),
        "E002",
        f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
        hint="save the file as UTF-8",
    )


def _tab_problem(raw: bytes, offset: int, name: str) -> Diagnostic:
    line, col = _position(raw, offset)
    return error(
        Location(name, line, col),
        "E003",
        "tab character in indentation; YAML indentation must use spaces",
        hint="replace the tab with spaces",
    )


@cache
def _loader_class() -> Any:
    """ruamel.yaml's C-accelerated composer with YAML 1.2 resolution, built once.

    ``YAML(typ="safe").compose_all`` defines a loader class per call and asks
    the parser for the YAML version at every scalar; specs are always YAML
    1.2, so the version is fixed here. Without the C extension, the pure
    Python composer is used (slower, same result).
    """
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:
        return None

    class Loader(CParser, SafeConstructor, VersionedResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            VersionedResolver.__init__(self, version=(1, 2), loadumper=self)

        @property
        def processing_version(self) -> tuple[int, int]:
            return (1, 2)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # A plain scalar's tag depends on its text alone: resolve each distinct text once. Every
            # resolved tag is one shared object per tag, whose text the converter looks up by identity.
            if kind is ScalarNode and implicit[0]:
                tag = _RESOLVED.get(value)
                if tag is None:
                    if len(_RESOLVED) > 50_000:
                        _RESOLVED.clear()
                    tag = _RESOLVED[value] = _shared_tag(VersionedResolver.resolve(self, kind, value, implicit))
                return tag
            return _shared_tag(VersionedResolver.resolve(self, kind, value, implicit))

        # No path resolvers are registered: the composer's calls to these need do nothing.
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    return Loader


_RESOLVED: dict[str, Any] = {}
_SHARED_TAGS: dict[str, Any] = {}
_TAG_LOCK = threading.Lock()
# Shared Tag object (by id) -> its text: a node's tag read without building the string again.
_TAG_TEXT: dict[int, str] = {}


def _shared_tag(resolved: Any) -> Any:
    """The one Tag object kept for this tag's text (kept alive, so its id is never reused)."""
    if id(resolved) in _TAG_TEXT:
        return resolved  # already the kept one (the resolver's default tags are single objects)
    text = str(resolved)
    with _TAG_LOCK:  # two threads loading at once must not both keep a tag for one text
        tag = _SHARED_TAGS.get(text)
        if tag is None:
            tag = _SHARED_TAGS[text] = resolved
            _TAG_TEXT[id(tag)] = text
    return tag


def _tag(node: Any) -> str:
    """A node's tag as text (a shared tag from a dictionary lookup; a tag written in the YAML as ruamel spells it)."""
    text = _TAG_TEXT.get(id(node.ctag))
    return text if text is not None else str(node.tag)


def _compose_all(text: str) -> Iterator[tuple[Any, Any]]:
    """(node, constructor) for each document in ``text``."""
    loader_class = _loader_class()
    if loader_class is None:
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        for node in yaml.compose_all(text):
            yield node, yaml.constructor
        return
    loader = loader_class(text)
    try:
        while loader.check_node():
            yield loader.get_node(), loader
    finally:
        loader.dispose()


def trusted_data(text: str) -> Any:
    """The data of a one-document YAML text this compiler rendered itself (no limits, no locations)."""
    for node, constructor in _compose_all(text):
        return constructor.construct_document(node)
    return None


def _parse(text: str, name: str) -> tuple[list[Document], list[Diagnostic]]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    docs: list[Document] = []
    problems: list[Diagnostic] = []
    deep = _flow_depth_problem(text, name)
    if deep is not None:
        return docs, [deep]  # the C composer can crash on such input: it is never given it
    try:
        for node, constructor in _compose_all(text):
            doc, diags = _Converter(name, constructor, text).document(node)
            problems.extend(diags)
            if doc is not None:
                docs.append(doc)
    except MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, name, text))
    except YAMLError as exc:
        problems.append(error(Location(name, 1, 1), "E004", f"YAML error: {exc}"))
    except RecursionError:
        problems.append(error(Location(name, 1, 1), "E007", "YAML nesting is too deep to parse"))
    return docs, problems + _modelines(text, name, docs)


MODELINE = "# yaml-language-server:"


def _modelines(text: str, name: str, docs: Sequence[Document]) -> list[Diagnostic]:
    """W002 for a later document without the yaml-language-server modeline the first one has: a modeline
    applies only to its own document, so without a ``yaml.schemas`` mapping an editor checks none of it."""
    if len(docs) < 2:
        return []
    lines = text.splitlines()

    def opening(line: int) -> tuple[int, list[str]]:
        """The ``---`` line before a document starting at 1-based ``line`` (0: none), and the lines between."""
        at = line - 2
        between = []
        while at >= 0 and not lines[at].startswith("---"):
            between.append(lines[at])
            at -= 1
        return at + 1, between + ([lines[at]] if at >= 0 else [])

    def has_modeline(block: list[str]) -> bool:
        return any(MODELINE in candidate for candidate in block)

    if not has_modeline(opening(docs[0].start.line)[1]):
        return []
    out = []
    for number, doc in enumerate(docs[1:], start=2):
        dashes, block = opening(doc.start.line)
        if not has_modeline(block):
            out.append(
                warning(
                    Location(name, dashes or doc.start.line, 1),
                    "W002",
                    f"document {number} has no yaml-language-server modeline, which the first has: an editor "
                    "checks it only where the schema is mapped to the specs (yaml.schemas)",
                    hint="repeat the first document's modeline on the line after its ---",
                )
            )
    return out


_FLOW_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|#[^\n]*|[\[\]{}]""")


def _flow_depth_problem(text: str, name: str) -> Diagnostic | None:
    """Flow collections (``[``, ``{``) nested deeper than the limit, found without composing the text."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # too few openers to nest that deep: no need to look closer
    depth = 0
    for match in _FLOW_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text.encode("utf-8"), len(text[: match.start()].encode("utf-8")))
                return error(Location(name, line, column), "E007", f"nesting deeper than {MAX_DEPTH} levels")
        elif token in "]}":
            depth = max(0, depth - 1)
    return None


def _dedented_item(text: str, line: int) -> str:
    """A hint when line ``line`` (1-based) is a list item less indented than the list item above it: the
    usual cause of 'did not find expected key' / 'expected <block end>'."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return ""
    here = lines[line - 1]
    if not here.lstrip().startswith("- "):
        return ""
    for above in reversed(lines[: line - 1]):
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        indent, wanted = len(here) - len(here.lstrip()), len(above) - len(above.lstrip())
        if above.lstrip().startswith("- ") and wanted > indent:
            return f"this list item is less indented than the one above it: indent it by {wanted} spaces, as that one"
        return ""
    return ""


def _syntax_problem(exc: Any, name: str, text: str = "") -> Diagnostic:
    mark, started = exc.problem_mark or exc.context_mark, exc.context_mark
    loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
    context, problem = (exc.context or "").strip(), (exc.problem or "invalid YAML").strip()
    if "duplicate anchor" in context:
        return error(
            loc,
            "E004",
            f"{context.split(';')[0]}; it was first defined at line {started.line + 1}",
            hint="give each &anchor a unique name",
        )
    if started and mark and started.line != mark.line:
        context += f" (started at line {started.line + 1}, column {started.column + 1})"
    message = f"{context}: {problem}" if context else problem
    hint = "define each &anchor before any *alias to it" if "undefined alias" in message else ""
    hint = hint or _dedented_item(text, loc.line)
    return error(loc, "E004", f"YAML syntax error: {message}", hint=hint)


def _loc(name: str, node: Any) -> Location:
    mark = node.start_mark
    return Location(name, mark.line + 1, mark.column + 1)


class _TooLarge(Exception):
    """The document expands (through aliases) beyond MAX_NODES."""


class _Converter:
    """Walks one composed node graph into plain data, within the load-time limits."""

    def __init__(self, name: str, constructor: Any, text: str) -> None:
        self.name = name
        self.text = text
        self.constructor = constructor
        self.budget = MAX_NODES
        self.problems: list[Diagnostic] = []

    def document(self, node: Any) -> tuple[Document | None, list[Diagnostic]]:
        start = _loc(self.name, node)
        if node is None or (_tag(node) == "tag:yaml.org,2002:null" and not node.value):
            return None, [warning(self._marker_before(start), "W001", "empty document is ignored")]
        try:
            data = self.convert(node, 0)
        except _TooLarge:
            return None, [self._expansion_problem(node)]
        # A duplicate key is skipped (the first wins) so later stages still report
        # everything else; any other load problem makes the document unusable.
        usable = all(p.code == "E005" for p in self.problems)
        return (Document(self.name, data, start, node) if usable else None), self.problems

    def _marker_before(self, start: Location) -> Location:
        """An empty document's node sits where the next token is; point at its own '---' instead."""
        lines = self.text.splitlines()
        for index in range(min(start.line, len(lines)) - 1, -1, -1):
            if lines[index].startswith("---") and index + 1 < start.line:
                return Location(self.name, index + 1, 1)
        return Location(self.name, 1, 1)

    def _expansion_problem(self, root: Any) -> Diagnostic:
        """Point at the node whose own expansion crosses the limit (sizes memoised: no expansion)."""
        sizes: dict[int, int] = {}

        def size(node: Any) -> int:
            if id(node) not in sizes:
                total = 1
                for child in _children(node):
                    total += size(child)
                    if total > MAX_NODES:
                        break
                sizes[id(node)] = total
            return sizes[id(node)]

        size(root)
        worst = root
        while True:
            over = next((c for c in _children(worst) if sizes.get(id(c), 0) > MAX_NODES), None)
            if over is None:
                break
            worst = over
        return error(
            _loc(self.name, worst),
            "E006",
            f"aliases expand this document beyond {MAX_NODES} nodes",
            hint="an alias-expansion bomb? use overrides instead of deeply nested *aliases",
        )

    def convert(self, node: Any, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        if depth > MAX_DEPTH:
            self._fail(node, "E007", f"nesting deeper than {MAX_DEPTH} levels")
            return None
        kind = node.id
        if kind == "mapping":
            return self._mapping(node, depth)
        if kind == "sequence":
            return [self.convert(child, depth + 1) for child in node.value]
        return self._scalar(node)

    def _mapping(self, node: Any, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                continue
            if key in out:
                self._fail(
                    key_node,
                    "E005",
                    f"duplicate key '{key}'",
                    hint=f"first defined at line {first_line[key]}; remove one of them",
                )
                continue
            first_line[key] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, depth + 1)
        return out

    def _key(self, node: Any) -> str | None:
        tag = _tag(node)
        if tag == "tag:yaml.org,2002:merge":
            self._fail(
                node,
                "E007",
                "merge keys (<<) are not supported",
                hint="write the keys out, or use per-environment overrides",
            )
            return None
        if node.id != "scalar" or tag != _STR:
            self._fail(node, "E007", "mapping keys must be plain strings", hint="quote the key")
            return None
        return str(node.value)

    def _scalar(self, node: Any) -> Any:
        tag = _tag(node)
        if tag not in _SCALAR_TAGS:
            self._fail(node, "E007", f"unsupported tag {tag}", hint="remove the tag; specs are plain YAML")
            return None
        if tag in (_STR, "tag:yaml.org,2002:timestamp"):
            return str(node.value)
        if tag == "tag:yaml.org,2002:null":
            return None
        suffix = tag.rsplit(":", 1)[1]
        try:
            return getattr(self.constructor, f"construct_yaml_{suffix}")(node)
        except ValueError:  # e.g. an integer of thousands of digits, beyond what Python converts
            self._fail(node, "E108", "number is too long to read", hint="use a number within the field's range")
            return None

    def _fail(self, node: Any, code: str, message: str, hint: str = "") -> None:
        self.problems.append(error(_loc(self.name, node), code, message, hint=hint))


def _children(node: Any) -> Iterator[Any]:
    if node.id == "mapping":
        for k, v in node.value:
            yield k
            yield v
    elif node.id == "sequence":
        yield from node.value
