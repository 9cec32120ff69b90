"""An integration type lives in one place: its package under compiler/integrations/ and its schema.

Types are found by discovery; a package missing a file, holding one its entry does not declare, or
misnamed is an error at import; no other module of the compiler names a type; and a new type made
of a schema and a package, nothing else edited, validates, compiles and runs under mocks.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.harness import run_stack
from compiler.integrations import HERE, REGISTRY
from compiler.integrations.base import IntegrationType, RegistryError
from tests.conftest import ROOT

# Literals equal to a type's name that mean something else, with why.
OTHER_MEANINGS = {
    ("compiler/cli.py", "github"): "the GitHub Actions annotation output format",
    ("compiler/diagnostics.py", "github"): "the GitHub Actions annotation output format",
    ("compiler/model.py", "github"): "the Project spec's `github` section (repository, default branch)",
    ("compiler/model.py", "slack"): "an alert route's `slack` section in the Project spec",
    ("compiler/integrations/pulumi_esc/bootstrap.py", "slack"): "Pulumi Cloud's webhook payload format",
    ("compiler/integrations/vercel/deploy.py", "github"): "Vercel's name for a git provider",
}


def test_every_package_is_a_type_and_every_type_a_package() -> None:
    packages = sorted(p.name for p in HERE.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(entry.module for entry in REGISTRY.values())
    for entry in REGISTRY.values():
        assert (ROOT / "schema" / "integrations" / f"{entry.name}.json").is_file()
        assert (HERE / entry.module / "probe.py").is_file()


def test_no_module_outside_a_types_package_names_it() -> None:
    found = []
    for path in sorted((ROOT / "compiler").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for entry in REGISTRY.values():
                if rel.startswith(f"compiler/integrations/{entry.module}/"):
                    continue
                for word in {entry.name, entry.module}:
                    named = node.value == word or re.search(rf"\btype {re.escape(word)}\b", node.value)
                    if named and (rel, word) not in OTHER_MEANINGS:
                        found.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


def entry(**changes: object) -> IntegrationType:
    fields: dict[str, object] = {
        "name": "my-service",
        "title": "My Service",
        "category": "ai-services",
        "component": "MyService",
        "automatic_rotation": False,
        "docs": "https://example.com",
    }
    return IntegrationType(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "files, changes, package, problem",
    [
        ({"probe.py"}, {}, "my_service", None),
        ({"probe.py", "deploy.py"}, {"deploys": True}, "my_service", None),
        (set(), {}, "my_service", "compiler/integrations/my_service/probe.py is missing"),
        ({"probe.py"}, {"deploys": True}, "my_service", "deploy.py is missing"),
        ({"probe.py", "deploy.py"}, {}, "my_service", "deploy.py exists but ENTRY does not declare it (deploys=True)"),
        ({"probe.py", "bootstrap.py"}, {}, "my_service", "bootstrap.py exists but ENTRY does not declare it"),
        ({"probe.py"}, {}, "myservice", "whose package must be named 'my_service'"),
        ({"probe.py"}, {"name": "no-schema"}, "no_schema", "no schema schema/integrations/no-schema.json"),
        ({"probe.py"}, {"roles": ("gpus",)}, "my_service", "role 'gpus' is not one of"),
        ({"probe.py"}, {"category": "misc"}, "my_service", "category 'misc' is not one of"),
    ],
)
def test_a_package_holds_exactly_what_its_entry_declares(
    tmp_path: Path, files: set[str], changes: dict[str, object], package: str, problem: str | None
) -> None:
    (tmp_path / package).mkdir()
    for name in files:
        (tmp_path / package / name).write_text("")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "my-service.json").write_text("{}")
    checked = entry(**changes)
    if problem is None:
        checked.check_files(tmp_path / package, package, schemas)
        return
    with pytest.raises(RegistryError, match=re.escape(problem)):
        checked.check_files(tmp_path / package, package, schemas)


# A fictitious type: a schema and a package (entry, probe, deploy module), nothing else.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Weather station integration config",
    "type": "object",
    "additionalProperties": False,
    "required": ["station"],
    "properties": {"station": {"type": "string", "pattern": "^[A-Z]{4}$"}, "retentionDays": {"type": "integer"}},
}
ENTRY = """from ..base import IntegrationType

