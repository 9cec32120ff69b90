"""The pipeline, end to end: load -> validate -> check -> model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import checks, secrets_scan
from .diagnostics import Diagnostic, Location, error, has_errors, sort
from .load import Document, load_paths
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
    docs, problems = load_paths(paths)
    if not docs and not problems:
        shown = ", ".join(paths)
        problems.append(error(Location(shown, 1, 1), "E009", f"no spec files (*.yaml, *.yml) in {shown}"))
    schema_ok, enveloped = [], []
    for doc in docs:
        found = check_document(doc)
        problems.extend(found)
        if not any(d.code in ("E101", "E102") for d in found):
            enveloped.append(doc)
        if not has_errors(found):
            schema_ok.append(doc)
    problems.extend(secrets_scan.scan(docs))
    catalog = checks.build_catalog(enveloped, schema_ok)
    problems.extend(checks.run(catalog))
    if problems:
        # No message, hint or path may show any part of a value that could be a credential.
        problems = secrets_scan.redact(problems, secrets_scan.secret_like(docs))
    if has_errors(problems):
        return Analysis(None, sort(problems), tuple(docs))
    return Analysis(build(catalog), sort(problems), tuple(docs))
