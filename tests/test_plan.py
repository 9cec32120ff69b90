"""`sophia-iac plan`: the offline resource tree, and --diff showing exactly what a spec change does."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

WAREHOUSE = "snowflake:index/warehouse:Warehouse"


def resize_production_warehouse(specs: Path) -> None:
    spec = specs / "integrations" / "snowflake.yaml"
    text = spec.read_text()
    assert text.count("size: MEDIUM") == 1
    spec.write_text(text.replace("size: MEDIUM", "size: LARGE"))


@pytest.fixture(scope="module")
def production_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from compiler.cli import main
    from tests.conftest import ROOT

    out = tmp_path_factory.mktemp("plan") / "plan.json"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["plan", "--specs", str(ROOT / "specs"), "--env", "production", "--format", "json"]) == 0
    out.write_text(buffer.getvalue())
    return json.loads(buffer.getvalue())


def test_plan_lists_both_projects_with_secrets_masked(production_json: dict) -> None:
    resources = production_json["resources"]
    projects = {r["project"] for r in resources}
    assert projects == {"infrastructure", "bootstrap"}
    assert any(r["type"] == WAREHOUSE for r in resources)
    text = json.dumps(production_json)
    assert "mock-secret" not in text and "[secret]" in text


def test_plan_text_is_a_tree_with_counts(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    project(None)
    result = cli("plan", "--env", "staging", "--project", "pulumi")
    assert result.code == 0, result.err
    assert result.out.startswith("infrastructure stack 'staging': ")
    assert "\n  snowflake  (sophia:integrations:Snowflake)\n    snowflake." in result.out
    assert "Resources by type:" in result.out and "mock-secret" not in result.out


def test_diff_against_a_directory_shows_exactly_the_resize(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    shutil.copytree(root / "specs", root / "before")
    resize_production_warehouse(root / "specs")
    result = cli("plan", "--env", "production", "--diff", "before", "--format", "json")
    assert result.code == 0, result.err
    diff = json.loads(result.out)["diff"]
    assert diff["added"] == [] and diff["removed"] == []
    assert len(diff["changed"]) == 1
    change = diff["changed"][0]
    assert change["urn"].endswith(f"{WAREHOUSE}::snowflake.warehouse")
    assert change["inputs"] == {"warehouseSize": {"before": "MEDIUM", "after": "LARGE"}}


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "PATH": "/usr/bin:/bin",
}


def commit_base(root: Path) -> None:
    """Commit the specs together with a copy of this compiler: the base a pull request is planned against."""
    from tests.conftest import ROOT

    for part in ("compiler", "schema", "templates"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    for args in (["init", "-q"], ["add", "specs", "compiler", "schema", "templates"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True)


def test_diff_against_a_git_ref_in_text_and_markdown(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    commit_base(root)
    resize_production_warehouse(root / "specs")
    text = cli("plan", "--env", "production", "--project", "pulumi", "--diff", "HEAD")
    assert text.code == 0, text.err
    assert text.out.endswith("0 to add, 1 to change, 0 to remove\n")
    assert '    warehouseSize: "MEDIUM" -> "LARGE"\n' in text.out
    markdown = cli("plan", "--env", "production", "--project", "pulumi", "--diff", "HEAD", "--format", "markdown")
    assert "**0 to add, 1 to change, 0 to remove**" in markdown.out
    assert '- warehouseSize: "MEDIUM"\n+ warehouseSize: "LARGE"' in markdown.out
    assert cli("plan", "--env", "production", "--diff", "no-such-ref").code == 2


def test_a_git_base_is_planned_by_the_compiler_committed_there(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    # The base's compiler renders Snowflake warehouses 60 seconds quicker to suspend than this one.
    commit_base(root)
    template = root / "compiler" / "integrations" / "snowflake" / "deploy.py"
    text, line = template.read_text(), 'auto_suspend=wh.get("autoSuspendSeconds", 60)'
    assert text.count(line) == 1
    template.write_text(text.replace(line, line + " - 60"))
    subprocess.run(["git", "commit", "-qam", "base compiler differs"], cwd=root, env=GIT_ENV, check=True)
    result = cli("plan", "--env", "production", "--project", "pulumi", "--diff", "HEAD", "--format", "json")
    assert result.code == 0, result.err
    changed = json.loads(result.out)["diff"]["changed"]
    assert [c["inputs"] for c in changed] == [{"autoSuspend": {"before": 240, "after": 300}}]


def test_a_base_that_cannot_be_planned_is_said_so_not_fatal(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    commit_base(root)
    (root / "compiler" / "__main__.py").write_text("raise SystemExit('this base needs a newer schema')\n")
    subprocess.run(["git", "commit", "-qam", "broken base"], cwd=root, env=GIT_ENV, check=True)
    result = cli("plan", "--env", "staging", "--project", "pulumi", "--diff", "HEAD", "--format", "markdown")
    assert result.code == 0, result.err
    assert "> **Not compared with the base:** the compiler at the base cannot plan it: this base needs a newer" in (
        result.out
    )
    assert "resources in the stack after this change" not in result.out and "resources in stack `staging`" in result.out


def test_an_empty_base_adds_everything(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    root = project(None)
    integrations = root / "specs" / "integrations"
    shutil.move(integrations, root / "later")
    (root / "specs" / "gpu-pools.yaml").rename(root / "later" / "gpu-pools.yaml")
    commit_base(root)
    shutil.move(root / "later", integrations)
    result = cli("plan", "--env", "staging", "--diff", "HEAD", "--format", "json")
    assert result.code == 0, result.err
    diff = json.loads(result.out)["diff"]
    assert diff["removed"] == [] and diff["changed"] == []
    assert len(diff["added"]) == len(json.loads(result.out)["resources"]) > 50


def test_disabling_an_integration_removes_its_resources(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    shutil.copytree(root / "specs", root / "before")
    spec = root / "specs" / "integrations" / "gong.yaml"
    spec.write_text(spec.read_text().replace("spec:\n  type: gong\n", "spec:\n  type: gong\n  enabled: false\n", 1))
    result = cli("plan", "--env", "development", "--project", "pulumi", "--diff", "before")
    assert result.code == 0, result.err
    assert "- gong  (sophia:integrations:Gong, infrastructure)" in result.out
    assert result.out.endswith("0 to add, 0 to change, 1 to remove\n")


def test_plan_shows_each_gpu_pool_its_instances_regions_and_cost(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    project(None)
    text = cli("plan", "--env", "production", "--project", "pulumi")
    assert text.code == 0, text.err
    pools = text.out[text.out.index("GPU pools:") :].split("\n\n")[0].splitlines()
    assert pools == [
        "GPU pools:",
        "  inference: 1 x gpu_1x_a100_sxm4 (maxCount 4): inference-production-0",
        "    regions, tried in order: us-east-1, us-west-2, us-south-1",
        "    hourly cost: $1.29/h at the declared $1.29/h ($5.16/h at maxCount); budget $6.00/h",
    ]
    data = json.loads(cli("plan", "--env", "staging", "--project", "pulumi", "--format", "json").out)
    (pool,) = data["gpuPools"]
    assert (pool["instances"], pool["maxCount"], pool["regionOrder"], pool["hourlyCostUsd"]) == (
        [],
        2,
        ["us-east-1", "us-west-1"],
        0.0,
    )
    bootstrap = json.loads(cli("plan", "--env", "staging", "--project", "bootstrap", "--format", "json").out)
    assert bootstrap["gpuPools"] == []  # pools run in the infrastructure project only


@pytest.mark.parametrize(
    "file, before, after, resource, changed",
    [
        ("portkey.yaml", "budgetUsd: 2000\n", "budgetUsd: 2500\n", "portkey.provider.anthropic-main", "budget_usd"),
        ("openrouter.yaml", "monthlyBudgetUsd: 1500\n", "monthlyBudgetUsd: 1200\n", "openrouter.key-limit", "limit"),
        (
            "airbyte.yaml",
            'schedule: "0 * * * *"\n',
            'schedule: "0 */3 * * *"\n',
            "airbyte.connection.hubspot-to-snowflake",
            "schedule",
        ),
        ("estuary.yaml", "interval: 5m\n", "interval: 10m\n", "estuary.catalog", "triggers"),
    ],
)
def test_a_service_config_edit_shows_in_the_diff_as_its_resource_changing(
    project: Callable[[Path | None], Path],
    cli: Callable[..., Result],
    file: str,
    before: str,
    after: str,
    resource: str,
    changed: str,
) -> None:
    """Portkey, OpenRouter, Airbyte and Estuary config reaches real resources: an edit to the production
    config changes exactly that resource in `plan --diff`."""
    root = project(None)
    shutil.copytree(root / "specs", root / "before")
    spec = root / "specs" / "integrations" / file
    text = spec.read_text()
    assert text.count(before) == 1
    spec.write_text(text.replace(before, after))
    result = cli("plan", "--env", "production", "--project", "pulumi", "--diff", "before", "--format", "json")
    assert result.code == 0, result.err
    diff = json.loads(result.out)["diff"]
    assert diff["added"] == [] and diff["removed"] == []
    assert [c["urn"].rsplit("::", 1)[1] for c in diff["changed"]] == [resource]
    assert list(diff["changed"][0]["inputs"]) == [changed]


def bundled_base(root: Path) -> Path:
    """The Sophia specs committed with this compiler, as a pull request's base."""
    from tests.conftest import ROOT

    shutil.rmtree(root / "specs")
    shutil.copytree(ROOT / "specs", root / "specs")
    commit_base(root)
    return root / "specs"


