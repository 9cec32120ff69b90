"""Properties: arbitrary YAML never crashes; output is deterministic; hostile text stays data."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.cli import main
from compiler.literals import py, yaml_block, yaml_scalar
from compiler.secrets_scan import classify
from tests.conftest import CASES, ROOT

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["Project", "Environment", "Integration", "RotationPolicy", "GpuPool", "Other"]


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue()


def validate_text(raw: bytes) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "spec.yaml").write_bytes(raw)
        return run_cli("validate", "--format", "json", tmp)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    code, out = validate_text(raw)
    assert code in (0, 1)
    json.loads(out)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(list("ab: -[]{}&*!|>'\"#%@`,?\n\t\\0x.~") + ["NO", "<<", "---", "...", "1e3"]), max_size=120
    ).map("".join)
)
def test_yaml_shaped_text_never_crashes(text: str) -> None:
    code, out = validate_text(text.encode())
    assert code in (0, 1)
    assert all(d["line"] is None or d["line"] >= 1 for d in json.loads(out)["diagnostics"])


@SETTINGS
@given(st.sampled_from(KINDS), json_values, json_values)
def test_wrongly_shaped_documents_are_diagnosed_not_crashed(kind: str, metadata: Any, spec: Any) -> None:
    doc = {"apiVersion": "sophia-iac/v1", "kind": kind, "metadata": metadata, "spec": spec}
    code, out = validate_text(json.dumps(doc).encode())
    assert code == 1 and json.loads(out)["diagnostics"]


HOSTILE_PARTS = [
    '"',
    "'",
    '"""',
    "'''",
    "\n",
    "\r\n",
    "{{ x }}",
    "${{ github.event.issue.title }}",
    "\\",
    "\\n",
    "{% raw %}",
    "#",
    ": ",
    "- ",
    "&a",
    "*a",
    "!!python/object",
    "\t",
    "\u2028",
    "é",
    "\x00",
    "${x}",
]
hostile = st.lists(st.sampled_from(HOSTILE_PARTS) | st.text(max_size=5), min_size=1, max_size=8).map("".join)


def spec_tree(root: Path, description: str, label: str, name: str = "warehouse") -> Path:
    """The shared base specs plus one snowflake integration carrying the given free text."""
    import shutil

    shutil.copytree(CASES / "base" / "specs", root / "specs")
    integration = {
        "apiVersion": "sophia-iac/v1",
        "kind": "Integration",
        "metadata": {"name": name, "labels": {"team": label}},
        "spec": {
            "type": "snowflake",
            "description": description,
            "config": {
                "account": "ACME-DEMO",
                "database": {"name": "DEMO"},
                "warehouse": {"name": "DEMO_WH", "size": "XSMALL"},
                "serviceUser": {"name": "SVC", "defaultRole": "RW"},
            },
            "secrets": {
                "private-key": {"esc": "snowflake.privateKey", "rotation": "ninety-day", "description": description}
            },
            "overrides": {"production": {"config": {"warehouse": {"size": "SMALL"}}}},
        },
    }
    (root / "specs" / "integration.yaml").write_text(_yaml_doc(integration), encoding="utf-8")
    project = root / "specs" / "project.yaml"
    project.write_text(
        project.read_text().replace(
            "description: Minimal project shared by the test cases.", f"description: {yaml_scalar(description)}"
        )
    )
    return root / "specs"


def _yaml_doc(data: dict[str, Any]) -> str:
    return yaml_block(data).lstrip("\n") + "\n"


