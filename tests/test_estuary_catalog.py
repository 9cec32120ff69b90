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
from compiler.integrations.estuary import publish as estuary_publish
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
        "spec": catalog.catalog(bundled("production")),
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


PROD = "payready/sophia/prod/"
CAPTURE_PROD = PROD + "source-hubspot"
MATERIALIZATION_PROD = PROD + "materialize-snowflake"
LIST_ARGV = ["catalog", "list", "--prefix", PROD, "--models", "-o", "json"]


def _no_secret_in(flowctl: Flowctl, *texts: str) -> None:
    calls = flowctl.load()["calls"]
    for text in [*texts, *(" ".join(c["argv"]) for c in calls)]:
        for secret in (TOKEN, "refresh-secret-value", "pat-na1-hubspot-secret", "BEGIN PRIVATE KEY"):
            assert secret not in text


def test_publish_writes_private_configs_authenticates_by_environment_and_cleans_up(flowctl: Flowctl) -> None:
    done = flowctl.run()
    assert done.returncode == 0, done.stderr
    assert "Publish successful" in done.stdout
    listed, call = flowctl.load()["calls"]  # nothing live: nothing to keep, nothing to delete
    assert listed["argv"] == LIST_ARGV
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
    assert Path(source).name == "flow.json" and Path(source).parent != flowctl.catalog_dir
    assert call["catalog"] == yaml.safe_load((flowctl.catalog_dir / "flow.yaml").read_text())  # new: as declared
    endpoints = call["endpoints"]
    assert endpoints["source-hubspot.config.json"]["content"] == HUBSPOT
    snowflake = endpoints["materialize-snowflake.config.json"]["content"]
    assert snowflake["syncSchedule"] == {"syncFrequency": "30m", "timezone": "UTC"}  # the spec's schedule wins
    assert snowflake["credentials"] == SNOWFLAKE["credentials"]
    assert {e["file_mode"] for e in endpoints.values()} == {0o600}
    assert {e["dir_mode"] for e in endpoints.values()} == {0o700}
    # The token reaches flowctl only as FLOW_AUTH_TOKEN, with a private home; the configs not at all.
    assert listed["credential"] == "FLOW_AUTH_TOKEN"  # later runs read the config flowctl wrote in its home
    for run in (listed, call):
        assert "FLOW_AUTH_TOKEN" in run["env"]
        assert not [name for name in run["env"] if name.startswith("ESTUARY_")]
        assert run["home"] != flowctl.env["HOME"]
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


def _discovered(flowctl: Flowctl) -> dict[str, Any]:
    """What Flow's auto-discovery adds to the published tasks: collections, and bindings to them."""
    state = flowctl.load()
    for stream in ("contacts", "deals"):
        state["live"][f"{PROD}{stream}"] = {"type": "collection", "spec": {"key": ["/id"], "schema": {}}}
    capture = [{"resource": {"name": s}, "target": f"{PROD}{s}"} for s in ("contacts", "deals")]
    materialization = [{"resource": {"table": s}, "source": f"{PROD}{s}"} for s in ("contacts", "deals")]
    state["live"][CAPTURE_PROD]["spec"]["bindings"] = capture
    state["live"][MATERIALIZATION_PROD]["spec"]["bindings"] = materialization
    flowctl.save()
    return {CAPTURE_PROD: capture, MATERIALIZATION_PROD: materialization}


def _edit_catalog(flowctl: Flowctl, old: str, new: str) -> None:
    """Edit the catalog publish.py publishes (publish.json's ``spec``)."""
    path = flowctl.catalog_dir / "publish.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    text = json.dumps(manifest["spec"])
    assert old in text
    manifest["spec"] = json.loads(text.replace(old, new))
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _live_task(kind: str, bindings: list[Any] | None = None) -> dict[str, Any]:
    connector = {"image": "ghcr.io/estuary/source-x:v1", "config": {"sops": "encrypted"}}
    return {"type": kind, "spec": {"endpoint": {"connector": connector}, "bindings": bindings or []}}


