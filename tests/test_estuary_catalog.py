"""Estuary: the Flow catalog each environment renders, its shape check, and publish.py against a fake flowctl."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler.harness import StackRun, secret_value
from compiler.integrations.estuary import catalog
from compiler.integrations.estuary import deploy as estuary_deploy
from compiler.load import load_file
from compiler.model import thaw
from compiler.resolve import effective_spec
from tests.conftest import platform_generated, platform_model

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compiler" / "integrations" / "estuary"
PUBLISH = PACKAGE / "publish.py"
FAKE = ROOT / "tests" / "fakes" / "flowctl.py"
SCHEMA = json.loads((PACKAGE / "catalog.schema.json").read_text(encoding="utf-8"))
SHAPE = Draft202012Validator(SCHEMA)
ENVIRONMENTS = ("development", "staging", "production")
TOKEN = base64.b64encode(json.dumps({"id": "0a:1b", "secret": "refresh-secret-value"}).encode()).decode()
HUBSPOT = {"credentials": {"credentials_title": "Private App Credentials", "access_token": "pat-na1-hubspot-secret"}}
SNOWFLAKE = {
    "host": "org-acct.snowflakecomputing.com",
    "database": "SOPHIA",
    "credentials": {"auth_type": "jwt", "user": "FLOW", "privateKey": "-----BEGIN PRIVATE KEY-----xyz"},
    "syncSchedule": {"syncFrequency": "4h", "timezone": "UTC"},
}


def bundled(env: str) -> dict[str, Any]:
    docs, diagnostics = load_file(ROOT / "specs" / "integrations" / "estuary.yaml")
    assert not diagnostics
    config: dict[str, Any] = effective_spec(docs[0], env)["config"]
    return config


def platform(env: str) -> dict[str, Any]:
    """The platform fixture's estuary config in ``env`` (what platform_generated() compiled)."""
    found = next(i for i in platform_model().integrations if i.type.name == "estuary")
    return dict(thaw(found.per_env[env].config))


def config(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenant": "acme",
        "prefix": "sophia/dev",
        "captures": [{"name": "source-hubspot", "connector": "ghcr.io/estuary/source-hubspot-native:dev"}],
        "materializations": [
            {"name": "materialize-snowflake", "connector": "ghcr.io/estuary/materialize-snowflake:v3"}
        ],
    }
    return {**base, **changes}


# --- rendering ----------------------------------------------------------------------------------


def test_the_development_catalog_names_config_files_and_follows_its_capture() -> None:
    assert catalog.catalog(bundled("development")) == {
        "captures": {
            "payready/sophia/dev/source-hubspot": {
                "autoDiscover": {"addNewBindings": True, "evolveIncompatibleCollections": True},
                "bindings": [],
                "endpoint": {
                    "connector": {
                        "config": "source-hubspot.config.json",
                        "image": "ghcr.io/estuary/source-hubspot-native:dev",
                    }
                },
                "interval": "15m",
            }
        },
        "materializations": {
            "payready/sophia/dev/materialize-snowflake": {
                "bindings": [],
                "endpoint": {
                    "connector": {
                        "config": "materialize-snowflake.config.json",
                        "image": "ghcr.io/estuary/materialize-snowflake:dev",
                    }
                },
                "sourceCapture": "payready/sophia/dev/source-hubspot",
            }
        },
    }