ENTRY = IntegrationType(
    name="weather-station",
    title="Weather station",
    category="data-sources",
    component="WeatherStation",
    automatic_rotation=False,
    docs="https://example.com/weather",
    requirements=("pulumi-aws==7.51.1",),
    deploys=True,
)
"""
PROBE = '''"""Weather station: nothing to call in this test."""

from ...probes.context import ProbeContext, Skipped


async def probe(ctx: ProbeContext) -> None:
    raise Skipped("a fictitious service")
'''
DEPLOY = '''"""Weather station: one bucket for its readings."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .. import runtime


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    station = component.config["station"]
    bucket = aws.s3.BucketV2(
        f"{component.name}.readings",
        bucket=f"{stack.environment}-{station.lower()}-readings",
        tags=stack.tags(component),
        opts=component.child(stateful=True),
    )
    return component.done({"bucket": bucket.bucket})
'''
SPEC = """apiVersion: sophia-iac/v1
kind: Integration
metadata:
  name: {name}
spec:
  type: weather-station
  description: A fictitious weather station.
  config:
    station: {station}
"""


def copy_of_the_compiler(root: Path) -> None:
    for part in ("compiler", "schema", "templates", "specs"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__", "_data"))


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "PYTHONPATH")}
    env["PYTHONPATH"] = str(root)  # the copy, not the installed compiler
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def test_a_new_type_is_a_schema_and_a_package(tmp_path: Path) -> None:
    root = tmp_path / "project"
    copy_of_the_compiler(root)
    (root / "schema" / "integrations" / "weather-station.json").write_text(json.dumps(SCHEMA))
    package = root / "compiler" / "integrations" / "weather_station"
    package.mkdir()
    (package / "__init__.py").write_text(ENTRY)
    (package / "probe.py").write_text(PROBE)
    (package / "deploy.py").write_text(DEPLOY)
    specs = root / "specs" / "integrations"
    (specs / "weather.yaml").write_text(SPEC.format(name="weather", station="KSFO"))

    checked = run(root, "validate", "specs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (specs / "broken.yaml").write_text(SPEC.format(name="broken", station="sfo"))
    refused = run(root, "validate", "specs")
    assert refused.returncode == 1
    assert "specs/integrations/broken.yaml:9:14: error[E107]" in refused.stdout, refused.stdout
    (specs / "broken.yaml").unlink()

    compiled = run(root, "compile")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    out = root / "generated"
    assert (out / "pulumi" / "program" / "weather_station" / "deploy.py").read_text().endswith(DEPLOY)
    assert "pulumi-aws==7.51.1" in (out / "pulumi" / "requirements.txt").read_text()
    stack = run_stack(out, "production")
    component = stack.component("sophia:integrations:WeatherStation", "weather")
    (bucket,) = stack.children(component)
    assert bucket["type"] == "aws:s3/bucketV2:BucketV2"
    assert bucket["inputs"]["bucket"] == "production-ksfo-readings"
    assert bucket["protect"]  # production protects stateful resources
    assert component["outputs"]["settings"]["config"] == {"station": "KSFO"}


def test_every_python_file_generated_is_checked_where_it_comes_from() -> None:
    """Each .py file in generated/ is either rendered from spec data (the entry point and the package
    markers, checked by running them) or a verbatim copy of a compiler module (linted by ruff and
    type-checked by mypy --strict there, see test_tooling)."""
    from compiler.render import header

    copies = 0
    for path in sorted((ROOT / "generated").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == "__main__.py" or (path.name == "__init__.py" and "Copied verbatim" not in text):
            continue
        found = re.search(r"^# Copied verbatim from (compiler/integrations/\S+\.py), ", text, re.M)
        assert found, f"{path} is neither rendered nor a copy"
        note = f"# Copied verbatim from {found.group(1)}, where it is linted, type-checked and tested."
        assert text == f"{header([])}\n{note}\n{(ROOT / found.group(1)).read_text(encoding='utf-8')}", path
        copies += 1
    assert copies >= 8  # the runtime of both projects and every type module they use