def compile_tree(specs: Path, out: Path) -> dict[str, str]:
    code, diagnostics = run_cli("compile", "--specs", str(specs), "--out", str(out))
    assert code == 0, diagnostics
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def skeleton(source: str) -> str:
    """The module's AST with every string constant blanked: its code, without its data."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def strings(source: str) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile.filter(lambda s: len(s) <= 1000), hostile.filter(lambda s: len(s) <= 256))
def test_hostile_free_text_reaches_python_only_as_equal_literals(description: str, label: str) -> None:
    assume(classify("description", description) is None and classify("team", label) is None)
    with tempfile.TemporaryDirectory() as tmp:
        base = compile_tree(spec_tree(Path(tmp) / "benign", "A plain description.", "data"), Path(tmp) / "out-benign")
        files = compile_tree(spec_tree(Path(tmp) / "hostile", description, label), Path(tmp) / "out-hostile")
    assert files.keys() == base.keys()
    module = "pulumi/__main__.py"  # where each integration's description and labels are listed
    assert {description, label} <= strings(files[module])
    for path, text in files.items():
        if path.endswith(".py"):
            assert skeleton(text) == skeleton(base[path]), path
    assert YAML(typ="safe").load(files["pulumi/Pulumi.yaml"])["description"] == description
    import yaml as pyyaml  # a YAML 1.1 parser must read the same value

    assert pyyaml.safe_load(files["pulumi/Pulumi.yaml"])["description"] == description


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True).filter(lambda n: not n.endswith("-"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names, st.text(max_size=80), st.text(max_size=40))
def test_valid_specs_compile_to_identical_bytes_twice(name: str, description: str, label: str) -> None:
    assume(classify("description", description) is None and classify("team", label) is None)
    with tempfile.TemporaryDirectory() as tmp:
        specs = spec_tree(Path(tmp), description, label, name)
        assert compile_tree(specs, Path(tmp) / "a") == compile_tree(specs, Path(tmp) / "b")


def test_bundled_specs_compile_identically_under_different_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        subprocess.run(
            [sys.executable, "-m", "compiler", "compile", "--specs", str(ROOT / "specs"), "--out", str(out)],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]


finite_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(finite_json)
def test_python_literals_read_back_equal_and_stay_within_the_width(value: Any) -> None:
    """``py`` writes a literal that evaluates back to the value: flat when it fits in 100 columns,
    else one item per line, indented by four, each line within 100 columns unless one scalar is longer."""
    text = py(value)
    assert same(ast.literal_eval(text), value)
    if len(repr(value)) <= 100 or not value or not isinstance(value, (dict, list)):
        assert text == repr(value)  # fits, or a scalar or empty collection: nothing to break
        return
    lines = text.splitlines()
    assert lines[0] in ("{", "[") and lines[-1] in ("}", "]")
    for line in lines[1:-1]:
        body = line.lstrip(" ")
        assert (len(line) - len(body)) % 4 == 0 and len(line) - len(body) >= 4
        if len(line) > 100:  # only an item too long to break: a scalar, or a key with an empty or scalar value
            item = body.rstrip(",")
            value_text = item.split(": ", 1)[1] if item.startswith(("'", '"')) and ": " in item else item
            # ...or a key too long on its own, whose collection opens at the end of its line and breaks.
            assert not value_text.startswith(("{", "[")) or value_text in ("{}", "[]", "{", "["), line


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


multi_line = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=2, max_size=5
)


@settings(max_examples=400, deadline=None)
@given(multi_line, st.integers(min_value=0, max_value=3))
def test_multi_line_text_reads_back_exactly_whether_written_as_a_block_or_quoted(lines: list[str], depth: int) -> None:
    """Multi-line text in generated YAML is a literal block (diffable line by line) wherever that reads back
    exactly, in both YAML parsers the project meets (PyYAML: 1.1, ruamel: 1.2), and quoted where it does not."""
    from ruamel.yaml import YAML

    text = "\n".join(lines)
    value: Any = {"x": text}
    for _ in range(depth):
        value = {"k": value}
    doc = "root:" + yaml_block(value, 2) + "\n"
    for parsed in (yaml.safe_load(doc), YAML(typ="safe").load(doc)):
        found = parsed["root"]
        for _ in range(depth):
            found = found["k"]
        assert found["x"] == text