def test_each_environment_publishes_under_its_prefix_with_its_own_schedule() -> None:
    manifests = {env: catalog.manifest(bundled(env)) for env in ENVIRONMENTS}
    assert manifests["production"] == {
        "catalog": "flow.yaml",
        "dataPlane": "ops/dp/public/aws-us-east-1-c1",
        "endpoints": [
            {
                "env": "ESTUARY_ENDPOINT_MATERIALIZE_SNOWFLAKE",
                "file": "materialize-snowflake.config.json",
                "settings": {"syncSchedule": {"syncFrequency": "30m"}},
            },
            {"env": "ESTUARY_ENDPOINT_SOURCE_HUBSPOT", "file": "source-hubspot.config.json", "settings": {}},
        ],
        "tasks": ["payready/sophia/prod/materialize-snowflake", "payready/sophia/prod/source-hubspot"],
    }
    assert manifests["staging"]["tasks"] == [
        "payready/sophia/staging/materialize-snowflake",
        "payready/sophia/staging/source-hubspot",
    ]
    assert manifests["development"]["endpoints"][0]["settings"] == {"syncSchedule": {"syncFrequency": "2h"}}
    assert catalog.catalog(bundled("production"))["captures"]["payready/sophia/prod/source-hubspot"]["interval"] == "5m"


def test_the_compiled_catalog_is_the_rendered_one_as_reviewable_text() -> None:
    """compile renders each environment's catalog into the project: flow.yaml as YAML (with the
    generated-file header), publish.json as sorted JSON, both exactly the catalog module's content."""
    for env in ENVIRONMENTS:
        folder = platform_generated() / "pulumi" / "files" / "estuary" / env
        assert sorted(p.name for p in folder.iterdir()) == ["flow.yaml", "publish.json"]
        flow = (folder / "flow.yaml").read_text(encoding="utf-8")
        assert flow.startswith("# Generated by sophia-iac.")
        assert yaml.safe_load(flow) == catalog.catalog(platform(env))
        manifest = (folder / "publish.json").read_text(encoding="utf-8")
        assert {k: v for k, v in json.loads(manifest).items() if k != "//"} == catalog.manifest(platform(env))
        assert manifest == json.dumps(json.loads(manifest), indent=2, sort_keys=True) + "\n"


def test_defaults_durations_and_chosen_files() -> None:
    cfg = config(
        captures=[{"name": "crm/hubspot", "connector": "ghcr.io/estuary/source-hubspot-native:dev", "interval": "1w"}],
        materializations=[
            {"name": "wh", "connector": "ghcr.io/estuary/materialize-snowflake:v3", "syncFrequency": "120m"}
        ],
    )
    rendered = catalog.catalog(cfg, {"wh": "warehouse.json"})
    capture = rendered["captures"]["acme/sophia/dev/crm/hubspot"]
    assert capture["interval"] == "7d"  # Flow durations stop at days
    assert capture["endpoint"]["connector"]["config"] == "crm--hubspot.config.json"
    assert rendered["materializations"]["acme/sophia/dev/wh"]["endpoint"]["connector"]["config"] == "warehouse.json"
    manifest = catalog.manifest(cfg, {"wh": "warehouse.json"})
    assert manifest["dataPlane"] == "ops/dp/public/gcp-us-central1-c1"  # flowctl's own default
    assert manifest["endpoints"][1] == {
        "env": "ESTUARY_ENDPOINT_WH",
        "file": "warehouse.json",
        "settings": {"syncSchedule": {"syncFrequency": "2h"}},  # the connector's spelling of 120m
    }
    assert "interval" not in catalog.catalog(config())["captures"]["acme/sophia/dev/source-hubspot"]


# --- the shape check ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_bundled_environments_render_flows_documented_shape(env: str) -> None:
    assert list(SHAPE.iter_errors(catalog.catalog(bundled(env)))) == []
    assert catalog.problems(bundled(env), SHAPE.iter_errors) == []


def _broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    rendered = catalog.catalog(bundled("development"))
    change(rendered)
    return rendered


