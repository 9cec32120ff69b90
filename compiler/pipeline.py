"""The pipeline, end to end: load -> validate -> check -> model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import checks, fork, secrets_scan
from .diagnostics import Diagnostic, Location, error, has_errors, sort
from .load import Document, discover, load_file_text, portable
from .model import Model, build
from .validate import check_document


@dataclass(frozen=True)
class Analysis:
    model: Model | None
    diagnostics: list[Diagnostic]
    documents: tuple[Document, ...] = ()

    @property
    def ok(self) -> bool:
        return self.model is not None and not has_errors(self.diagnostics)


def analyse(paths: Sequence[str]) -> Analysis:
    """Every diagnostic for the spec files under ``paths``, and the model if there are no errors."""
    files, problems = discover(paths)
    docs: list[Document] = []
    schema_ok, enveloped = [], []
    for result in _each_file(files):
        docs += result.docs
        problems += result.problems
        schema_ok += [d for d, ok in zip(result.docs, result.schema_ok, strict=True) if ok]
        enveloped += [d for d, ok in zip(result.docs, result.enveloped, strict=True) if ok]
    if not docs and not problems:
        shown = ", ".join(paths)
        problems.append(error(Location(shown, 1, 1), "E009", f"no spec files (*.yaml, *.yml) in {shown}"))
    catalog = checks.build_catalog(enveloped, schema_ok)
    problems.extend(checks.run(catalog))
    if problems:
        # No message, hint or path may show any part of a value that could be a credential.
        problems = secrets_scan.redact(problems, secrets_scan.secret_like(docs))
    if has_errors(problems):
        return Analysis(None, sort(problems), tuple(docs))
    return Analysis(build(catalog), sort(problems), tuple(docs))


@dataclass(frozen=True)
class _FileResult:
    """One spec file's documents and what is found in each on its own (load, schema, plaintext secrets)."""

    docs: list[Document]
    problems: list[Diagnostic]
    enveloped: list[bool]  # apiVersion and kind are right: the cross-document checks may see it
    schema_ok: list[bool]  # no error at all: the model may be built from it
    text: str = ""  # what the documents were parsed from (sent instead of their node graphs)


def _one_file(path: Path) -> _FileResult:
    docs, problems, text = load_file_text(path)
    enveloped, schema_ok = [], []
    for doc in docs:
        found = check_document(doc)
        problems += found
        enveloped.append(not any(d.code in ("E101", "E102") for d in found))
        schema_ok.append(not has_errors(found))
    problems += secrets_scan.scan(docs)
    return _FileResult(docs, problems, enveloped, schema_ok, text)


def _portable(result: _FileResult) -> _FileResult:
    """A file's result made cheap to send to another process (see ``load.portable``)."""
    return replace(result, docs=portable(result.docs, result.text), text="")


# From this many files on, a second process takes every other file (compiler/fork.py says when one
# may be forked; SOPHIA_IAC_JOBS=1 turns it off). Below it, a fork costs more than it saves.
PARALLEL_MIN_FILES = 128


def _each_file(files: Sequence[Path]) -> list[_FileResult]:
    """``_one_file`` of each file, in order; on a large tree, every other one in a forked process."""
    if len(files) < PARALLEL_MIN_FILES or not fork.available():
        return [_one_file(f) for f in files]
    mine, theirs = files[0::2], files[1::2]
    with fork.helper(lambda: [_portable(_one_file(f)) for f in theirs]) as child:
        ours = [_one_file(f) for f in mine]
        got = child.result() if child is not None else None
    if not isinstance(got, list) or len(got) != len(theirs):  # no helper, or it failed: do its share here
        got = [_one_file(f) for f in theirs]
    return [ours[i // 2] if i % 2 == 0 else got[i // 2] for i in range(len(files))]
