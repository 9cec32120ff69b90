#!/usr/bin/env python3
"""A stateful fake of the two flowctl commands ``publish.py`` runs, for tests that put it on PATH.

Follows ``estuary/flow`` ``crates/flowctl/src``: the refresh token comes from ``FLOW_AUTH_TOKEN``
(base64 of ``{"id", "secret"}``, config.rs) and is checked against the tokens the state holds;
``catalog publish --source <file> --auto-approve [--default-data-plane <name>]`` (publish.rs) refuses
to run without ``--auto-approve``, reads the catalog and the endpoint config files it names relative to
it, and makes its tasks live in the data plane (new tasks only); ``catalog delete --name <n>...
--dangerous-auto-approve`` (delete.rs) deletes the live tasks named, and fails with "no specs found
matching given selector" when none is. Like flowctl, it writes its config (an access token) under
``$XDG_CONFIG_HOME/flowctl``.

State is a JSON file named by ``FAKE_FLOWCTL_STATE``: ``tokens`` (id -> secret), ``live`` (name ->
``{"type", "dataPlane"}``), ``fail`` (scripted failures, ``{"command", "code", "stderr"}``, each
used once, for the first run of that command), ``echo_secrets`` (print the token and the endpoint
configs, to prove the caller masks them). Every run is appended to ``calls`` in that file: argv, the
environment variables it saw by name, and for publish each endpoint config file's content and modes.

Simplified: one catalog file (no imports or collections), no connector validation, no
config encryption, no drafts, output that is not flowctl's exact wording apart from the delete error.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Any

import yaml

STATE_ENV = "FAKE_FLOWCTL_STATE"


def main(argv: list[str]) -> int:
    state_file = Path(os.environ[STATE_ENV])
    state = json.loads(state_file.read_text())
    call: dict[str, Any] = {"argv": argv, "env": sorted(os.environ), "home": os.environ.get("HOME")}
    state.setdefault("calls", []).append(call)
    try:
        return run(state, call, argv)
    finally:
        state_file.write_text(json.dumps(state, indent=2))


def run(state: dict[str, Any], call: dict[str, Any], argv: list[str]) -> int:
    command = " ".join(argv[:2])
    if command not in ("catalog publish", "catalog delete"):
        return fail(f"unsupported command: {' '.join(argv)}", 2)
    if not authenticated(state):
        return fail("Error: failed to refresh the access token: invalid refresh token", 1)
    write_config()
    if state.get("echo_secrets"):
        print(f"debug: FLOW_AUTH_TOKEN={os.environ['FLOW_AUTH_TOKEN']}", file=sys.stderr)
    scripted = next((f for f in state.get("fail", []) if f["command"] == argv[1]), None)
    if scripted is not None:
        state["fail"].remove(scripted)
        return fail(scripted["stderr"], scripted["code"])
    if argv[1] == "publish":
        return publish(state, call, argv[2:])
    return delete(state, argv[2:])


def fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def authenticated(state: dict[str, Any]) -> bool:
    try:
        token = json.loads(base64.b64decode(os.environ.get("FLOW_AUTH_TOKEN", ""), validate=True))
    except ValueError:
        return False
    return isinstance(token, dict) and state.get("tokens", {}).get(token.get("id")) == token.get("secret")


def write_config() -> None:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ["HOME"], ".config")
    folder = Path(base) / "flowctl"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "default.json").write_text(json.dumps({"user_access_token": secrets.token_urlsafe(16)}))


def options(args: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args):
        if args[i] in ("--source", "--default-data-plane", "--name"):
            values.setdefault(args[i], []).append(args[i + 1])
            i += 2
        else:
            flags.add(args[i])
            i += 1
    return values, flags


def publish(state: dict[str, Any], call: dict[str, Any], args: list[str]) -> int:
    values, flags = options(args)
    if "--auto-approve" not in flags:
        return fail("The publish command must be run interactively unless the `--auto-approve` flag is provided", 1)
    source = Path(values["--source"][0])
    catalog = yaml.safe_load(source.read_text())  # flow.yaml (JSON is YAML too)
    plane = values.get("--default-data-plane", ["ops/dp/public/gcp-us-central1-c1"])[0]
    call["endpoints"] = {}
    tasks = [("capture", n, s) for n, s in catalog.get("captures", {}).items()]
    tasks += [("materialization", n, s) for n, s in catalog.get("materializations", {}).items()]
    for kind, name, spec in tasks:
        config = spec["endpoint"]["connector"]["config"]
        if isinstance(config, str):
            path = source.parent / config
            if not path.is_file():
                return fail(f"Error: failed to load {config} (referenced by {name}): not found", 1)
            call["endpoints"][config] = {
                "content": json.loads(path.read_text()),
                "file_mode": stat.S_IMODE(path.stat().st_mode),
                "dir_mode": stat.S_IMODE(path.parent.stat().st_mode),
            }
            if state.get("echo_secrets"):
                print(f"debug: {config}: {path.read_text()}", file=sys.stderr)
        followed = spec.get("sourceCapture")
        known = followed in catalog.get("captures", {}) or followed in state["live"]
        if kind == "materialization" and followed and not known:
            return fail(f"Error: capture {followed}, referenced by {name}, is not defined", 1)
    for kind, name, _ in tasks:
        live = state["live"].setdefault(name, {"type": kind, "dataPlane": plane})
        live["type"] = kind
    print("Publish successful")
    return 0


def delete(state: dict[str, Any], args: list[str]) -> int:
    values, flags = options(args)
    named = [n for n in values.get("--name", []) if n in state["live"]]
    if not named:
        return fail("Error: no specs found matching given selector", 1)
    if "--dangerous-auto-approve" not in flags:
        return fail("Error: delete operation cancelled", 1)
    for name in named:
        del state["live"][name]
    print(f"successfully deleted {len(named)} spec(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