CAPTURE = "payready/sophia/dev/source-hubspot"
MATERIALIZATION = "payready/sophia/dev/materialize-snowflake"
BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown capture field": lambda c: c["captures"][CAPTURE].update(syncFrequency="2h"),
    "no bindings": lambda c: c["captures"][CAPTURE].pop("bindings"),
    "weeks are no Flow duration": lambda c: c["captures"][CAPTURE].update(interval="1w"),
    "endpoint without connector": lambda c: c["captures"][CAPTURE].update(
        endpoint={"image": "x:y", "config": "a.json"}
    ),
    "absolute config path": lambda c: c["materializations"][MATERIALIZATION]["endpoint"]["connector"].update(
        config="/etc/secrets.json"
    ),
    "config escaping the catalog": lambda c: c["materializations"][MATERIALIZATION]["endpoint"]["connector"].update(
        config="../x.json"
    ),
    "inline credentials": lambda c: c["captures"][CAPTURE]["endpoint"]["connector"].update(config={"token": "t"}),
    "image without tag": lambda c: c["captures"][CAPTURE]["endpoint"]["connector"].update(image="ghcr.io/estuary/x"),
    "name without tenant": lambda c: c.update(captures={"source-hubspot": c["captures"].pop(CAPTURE)}),
    "unknown top-level key": lambda c: c.update(dataPlane="ops/dp/public/aws-us-east-1-c1"),
    "unknown autoDiscover option": lambda c: c["captures"][CAPTURE]["autoDiscover"].update(everything=True),
    "source capture not a name": lambda c: c["materializations"][MATERIALIZATION].update(sourceCapture=["a/b/c"]),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=list(BROKEN))
def test_a_wrong_shape_fails_the_check(change: Callable[[dict[str, Any]], None]) -> None:
    assert list(SHAPE.iter_errors(_broken(change)))


def test_a_shape_problem_is_located_at_the_task_in_the_spec() -> None:
    cfg = config(captures=[{"name": ".hidden", "connector": "ghcr.io/estuary/source-hubspot-native:dev"}])
    found = catalog.problems(cfg, SHAPE.iter_errors)
    assert [where for where, _ in found] == [("captures", 0)]
    assert "breaks Flow's documented shape at captures.acme/sophia/dev/.hidden" in found[0][1]


# --- what Estuary would refuse -------------------------------------------------------------------


def test_a_materialization_follows_exactly_one_capture() -> None:
    two = config(
        captures=[
            {"name": "a", "connector": "ghcr.io/estuary/source-hubspot-native:dev"},
            {"name": "b", "connector": "ghcr.io/estuary/source-postgres:dev"},
        ]
    )
    assert catalog.problems(two) == [
        (
            ("materializations", 0, "name"),
            "materialization 'materialize-snowflake' has no capture to follow: "
            "sourceCapture names one capture and this environment has 2: a, b",
        )
    ]
    assert "sourceCapture" not in catalog.catalog(two)["materializations"]["acme/sophia/dev/materialize-snowflake"]
    none = catalog.problems(config(captures=[]))
    assert [where for where, _ in none] == [("materializations", 0, "name")]
    assert "there is none" in none[0][1]
    assert catalog.problems(config(materializations=[], captures=[])) == []


def test_sync_frequencies_are_the_connectors_choices() -> None:
    odd = config(
        materializations=[
            {"name": "wh", "connector": "ghcr.io/estuary/materialize-snowflake:v3", "syncFrequency": "10m"}
        ]
    )
    assert catalog.problems(odd) == [
        (
            ("materializations", 0, "syncFrequency"),
            "syncFrequency 10m is not one the connector offers (0s, 30s, 5m, 15m, 30m, 1h, 2h, 4h)",
        )
    ]


def test_task_names_files_and_variables_are_unique_across_kinds() -> None:
    clash = config(
        captures=[
            {"name": "shared", "connector": "ghcr.io/estuary/source-hubspot-native:dev"},
            {"name": "a-b", "connector": "ghcr.io/estuary/source-hubspot-native:dev"},
            {"name": "a_b", "connector": "ghcr.io/estuary/source-hubspot-native:dev"},
        ],
        materializations=[],
    )
    clash["materializations"] = [{"name": "shared", "connector": "ghcr.io/estuary/materialize-snowflake:v3"}]
    found = [p for p in catalog.problems(clash) if "the same" in p[1]]
    assert [where for where, _ in found] == [("captures", 2, "name"), ("materializations", 0, "name")]
    assert "same environment variable as 'a-b' (ESTUARY_ENDPOINT_A_B)" in found[0][1]
    assert "same name as 'shared'" in found[1][1]


