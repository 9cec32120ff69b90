"""A hostile pull request controls every file in the repository: each class of attack an adversarial review
found, tried with several members, ends in a located diagnostic, never a hang, a crash, a leak or a write
outside the output roots."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CASES, Result

MINIMAL = CASES / "valid" / "minimal"
TOKEN = "pat-na1-3f9a1c7e-2b8d-4f6a-9e5c-9b7d1a3f8e2c"


def fragments(secret: str) -> set[str]:
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


def shows(text: str, secret: str) -> bool:
    folded = text.lower().replace("-", "_")
    squeezed = re.sub(r"[-_.]", "", text.lower())
    return any(
        f.lower().replace("-", "_") in folded or re.sub(r"[-_.]", "", f.lower()) in squeezed
        for f in fragments(secret)
        if len(re.sub(r"[-_.]", "", f)) == 8
    )


def test_a_linked_specs_directory_is_refused_and_nothing_lands_beside_its_target(
    project: Callable[[Path], Path], cli: Callable[..., Result], tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    root = project(MINIMAL)
    (root / "specs").rename(elsewhere / "specs")
    (root / "specs").symlink_to(elsewhere / "specs")
    for command in (["validate"], ["compile"], ["compile", "--check"]):
        result = cli(*command)
        assert result.code == 1 and "error[E008]: specs is a symbolic link" in result.out, result.out
    assert sorted(p.name for p in elsewhere.iterdir()) == ["specs"]
    assert not (root / "generated").exists() and not (root / ".github").exists()


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_contract_diagnostics_are_redacted_too(
    project: Callable[[Path], Path], cli: Callable[..., Result], fmt: str
) -> None:
    root = project(MINIMAL)
    gong = root / "specs" / "gong.yaml"
    text = gong.read_text()
    # A secret named with a random-looking string, pointing at a bootstrap credential's ESC path: E503
    # (a contract, found after render) names both.
    name = "zx8kq2lm9pw4rt7yv3nb6hc1qa5"
    gong.write_text(text.replace("access-key: {esc: gong.accessKey,", f"{name}: {{esc: pulumi.accessToken,"))
    assert cli("validate").code == 0
    result = cli("compile", "--format", fmt)
    assert result.code == 1 and "E503" in result.out
    assert not shows(result.out + result.err, name), result.out


def test_names_derived_from_a_secret_are_redacted(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    root = project(MINIMAL)
    gong = root / "specs" / "gong.yaml"
    text = gong.read_text()
    gong.write_text(text.replace("access-key: {esc: gong.accessKey,", f"{TOKEN}: {{esc: gong.accessKey,"))
    twin = text.replace("name: gong\n", "name: gong-pat\n", 1)
    (root / "specs" / "gong-pat.yaml").write_text(
        twin.replace("access-key: {esc: gong.accessKey,", f"{TOKEN[4:]}: {{esc: gong.other,")
    )
    result = cli("validate")
    assert result.code == 1 and "E208" in result.out
    assert not shows(result.out, TOKEN[8:]), result.out


def test_a_document_that_never_loaded_leaks_no_credential(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(MINIMAL)
    key = "ghp_Zx8Kq2LmN4pR6tV9wY1bC3dF5gH7jK0mN2pQ"
    (root / "specs" / "bad.yaml").write_text(
        f"apiVersion: sophia-iac/v1\nkind: Integration\nmetadata:\n  name: x\n  labels:\n"
        f"    {key}: a\n    {key}: b\nwhen: !custom x\n"
    )
    result = cli("validate")
    assert result.code == 1 and "E005" in result.out
    assert not shows(result.out, key), result.out


@pytest.mark.parametrize(
    "where, value",
    [
        ("labels", "pul-" + "0123456789abcdef" * 2 + "01234567"),
        ("labels", TOKEN),
        ("description", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
        ("description", "Postgres://admin:pw@db.internal/x"),
        ("description", "redis://:hunter2hunter2@cache:6379"),
        ("description", "https://discord.com/api/webhooks/123456789012345678/" + "AbCdEf0123" * 3),
    ],
    ids=["pulumi-token-as-key", "hubspot-token-as-key", "hugging-face", "uppercase-scheme", "empty-user", "discord"],
)
def test_credentials_in_keys_and_more_formats_are_refused(
    project: Callable[[Path], Path], cli: Callable[..., Result], where: str, value: str
) -> None:
    root = project(MINIMAL)
    gong = root / "specs" / "gong.yaml"
    text = gong.read_text()
    if where == "labels":
        text = text.replace("metadata:\n  name: gong\n", f"metadata:\n  name: gong\n  labels:\n    {value}: x\n")
    else:
        text = text.replace("description: Gong call analysis.", f"description: {json.dumps(value)}")
    gong.write_text(text)
    result = cli("validate")
    assert result.code == 1 and "error[E301]" in result.out, result.out
    assert not shows(result.out, value)


@pytest.mark.parametrize(
    "make",
    [
        lambda g: (os.remove(g / ".sophia-iac-manifest.json"), os.mkfifo(g / ".sophia-iac-manifest.json")),
        lambda g: (os.remove(g / "pulumi" / "Pulumi.yaml"), os.mkfifo(g / "pulumi" / "Pulumi.yaml")),
        lambda g: (
            os.remove(g / ".sophia-iac-manifest.json"),
            (g / ".sophia-iac-manifest.json").symlink_to("/dev/zero"),
        ),
        lambda g: (g / ".sophia-iac-manifest.json").write_text("[1, 2]"),
        lambda g: (g / ".sophia-iac-manifest.json").write_text('"x"'),
        lambda g: (g / ".sophia-iac-manifest.json").write_text("[" * 100_000),
        lambda g: (g / ".sophia-iac-manifest.json").write_text(json.dumps({"files": {"a\u0000b": "0" * 64}})),
    ],
    ids=["fifo-manifest", "fifo-output", "manifest-to-dev-zero", "list", "string", "deep", "nul-entry"],
)
def test_a_hostile_output_tree_never_hangs_or_crashes(
    project: Callable[[Path], Path], cli: Callable[..., Result], make: Callable[[Path], object]
) -> None:
    root = project(MINIMAL)
    assert cli("compile").code == 0
    make(root / "generated")
    for command in (["compile", "--check"], ["compile"]):
        result = cli(*command)
        assert result.code in (0, 1), result.out + result.err
        assert "internal error" not in result.err


@pytest.mark.parametrize(
    "text, code",
    [
        ("x: " + "9" * 5000 + "\n", "E108"),
        ("a: " + "[" * 30_000 + "]" * 30_000 + "\n", "E007"),
        ("a: " + "{b: " * 70 + "1" + "}" * 70 + "\n", "E007"),
    ],
    ids=["5000-digits", "30000-brackets", "70-braces"],
)
def test_pathological_yaml_is_a_diagnostic(
    project: Callable[[Path], Path], cli: Callable[..., Result], text: str, code: str
) -> None:
    root = project(MINIMAL)
    (root / "specs" / "evil.yaml").write_text(text)
    result = cli("validate")
    assert result.code == 1 and f"error[{code}]" in result.out, result.out + result.err


def test_a_loop_of_links_is_a_diagnostic(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    root = project(MINIMAL)
    (root / "specs" / "a.yaml").symlink_to("b.yaml")
    (root / "specs" / "b.yaml").symlink_to("a.yaml")
    result = cli("validate")
    assert result.code == 1 and "a loop of symbolic links" in result.out


def test_no_spec_or_manifest_text_starts_a_line_of_its_own(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(MINIMAL)
    assert cli("compile").code == 0
    manifest = root / "generated" / ".sophia-iac-manifest.json"
    data = json.loads(manifest.read_text())
    evil = "x\n::error title=PWNED::gotcha"
    data["files"][evil] = "0" * 64
    manifest.write_text(json.dumps(data))
    gong = root / "specs" / "gong.yaml"
    gong.write_text(gong.read_text().replace("  config:\n", '  "bad\\n::warning::key": 1\n  config:\n', 1))
    for command in (["validate"], ["compile", "--check"], ["compile"]):
        result = cli(*command)
        lines = (result.out + result.err).splitlines()
        assert not [line for line in lines if line.startswith("::")], result.out + result.err


def test_workflows_cannot_be_written_into_git(project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    root = project(MINIMAL)
    spec = root / "specs" / "project.yaml"
    text = spec.read_text()
    spec.write_text(
        text.replace("    repository: acme/demo\n", "    repository: acme/demo\n    workflowsDirectory: .git/hooks\n")
    )
    result = cli("compile")
    assert result.code == 1 and "E1" in result.out
    assert not (root / ".git").exists()