NINETY_DAY = "  name: ninety-day\nspec:\n  description: The strategy's rule - every credential is rotated at least"
NINETY_DAY += " every 90 days.\n  interval: "


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("what", "change", "shown"),
    [
        (
            "a production budget",
            ("integrations/openrouter.yaml", "monthlyBudgetUsd: 1500", "monthlyBudgetUsd: 2000"),
            [
                "| ~ | `openrouter.key-limit` |",
                "+ limit: 2000",
                "openrouter.config.monthlyBudgetUsd` | `1500` | `2000` |",
            ],
        ),
        (
            "a rotation interval",
            (
                "rotation-policies.yaml",
                NINETY_DAY + "90d",
                NINETY_DAY + "60d",
            ),
            ["`pulumi-esc.rotators.schedule`", "`generated/ARCHITECTURE.md`"],
        ),
        (
            "a new secret",
            (
                "integrations/portkey.yaml",
                "  secrets:\n",
                "  secrets:\n    webhook-secret:\n      esc: portkey.webhookSecret\n"
                "      rotation: ninety-day-manual\n",
            ),
            ["<summary><code>generated/esc/production.yaml</code></summary>", "+    PORTKEY_WEBHOOK_SECRET: "],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_effect_of_a_spec_change_is_in_the_pull_request_comment(
    what: str,
    change: tuple[str, str, str],
    shown: list[str],
    project: Callable[[Path | None], Path],
    cli: Callable[..., Result],
) -> None:
    specs = bundled_base(project(None))
    file, old, new = change
    edit(specs / file, old, new)
    result = cli("plan", "--env", "production", "--diff", "HEAD", "--format", "markdown")
    assert result.code == 0, result.err
    for text in shown:
        assert text in result.out, f"{what}: {text!r} not in\n{result.out}"
    assert not result.out.startswith("**sophia-iac plan")  # something changed
    # Untouched, the plan says so in one line.
    edit(specs / file, new, old)
    quiet = cli("plan", "--env", "production", "--diff", "HEAD", "--format", "markdown")
    assert quiet.out == "**sophia-iac plan, `production`:** nothing changes.\n"


def test_a_repository_without_the_compiler_plans_its_base_with_the_installed_one(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    for args in (["init", "-q"], ["add", "specs"], ["commit", "-qm", "base"]):  # specs only: a user's repository
        subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True)
    resize_production_warehouse(root / "specs")
    result = cli("plan", "--env", "production", "--project", "pulumi", "--diff", "HEAD", "--format", "markdown")
    assert result.code == 0, result.err
    assert "Not compared with the base" not in result.out
    assert "**0 to add, 1 to change, 0 to remove**" in result.out and "+ warehouseSize: " in result.out


def test_spec_text_cannot_close_the_comment_s_code_blocks() -> None:
    from compiler.effects import Effects
    from compiler.plan import Diff, format_markdown

    hostile = ['+    X: "```\\n**approved**"', "-    Y: ````"]
    esc = [("generated/esc/production.yaml", hostile)]
    text = format_markdown([], Diff(), "production", effects=Effects(esc=esc))
    fence = "`````"  # longer than the longest run of backticks inside
    assert f"{fence}diff\n{hostile[0]}\n{hostile[1]}\n{fence}\n" in text


def test_a_directory_named_like_the_base_commit_does_not_replace_it(
    project: Callable[[Path | None], Path], cli: Callable[..., Result]
) -> None:
    root = project(None)
    commit_base(root)
    resize_production_warehouse(root / "specs")
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout
    shutil.copytree(root / "specs", root / sha.strip())  # the head's specs, planted as "the base"
    result = cli("plan", "--env", "production", "--project", "pulumi", "--diff", sha.strip(), "--format", "markdown")
    assert result.code == 0, result.err
    assert "**0 to add, 1 to change, 0 to remove**" in result.out  # compared with the commit, not the directory


def test_two_long_values_that_differ_late_never_read_the_same() -> None:
    from compiler.plan import _pair

    before = {"Statement": [{"Condition": {"sub": "repo:payready/sophia-ai:environment:production"}}]}
    after = {"Statement": [{"Condition": {"sub": "repo:payready/sophia-ai2:environment:production"}}]}
    shown = _pair(before, after)
    assert shown[0] != shown[1] and "sophia-ai2" in shown[1]
    assert _pair(1500, 2000) == ("1500", "2000")


def test_a_file_put_by_hand_beside_the_output_is_not_reported_removed(tmp_path: Path) -> None:
    from compiler.effects import committed

    out = tmp_path / "generated"
    out.mkdir()
    (out / "ARCHITECTURE.md").write_text("owned\n")
    (out / "notes.md").write_text("someone's own file\n")
    (out / ".sophia-iac-manifest.json").write_text(json.dumps({"files": {"ARCHITECTURE.md": "x"}}))
    assert committed(tmp_path, ".github/workflows") == {"generated/ARCHITECTURE.md": "owned\n"}
