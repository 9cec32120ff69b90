"""Helpers for the unit tests of single stages: spec text in, that stage's answer out, no files.

``problems(source)`` runs one spec text through load, schema, secret scan and the cross-document
checks, next to a small base (a Project, three Environments, two RotationPolicies), and gives
back ``(code, line, column)`` of what is found in ``source``: the style of yamllint's
``check(conf, source, problem=(line, col))``.
"""

from __future__ import annotations

from typing import Any

from compiler import checks, secrets_scan
from compiler.diagnostics import Diagnostic, has_errors
from compiler.load import Document, load_bytes
from compiler.model import Model, build
from compiler.validate import check_document

PROJECT = """apiVersion: sophia-iac/v1
kind: Project
metadata: {name: demo}
spec:
  description: A unit-test project.
  pulumi: {organization: acme, project: demo}
  github: {repository: acme/demo}
  alertRoutes:
    - name: platform
      slack: {webhook: {esc: slack.platformWebhookUrl}, channel: "#platform"}
"""
ENVIRONMENTS = "---\n".join(
    f"""apiVersion: sophia-iac/v1
kind: Environment
metadata: {{name: {name}}}
spec:
  tier: {name}
  deploy: {{on: {on}}}
  cloud: {{provider: aws, account: "{account}", region: us-east-1}}
  esc: {{environment: demo/{name}, secretsEnvironment: demo/{name}-secrets}}
  alertRoute: platform
"""
    for name, on, account in (
        ("development", "push", "111111111111"),
        ("staging", "push", "222222222222"),
        ("production", "release", "333333333333"),
    )
)
POLICIES = """apiVersion: sophia-iac/v1
kind: RotationPolicy
metadata: {name: ninety-day}
spec: {interval: 90d, method: automatic, overlap: 7d, schedule: "0 6 * * 1", notify: {routes: [platform]}}
---
apiVersion: sophia-iac/v1
kind: RotationPolicy
metadata: {name: manual}
spec: {interval: 90d, method: reminder, notify: {routes: [platform]}}
"""
BASE = {"project.yaml": PROJECT, "environments.yaml": ENVIRONMENTS, "policies.yaml": POLICIES}
SOURCE = "source.yaml"


def load(source: str, base: dict[str, str] | None = None) -> tuple[list[Document], list[Diagnostic]]:
    docs: list[Document] = []
    found: list[Diagnostic] = []
    for name, text in {**(BASE if base is None else base), SOURCE: source}.items():
        loaded, diags = load_bytes(text.encode(), name)
        docs += loaded
        found += diags
    return docs, found


def analyse(source: str, base: dict[str, str] | None = None) -> tuple[list[Diagnostic], Model | None]:
    """Every problem of the base plus ``source``, and the model where there is none."""
    docs, found = load(source, base)
    enveloped, schema_ok = [], []
    for doc in docs:
        problems = check_document(doc)
        found += problems
        if not any(d.code in ("E101", "E102") for d in problems):
            enveloped.append(doc)
        if not has_errors(problems):
            schema_ok.append(doc)
    found += secrets_scan.scan(docs)
    catalog = checks.build_catalog(enveloped, schema_ok)
    found += checks.run(catalog)
    return found, (None if has_errors(found) else build(catalog))


def problems(source: str, base: dict[str, str] | None = None) -> list[tuple[str, int, int]]:
    """(code, line, column) of each problem found in ``source``, in order."""
    found, _ = analyse(source, base)
    located = [d for d in found if d.location is not None and d.location.file == SOURCE]
    return sorted((d.code, d.location.line, d.location.column) for d in located if d.location)


def model(source: str) -> Model:
    found, built = analyse(source)
    assert built is not None, [str(d) for d in found]
    return built


def integration(name: str, type_: str, body: str = "", secrets: str = "") -> str:
    """An Integration document; ``body`` and ``secrets`` are spec lines indented by two."""
    text = f"apiVersion: sophia-iac/v1\nkind: Integration\nmetadata: {{name: {name}}}\nspec:\n  type: {type_}\n"
    return text + body + (f"  secrets:\n{secrets}" if secrets else "")


def plain(value: Any) -> Any:
    """Frozen model data as plain dicts and lists, for comparison."""
    from compiler.model import thaw

    return thaw(value)