def test_a_republish_keeps_the_discovered_bindings_and_the_spec_wins_elsewhere(flowctl: Flowctl) -> None:
    assert flowctl.run().returncode == 0
    discovered = _discovered(flowctl)
    _edit_catalog(flowctl, '"interval": "5m"', '"interval": "15m"')
    _edit_catalog(flowctl, "source-hubspot-native:dev", "source-hubspot-native:v2")
    flowctl.state["calls"] = []
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 0, done.stderr
    state = flowctl.load()
    assert [c["argv"][:2] for c in state["calls"]] == [["catalog", "list"], ["catalog", "publish"]]
    published = state["calls"][1]["catalog"]
    capture = published["captures"][CAPTURE_PROD]
    assert capture["bindings"] == discovered[CAPTURE_PROD]  # live bindings, not the catalog's []
    assert capture["interval"] == "15m"  # the spec's new interval and image
    assert capture["endpoint"]["connector"] == {
        "config": "source-hubspot.config.json",  # the spec's config (from ESC), not the live one
        "image": "ghcr.io/estuary/source-hubspot-native:v2",
    }
    assert capture["autoDiscover"] == {"addNewBindings": True, "evolveIncompatibleCollections": True}
    materialization = published["materializations"][MATERIALIZATION_PROD]
    assert materialization["bindings"] == discovered[MATERIALIZATION_PROD]
    assert materialization["sourceCapture"] == CAPTURE_PROD
    live = state["live"]
    assert live[CAPTURE_PROD]["spec"]["bindings"] == discovered[CAPTURE_PROD]
    assert live[CAPTURE_PROD]["spec"]["interval"] == "15m"
    assert live[MATERIALIZATION_PROD]["spec"]["bindings"] == discovered[MATERIALIZATION_PROD]
    assert flowctl.leftovers() == []
    _no_secret_in(flowctl, done.stdout, done.stderr)


def test_tasks_the_catalog_no_longer_names_are_deleted_after_the_publish(flowctl: Flowctl) -> None:
    live = flowctl.state["live"]
    live[PROD + "old-capture"] = _live_task("capture")
    live[PROD + "crm/old-materialization"] = _live_task("materialization")
    live[PROD + "contacts"] = {"type": "collection", "spec": {"key": ["/id"], "schema": {}}}  # collections stay
    live["payready/sophia/staging/old-capture"] = _live_task("capture")  # another environment's prefix
    live["payready/sophia/prod2/old-capture"] = _live_task("capture")  # a name the prefix only starts
    flowctl.state["echo_secrets"] = True
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 0, done.stderr
    state = flowctl.load()
    assert [c["argv"] for c in state["calls"]][::2] == [
        LIST_ARGV,
        [
            "catalog",
            "delete",
            "--name",
            PROD + "crm/old-materialization",
            "--name",
            PROD + "old-capture",
            "--dangerous-auto-approve",
        ],
    ]
    assert state["calls"][1]["argv"][:2] == ["catalog", "publish"]  # the delete comes after the publish
    assert sorted(state["live"]) == [
        PROD + "contacts",
        MATERIALIZATION_PROD,
        CAPTURE_PROD,
        "payready/sophia/prod2/old-capture",
        "payready/sophia/staging/old-capture",
    ]
    assert "successfully deleted 2 spec(s)" in done.stdout
    assert flowctl.leftovers() == []
    _no_secret_in(flowctl, done.stdout, done.stderr)


@pytest.mark.parametrize("command, calls", [("list", ["list"]), ("delete", ["list", "publish", "delete"])])
def test_a_failed_listing_or_delete_exits_non_zero_with_flowctls_error(
    flowctl: Flowctl, command: str, calls: list[str]
) -> None:
    flowctl.state["live"][PROD + "old-capture"] = _live_task("capture")
    flowctl.state["fail"] = [{"command": command, "code": 1, "stderr": "Error: failed to fetch live specs"}]
    flowctl.state["echo_secrets"] = True
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 1
    assert done.stderr.endswith(
        f"estuary: flowctl catalog {command} failed with exit code 1: Error: failed to fetch live specs\n"
    )
    state = flowctl.load()
    assert [c["argv"][1] for c in state["calls"]] == calls  # a failed listing publishes nothing
    assert PROD + "old-capture" in state["live"]
    assert flowctl.leftovers() == []
    _no_secret_in(flowctl, done.stdout, done.stderr)


