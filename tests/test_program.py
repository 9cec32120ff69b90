"""The generated Pulumi program, run by the real Pulumi SDK under mocks, for every environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.harness import HarnessError, StackRun, run_stack
from tests.conftest import Result, platform_generated, platform_model

MODEL = platform_model()
assert MODEL is not None
ENVIRONMENTS = [e.name for e in MODEL.environments]


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    """The committed generated/ (equal to compile output, see test_compile) run once per stack."""
    return {env: stack_run(env) for env in ENVIRONMENTS}


def components(run: StackRun) -> dict[str, dict]:
    return {r["name"]: r for r in run.resources if r["type"].startswith("sophia:")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_component_per_enabled_integration_and_pool(runs: dict[str, StackRun], env: str) -> None:
    assert MODEL is not None
    found = components(runs[env])
    integrations = {
        i.name: f"sophia:integrations:{i.type.component}" for i in MODEL.integrations if i.per_env[env].enabled
    }
    pools = {p.name: "sophia:gpu:LambdaLabsPool" for p in MODEL.gpu_pools if p.per_env[env].enabled}
    assert {name: r["type"] for name, r in found.items()} == integrations | pools
    assert runs[env].outputs == {"environment": env, "integrations": sorted(integrations), "gpuPools": sorted(pools)}


@pytest.mark.parametrize(
    "env, size, quota", [("development", "XSMALL", 50), ("staging", "SMALL", 100), ("production", "MEDIUM", 500)]
)
def test_per_environment_settings_reach_the_program(runs: dict[str, StackRun], env: str, size: str, quota: int) -> None:
    snowflake = components(runs[env])["snowflake"]["outputs"]["settings"]["config"]
    assert snowflake["warehouse"]["size"] == size
    assert snowflake["resourceMonitor"]["creditQuota"] == quota
    pool = components(runs[env])["inference"]["outputs"]["settings"]
    assert pool["maxCount"] == {"development": 1, "staging": 2, "production": 4}[env]


def test_components_are_children_of_the_stack(runs: dict[str, StackRun]) -> None:
    for run in runs.values():
        for resource in components(run).values():
            assert resource["parent"].endswith(f"pulumi:pulumi:Stack::sophia-ai-{run.stack}")


def unmarked_secrets(value: object, path: str = "") -> list[str]:
    """Paths where a secret's value appears without the secret marker around it."""
    if isinstance(value, dict):
        if set(value) == {"__secret__"}:
            return []
        return [p for k, v in value.items() for p in unmarked_secrets(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unmarked_secrets(v, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and "mock-secret" in value else []


@pytest.mark.parametrize("project", ["pulumi", "bootstrap"])
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_secret_value_stays_secret(stack_run: Callable[..., StackRun], env: str, project: str) -> None:
    """Every value that came from ESC reaches resources only as a secret, in inputs and outputs alike."""
    run = stack_run(env, project)
    for resource in run.resources:
        found = unmarked_secrets(resource["inputs"]) + unmarked_secrets(resource.get("outputs", {}))
        assert not found, f"{resource['name']}: plaintext secret at {found}"
    assert not unmarked_secrets(run.outputs)


def test_secret_names_are_outputs_never_values(runs: dict[str, StackRun]) -> None:
    snowflake = components(runs["production"])["snowflake"]["outputs"]
    # The program reads only what it authenticates or configures with; the service user's private
    # key is the application's, exported by ESC as an environment variable, never read by Pulumi.
    assert snowflake["secretNames"] == ["deployer-private-key", "service-public-key"]


def test_a_fresh_compile_runs_too(project: Callable[[Path | None], Path], cli: Callable[..., Result]) -> None:
    root = project(None)
    assert cli("compile").code == 0
    assert components(run_stack(root / "generated", "staging"))


def test_harness_fails_loudly_when_nothing_registers(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    (out / "pulumi").mkdir(parents=True)
    (out / "esc").mkdir()
    (out / "pulumi" / "Pulumi.yaml").write_text("name: empty\nruntime: python\n")
    (out / "pulumi" / "Pulumi.dev.yaml").write_text("config: {}\n")
    (out / "esc" / "dev.yaml").write_text("values: {}\n")
    (out / "pulumi" / "__main__.py").write_text("import pulumi\n")
    with pytest.raises(HarnessError, match="no resource was registered"):
        run_stack(out, "dev")


@pytest.mark.parametrize(
    "env, project", [(e, p) for p in ("pulumi", "bootstrap") for e in ("development", "staging", "production")]
)
def test_each_program_reads_exactly_the_secrets_its_esc_environment_maps(
    stack_run: Callable[..., StackRun], env: str, project: str
) -> None:
    """What the contract stage checks on the rendered files (E503), checked on the running program."""
    from ruamel.yaml import YAML

    suffix = "-bootstrap" if project == "bootstrap" else ""
    definition = YAML(typ="safe").load((platform_generated() / "esc" / f"{env}{suffix}.yaml").read_text())
    run = stack_run(env, project)
    assert sorted(run.secret_reads) == sorted(definition["values"]["pulumiConfig"])
    assert run.secret_reads  # the bootstrap always authenticates with something; so does Snowflake
