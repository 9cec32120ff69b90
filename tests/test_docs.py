"""generated/ARCHITECTURE.md: the diagram and inventory follow the specs; spec text cannot break out."""

from __future__ import annotations

import re

from compiler.targets.docs import markdown_cell, mermaid_text
from tests.conftest import platform_generated, platform_model

TEXT = (platform_generated() / "ARCHITECTURE.md").read_text()
MODEL = platform_model()


def test_every_integration_is_a_node_under_its_category() -> None:
    assert MODEL is not None
    for integration in MODEL.integrations:
        category = integration.type.category.replace("-", "_")
        node = re.search(rf"^    {category} --> i_{integration.module}\[\"(.*)\"\]$", TEXT, re.MULTILINE)
        assert node, integration.name
        assert f"{integration.type.title}: {integration.name}<br/>" in node.group(1)


def test_inventory_has_a_row_per_integration_with_its_secrets_and_policies() -> None:
    assert MODEL is not None
    rows = {line.split("|")[1].strip(): line for line in TEXT.splitlines() if line.startswith("| ")}
    for integration in MODEL.integrations:
        row = rows[integration.name]
        for secret in integration.secrets:
            assert f"`{secret.name}` ({secret.rotation}: every 90d," in row
    assert "| production | production | release | 1 | 333333333333 / us-east-1 | sophia-ai/production |" in TEXT


def test_spec_text_cannot_break_the_markdown_or_the_diagram() -> None:
    hostile = 'x"] --> evil["pwned\n| a | b |\n<script>`'
    assert mermaid_text(hostile) == "x#34;#93; --#62; evil#91;#34;pwned#10;#124; a #124; b #124;#10;#60;script#62;#96;"
    assert markdown_cell(hostile) == 'x"] --&gt; evil["pwned \\| a \\| b \\| &lt;script&gt;\''


def esc_paths(name: str) -> dict[str, set[str]]:
    """ESC environment -> the paths a generated ESC definition references in it."""
    text = (platform_generated() / "esc" / name).read_text()
    found: dict[str, set[str]] = {}
    for project, env, path in re.findall(r"\$\{environments\.([\w-]+)\.([\w-]+)\.([^}]+)\}", text):
        found.setdefault(f"{project}/{env}", set()).add(path)
    return found


def test_setup_lists_exactly_the_paths_the_generated_esc_environments_reference() -> None:
    setup = (platform_generated() / "SETUP.md").read_text()
    sections = []
    for env, body in re.findall(r"^### (\w+)\n(.*?)(?=^### |^## )", setup, re.M | re.S):
        (shared, shared_rows), (admin, admin_rows) = re.findall(
            r"^`([^`]+)`(?: \(admin only\))?:\n(.*?)(?=^`|\Z)", body, re.M | re.S
        )
        rows = [re.findall(r"^\| `([^`]+)` \| (.+) \|$", part, re.M) for part in (shared_rows, admin_rows)]
        assert all(users for part in rows for _, users in part)  # each path says what needs it
        shared_paths, admin_paths = (" ".join(f"`{p}`" for p, _ in part) for part in rows)
        sections.append((env, shared, shared_paths, admin, admin_paths))
    assert [s[0] for s in sections] == ["development", "staging", "production"]
    for env, shared, shared_paths, admin, admin_paths in sections:
        assert (shared, admin) == (f"payready/sophia-ai/{env}-secrets", f"payready/sophia-ai/{env}-bootstrap-secrets")
        referenced: dict[str, set[str]] = {}
        for name in (f"{env}.yaml", f"{env}-bootstrap.yaml"):
            for where, paths in esc_paths(name).items():
                referenced.setdefault(where, set()).update(paths)
        # What is rotated is put in the secrets environment first, by hand: the rotated environment imports it,
        # the ESC rotator starts from it.
        initial = set().union(*(referenced[f"sophia-ai/{env}-{e}"] for e in ("secrets", "rotated", "rotators")))
        assert set(re.findall(r"`([^`]+)`", shared_paths)) == initial
        assert set(re.findall(r"`([^`]+)`", admin_paths)) == referenced[f"sophia-ai/{env}-bootstrap-secrets"]
        # The pipeline opens the infrastructure one: it never reaches the admin-only environment.
        assert set(esc_paths(f"{env}.yaml")) == {f"sophia-ai/{env}-{e}" for e in ("secrets", "rotated", "rotators")}


def test_setup_applies_the_org_wide_bootstrap_stack_last() -> None:
    setup = (platform_generated() / "SETUP.md").read_text()
    order = re.findall(r"^pulumi up --stack payready/sophia-ai-bootstrap/(\w+)$", setup, re.M)
    assert order == ["development", "staging", "production"]
    config = (platform_generated() / "bootstrap" / "Pulumi.production.yaml").read_text()
    assert "orgWide: true" in config and "oidcIssuer:" in config
    for env in order[:-1]:
        assert "orgWide: false" in (platform_generated() / "bootstrap" / f"Pulumi.{env}.yaml").read_text()


def test_architecture_lists_every_gpu_pool_in_every_environment() -> None:
    section = TEXT[TEXT.index("## GPU pools") : TEXT.index("## Rotation policies")]
    for pool in MODEL.gpu_pools:
        for env, e in pool.per_env.items():
            row = f"| {pool.name} | {pool.integration} | {env} | {e.instance_type} | {e.min_count}–{e.max_count} |"
            assert row in section