def test_a_stored_login_or_api_key_of_the_operator_is_not_used(flowctl: Flowctl) -> None:
    stale = Path(flowctl.env["HOME"], ".config", "flowctl", "default.json")
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"user_refresh_token": {"id": "0a:1b", "secret": "stale-secret"}}))
    env = {"FLOW_API_KEY": "flow_sa_stale", "FLOWCTL_PROFILE": "default"}
    done = flowctl.run(**env)
    assert done.returncode == 0, done.stderr
    assert delete(flowctl, **env).returncode == 0
    calls = flowctl.load()["calls"]
    assert [c["argv"][1] for c in calls] == ["list", "publish", "delete"]
    assert {c["credential"] for c in calls} <= {"FLOW_AUTH_TOKEN", "config"}
    assert calls[0]["credential"] == calls[2]["credential"] == "FLOW_AUTH_TOKEN"
    assert not [c for c in calls if "FLOW_API_KEY" in c["env"] or c["home"] == flowctl.env["HOME"]]
    assert flowctl.load()["live"] == {}
    assert json.loads(stale.read_text())["user_refresh_token"]["secret"] == "stale-secret"  # left as it was


def test_a_listed_task_without_its_model_is_not_republished_blindly(flowctl: Flowctl) -> None:
    flowctl.state["live"][CAPTURE_PROD] = {"type": "capture"}  # what a listing without --models gives
    flowctl.save()
    done = flowctl.run()
    assert done.returncode == 1
    assert f"gave no model for the live capture {CAPTURE_PROD}" in done.stderr
    assert [c["argv"][1] for c in flowctl.load()["calls"]] == ["list"]
    assert flowctl.leftovers() == []


def test_a_catalog_naming_other_tasks_than_the_manifest_is_refused(flowctl: Flowctl) -> None:
    _edit_catalog(flowctl, 'prod/source-hubspot":', 'prod/source-other":')
    done = flowctl.run()
    assert done.returncode == 1
    assert "publish.json's catalog and its task list name different tasks" in done.stderr
    assert "calls" not in flowctl.load()
    assert flowctl.leftovers() == []


def test_the_prefix_is_the_tasks_common_folder() -> None:
    assert estuary_publish.catalog_prefix([MATERIALIZATION_PROD, CAPTURE_PROD]) == PROD
    assert estuary_publish.catalog_prefix([PROD + "crm/hubspot", PROD + "wh"]) == PROD
    assert estuary_publish.catalog_prefix([PROD + "crm/hubspot"]) == PROD + "crm/"  # narrower: prunes less
    assert estuary_publish.catalog_prefix([]) is None
    with pytest.raises(estuary_publish.PublishError, match="no prefix of the form tenant/prefix/"):
        estuary_publish.catalog_prefix(["acme/a/x", "other/a/y"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_publish_json_carries_exactly_what_flow_yaml_shows(env: str) -> None:
    """publish.py publishes publish.json's copy (it reads no YAML): it is the reviewed flow.yaml."""
    folder = platform_generated() / "pulumi" / "files" / "estuary" / env
    flow = yaml.safe_load((folder / "flow.yaml").read_text(encoding="utf-8"))
    assert json.loads((folder / "publish.json").read_text(encoding="utf-8"))["spec"] == flow


def delete(flowctl: Flowctl, **extra: str) -> subprocess.CompletedProcess[str]:
    """The command's delete, as pulumi-command runs it (``/bin/sh -c``), with only the token it is given."""
    tasks = json.loads((flowctl.catalog_dir / "publish.json").read_text(encoding="utf-8"))["tasks"]
    names = ("PATH", "FAKE_FLOWCTL_STATE", "HOME", "ESTUARY_REFRESH_TOKEN", "TMPDIR")
    env = {**{k: flowctl.env[k] for k in names}, **extra}
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
    assert state["calls"][-1]["home"] != flowctl.env["HOME"]  # a fresh home, removed afterwards
    again = delete(flowctl)  # nothing live any more: flowctl says so, and that is success
    assert again.returncode == 0, again.stderr
    assert flowctl.leftovers() == []
    _no_secret_in(flowctl, done.stdout, done.stderr, again.stdout, again.stderr)


def test_a_failed_delete_exits_non_zero_with_flowctls_error(flowctl: Flowctl) -> None:
    flowctl.state["live"]["payready/sophia/prod/source-hubspot"] = {"type": "capture"}
    flowctl.state["fail"] = [{"command": "delete", "code": 1, "stderr": "Error: failed to create draft"}]
    flowctl.save()
    done = delete(flowctl)
    assert done.returncode == 1
    assert "Error: failed to create draft" in done.stderr
    assert "payready/sophia/prod/source-hubspot" in flowctl.load()["live"]
    assert flowctl.leftovers() == []


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