# --- publish.py against the fake flowctl ---------------------------------------------------------


class Flowctl:
    """The fake flowctl on PATH, its state file, and a rendered catalog directory."""

    def __init__(self, tmp: Path) -> None:
        self.bin = tmp / "bin"
        self.bin.mkdir()
        wrapper = self.bin / "flowctl"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
        wrapper.chmod(0o755)
        self.state_file = tmp / "flowctl-state.json"
        self.state: dict[str, Any] = {"tokens": {"0a:1b": "refresh-secret-value"}, "live": {}, "fail": []}
        self.save()
        self.catalog_dir = tmp / "catalog"
        self.catalog_dir.mkdir()
        compiled = platform_generated() / "pulumi" / "files" / "estuary" / "production"
        for path in compiled.iterdir():  # the catalog as compile renders it
            (self.catalog_dir / path.name).write_text(path.read_text(encoding="utf-8"))
        self.env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_FLOWCTL_STATE": str(self.state_file),
            "HOME": str(tmp / "real-home"),
            "ESTUARY_REFRESH_TOKEN": TOKEN,
            "ESTUARY_ENDPOINT_SOURCE_HUBSPOT": json.dumps(HUBSPOT),
            "ESTUARY_ENDPOINT_MATERIALIZE_SNOWFLAKE": json.dumps(SNOWFLAKE),
            "TMPDIR": str(tmp / "private"),
        }
        (tmp / "private").mkdir()

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state))

    def load(self) -> dict[str, Any]:
        self.state = json.loads(self.state_file.read_text())
        return self.state

    def run(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        merged = {**self.env, **env}
        environment = {k: v for k, v in merged.items() if v is not None}
        return subprocess.run(
            [sys.executable, str(PUBLISH), *args, str(self.catalog_dir)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def leftovers(self) -> list[Path]:
        return list(Path(self.env["TMPDIR"]).iterdir())


@pytest.fixture
def flowctl(tmp_path: Path) -> Flowctl:
    return Flowctl(tmp_path)


def _no_secret_in(flowctl: Flowctl, *texts: str) -> None:
    calls = flowctl.load()["calls"]
    for text in [*texts, *(" ".join(c["argv"]) for c in calls)]:
        for secret in (TOKEN, "refresh-secret-value", "pat-na1-hubspot-secret", "BEGIN PRIVATE KEY"):
            assert secret not in text


def test_publish_writes_private_configs_authenticates_by_environment_and_cleans_up(flowctl: Flowctl) -> None:
    done = flowctl.run()
    assert done.returncode == 0, done.stderr
    assert "Publish successful" in done.stdout
    (call,) = flowctl.load()["calls"]
    source = call["argv"][3]
    assert call["argv"] == [
        "catalog",
        "publish",
        "--source",
        source,
        "--auto-approve",
        "--default-data-plane",
        "ops/dp/public/aws-us-east-1-c1",
    ]
    assert Path(source).name == "flow.yaml" and Path(source).parent != flowctl.catalog_dir
    endpoints = call["endpoints"]
    assert endpoints["source-hubspot.config.json"]["content"] == HUBSPOT
    snowflake = endpoints["materialize-snowflake.config.json"]["content"]
    assert snowflake["syncSchedule"] == {"syncFrequency": "30m", "timezone": "UTC"}  # the spec's schedule wins
    assert snowflake["credentials"] == SNOWFLAKE["credentials"]
    assert {e["file_mode"] for e in endpoints.values()} == {0o600}
    assert {e["dir_mode"] for e in endpoints.values()} == {0o700}
    # The token reaches flowctl only as FLOW_AUTH_TOKEN, with a private home; the configs not at all.
    assert "FLOW_AUTH_TOKEN" in call["env"]
    assert not [name for name in call["env"] if name.startswith("ESTUARY_")]
    assert call["home"] != flowctl.env["HOME"]
    assert flowctl.leftovers() == []  # the staged configs and flowctl's written-back config are gone
    assert sorted(flowctl.state["live"]) == [
        "payready/sophia/prod/materialize-snowflake",
        "payready/sophia/prod/source-hubspot",
    ]
    assert not list(flowctl.catalog_dir.glob("*.config.json"))
    _no_secret_in(flowctl, done.stdout, done.stderr)


def test_a_failed_publish_exits_non_zero_clearly_and_still_cleans_up(flowctl: Flowctl) -> None:
    flowctl.state["fail"] = [{"command": "publish", "code": 3, "stderr": "Error: Publish failed: validation errors"}]
    flowctl.state["echo_secrets"] = True
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 1
    assert done.stderr.endswith(
        "estuary: flowctl catalog publish failed with exit code 3: Error: Publish failed: validation errors\n"
    )
    assert "********" in done.stderr  # what flowctl echoed is masked
    assert flowctl.leftovers() == []
    assert flowctl.load()["live"] == {}
    _no_secret_in(flowctl, done.stdout, done.stderr)


def test_flowctl_echoing_the_token_and_configs_is_masked(flowctl: Flowctl) -> None:
    flowctl.state["echo_secrets"] = True
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 0
    assert "debug: FLOW_AUTH_TOKEN=********" in done.stderr
    _no_secret_in(flowctl, done.stdout, done.stderr)


def test_a_refused_token_fails_without_showing_it(flowctl: Flowctl) -> None:
    other = base64.b64encode(json.dumps({"id": "0a:1b", "secret": "wrong-secret"}).encode()).decode()
    done = flowctl.run(ESTUARY_REFRESH_TOKEN=other)
    assert done.returncode == 1
    assert "invalid refresh token" in done.stderr
    assert other not in done.stderr + done.stdout and "wrong-secret" not in done.stderr
    assert flowctl.leftovers() == []


@pytest.mark.parametrize(
    "env, message",
    [
        ({"ESTUARY_REFRESH_TOKEN": None}, "ESTUARY_REFRESH_TOKEN is not set"),
        ({"ESTUARY_REFRESH_TOKEN": "not-a-token"}, "ESTUARY_REFRESH_TOKEN is not a Flow refresh token"),
        ({"ESTUARY_ENDPOINT_SOURCE_HUBSPOT": None}, "ESTUARY_ENDPOINT_SOURCE_HUBSPOT is not set"),
        ({"ESTUARY_ENDPOINT_MATERIALIZE_SNOWFLAKE": '["pw-in-a-list"]'}, "is not a JSON object"),
        ({"ESTUARY_ENDPOINT_MATERIALIZE_SNOWFLAKE": "{pw-broken"}, "is not a JSON object"),
    ],
)
def test_missing_or_malformed_inputs_fail_before_flowctl_runs(
    flowctl: Flowctl, env: dict[str, str | None], message: str
) -> None:
    done = flowctl.run(**env)
    assert done.returncode == 1
    assert message in done.stderr
    assert "pw-" not in done.stderr
    assert "calls" not in flowctl.load()
    assert flowctl.leftovers() == []


def test_without_flowctl_on_path_the_message_says_so(flowctl: Flowctl) -> None:
    done = flowctl.run(PATH=str(flowctl.bin.parent / "nowhere"))
    assert done.returncode == 1
    assert "flowctl is not on PATH" in done.stderr
    assert flowctl.leftovers() == []


def delete(flowctl: Flowctl) -> subprocess.CompletedProcess[str]:
    """The command's delete, as pulumi-command runs it (``/bin/sh -c``), with only the token it is given."""
    tasks = json.loads((flowctl.catalog_dir / "publish.json").read_text(encoding="utf-8"))["tasks"]
    env = {k: flowctl.env[k] for k in ("PATH", "FAKE_FLOWCTL_STATE", "HOME", "ESTUARY_REFRESH_TOKEN")}
    command = estuary_deploy.delete_command(tasks)
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=30, check=False)


def test_delete_removes_the_tasks_the_catalog_names_and_is_idempotent(flowctl: Flowctl) -> None:
    assert flowctl.run().returncode == 0
    flowctl.state = flowctl.load()
    flowctl.state["live"]["payready/sophia/prod/other"] = {"type": "capture"}
    flowctl.save()
    done = delete(flowctl)
    assert done.returncode == 0, done.stderr
    state = flowctl.load()
    assert state["calls"][-1]["argv"] == [
        "catalog",
        "delete",
        "--name",
        "payready/sophia/prod/materialize-snowflake",
        "--name",
        "payready/sophia/prod/source-hubspot",
        "--dangerous-auto-approve",
    ]
    assert list(state["live"]) == ["payready/sophia/prod/other"]  # only what the catalog names
    again = delete(flowctl)  # nothing live any more: flowctl says so, and that is success
    assert again.returncode == 0, again.stderr
    _no_secret_in(flowctl, done.stdout, done.stderr, again.stdout, again.stderr)


def test_a_failed_delete_exits_non_zero_with_flowctls_error(flowctl: Flowctl) -> None:
    flowctl.state["live"]["payready/sophia/prod/source-hubspot"] = {"type": "capture"}
    flowctl.state["fail"] = [{"command": "delete", "code": 1, "stderr": "Error: failed to create draft"}]
    flowctl.save()
    done = delete(flowctl)
    assert done.returncode == 1
    assert "Error: failed to create draft" in done.stderr
    assert "payready/sophia/prod/source-hubspot" in flowctl.load()["live"]


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ("development", "production")}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_program_publishes_the_compiled_catalog_with_a_command(runs: dict[str, StackRun], env: str) -> None:
    (command,) = [r for r in runs[env].resources if r["type"] == "command:local:Command"]
    inputs = command["inputs"]
    folder = f"files/estuary/{env}"
    assert inputs["create"] == inputs["update"] == f"python3 program/estuary/publish.py {folder}"
    manifest = json.loads((platform_generated() / "pulumi" / folder / "publish.json").read_text(encoding="utf-8"))
    assert inputs["delete"] == estuary_deploy.delete_command(manifest["tasks"])
    digest = hashlib.sha256()
    for name in ("flow.yaml", "publish.json"):
        digest.update(name.encode() + b"\0" + (platform_generated() / "pulumi" / folder / name).read_bytes())
    assert inputs["triggers"] == [digest.hexdigest()]  # a new catalog re-publishes (update)
    environment = {name: secret_value(value) for name, value in inputs["environment"].items()}
    assert set(environment) == {"ESTUARY_REFRESH_TOKEN", *(e["env"] for e in manifest["endpoints"])}
    assert environment["ESTUARY_REFRESH_TOKEN"].startswith("mock-secret-for-estuaryRefreshToken")
    assert environment["ESTUARY_ENDPOINT_SOURCE_HUBSPOT"].startswith("mock-secret-for-estuaryHubspotEndpoint")
    assert command["deleteBeforeReplace"] and command["protect"] == (env == "production")


def test_a_config_file_left_in_the_catalog_directory_is_refused(flowctl: Flowctl) -> None:
    (flowctl.catalog_dir / "source-hubspot.config.json").write_text("{}")
    done = flowctl.run()
    assert done.returncode == 1
    assert "holds source-hubspot.config.json" in done.stderr
    assert flowctl.leftovers() == []
