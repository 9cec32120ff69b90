#!/usr/bin/env python3
"""A stateful fake of the flowctl commands ``publish.py`` and the Estuary command's delete run, for
tests that put it on PATH.

Follows ``estuary/flow`` ``crates/flowctl/src``:

- Credentials (config.rs): ``FLOW_API_KEY`` first (an API key: valid only if the state lists it),
  then a ``user_refresh_token`` stored in ``<profile>.json`` (profile ``default`` or
  ``$FLOWCTL_PROFILE``) under ``$XDG_CONFIG_HOME/flowctl`` or ``$HOME/.config/flowctl`` (older
  releases let a stored login win; the fake keeps that stricter order), then ``FLOW_AUTH_TOKEN``
  (base64 of ``{"id", "secret"}``), checked against the state's ``tokens``. Like flowctl, every run
  writes the config back: an access token and the refresh token it used.
- ``catalog list`` (catalog/list/mod.rs, list/query.graphql, output.rs): ``--prefix`` (a missing
  trailing ``/`` is added) or ``--name`` (they conflict; a name that is not live fails with "no
  live spec exists for name: '<name>'"), ``--models`` (refused without ``-o json|yaml``), one type
  flag at most; ``-o json`` prints one compact JSON item a line: ``{"catalogName",
  "userCapability", "lastPublication", "liveSpec": {"isDisabled", "dataPlaneId", "lastPubId",
  "liveSpecId", "catalogType", "updatedAt", "model", ...}, "status"}``.
- ``catalog publish --source <file> --auto-approve [--default-data-plane <name>]`` (publish.rs)
  refuses to run without ``--auto-approve``, reads the catalog (JSON or YAML) and the endpoint
  config files it names relative to it, refuses bindings whose collection is neither live nor in
  the catalog and a materialization following an unknown capture, and replaces each task's live
  spec wholesale with the published one (new tasks go to the data plane given).
- ``catalog delete --name <n>...|--prefix <p> --dangerous-auto-approve`` (delete.rs) deletes the
  live specs selected, and fails with "no specs found matching given selector" when none is.
- Unknown or missing arguments fail as clap does (exit code 2).

State is a JSON file named by ``FAKE_FLOWCTL_STATE``: ``tokens`` (id -> secret), ``api_keys``,
``live`` (name -> ``{"type", "dataPlane", "spec"}``, ``spec`` being the model; tests put the
bindings auto-discovery would have added there), ``fail`` (scripted failures, ``{"command",
"code", "stderr"}``, each used once, for the first run of that command: ``list``, ``publish`` or
``delete``), ``echo_secrets`` (print the token and the endpoint configs, to prove the caller masks
them). Every run is appended to ``calls``: argv, the environment variables it saw by name, ``home``,
the credential it used, and for publish the catalog published and each endpoint config file's
content and modes.

Simplified: one catalog file (no imports), no connector validation or discovery, no drafts or
pruning of unchanged specs; endpoint configs are stored as a placeholder, not encrypted; only the
error messages quoted above are flowctl's wording; ``-o yaml`` and tables are not offered.
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
TYPE_FLAGS = {"--captures": "capture", "--collections": "collection", "--materializations": "materialization"}
TYPE_FLAGS["--tests"] = "test"
# Per command: options taking a value, and flags. ``-o``/``--output`` is global.
ARGS = {
    "list": ({"--prefix", "--name", "--data-plane-name"}, {"--models", "--flows", "-f", *TYPE_FLAGS}),
    "publish": ({"--source", "--default-data-plane"}, {"--auto-approve"}),
    "delete": ({"--prefix", "--name"}, {"--dangerous-auto-approve", *TYPE_FLAGS}),
}


class Usage(Exception):
    """A command line clap would refuse."""


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
    if argv[:1] != ["catalog"] or len(argv) < 2 or argv[1] not in ARGS:
        return fail(f"error: unrecognized subcommand '{' '.join(argv[:2])}'", 2)
    try:
        values, flags = options(argv[1], argv[2:])
    except Usage as exc:
        return fail(f"error: {exc}", 2)
    token = credential(state, call)
    if token is None:
        return fail("Error: failed to refresh the access token: invalid refresh token", 1)
    write_config(token)
    if state.get("echo_secrets"):
        print(f"debug: FLOW_AUTH_TOKEN={os.environ.get('FLOW_AUTH_TOKEN')}", file=sys.stderr)
    scripted = next((f for f in state.get("fail", []) if f["command"] == argv[1]), None)
    if scripted is not None:
        state["fail"].remove(scripted)
        return fail(scripted["stderr"], scripted["code"])
    return {"list": listing, "publish": publish, "delete": delete}[argv[1]](state, call, values, flags)


def fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def options(command: str, args: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    takes, switches = ARGS[command]
    takes = takes | {"-o", "--output"}
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args):
        arg, _, inline = args[i].partition("=")
        if arg in takes:
            if not inline:
                if i + 1 >= len(args):
                    raise Usage(f"a value is required for '{arg}' but none was supplied")
                i += 1
                inline = args[i]
            values.setdefault(arg, []).append(inline)
        elif arg in switches and not inline:
            flags.add(arg)
        else:
            raise Usage(f"unexpected argument '{args[i]}' found")
        i += 1
    if "--name" in values and "--prefix" in values:
        raise Usage("the argument '--name <NAME>' cannot be used with '--prefix <PREFIX>'")
    if len(flags & TYPE_FLAGS.keys()) > 1:
        raise Usage("the type flags cannot be used with one another")
    if command == "publish" and "--source" not in values:
        raise Usage("the following required arguments were not provided:\n  --source <SOURCE>")
    if command == "delete" and "--name" not in values and "--prefix" not in values:
        raise Usage("the following required arguments were not provided:\n  --name <NAME>")
    return values, flags


def credential(state: dict[str, Any], call: dict[str, Any]) -> dict[str, Any] | None:
    """The refresh token flowctl would use, if valid (None otherwise)."""
    if "FLOW_API_KEY" in os.environ:
        call["credential"] = "FLOW_API_KEY"
        return {"api_key": True} if os.environ["FLOW_API_KEY"] in state.get("api_keys", []) else None
    stored = json.loads(config_file().read_text()) if config_file().is_file() else {}
    if stored.get("user_refresh_token"):
        call["credential"] = "config"
        token = stored["user_refresh_token"]
    else:
        call["credential"] = "FLOW_AUTH_TOKEN"
        try:
            token = json.loads(base64.b64decode(os.environ.get("FLOW_AUTH_TOKEN", ""), validate=True))
        except ValueError:
            return None
    valid = isinstance(token, dict) and state.get("tokens", {}).get(token.get("id")) == token.get("secret")
    return token if valid else None


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ["HOME"], ".config")
    return Path(base) / "flowctl" / f"{os.environ.get('FLOWCTL_PROFILE') or 'default'}.json"


def write_config(token: dict[str, Any]) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"user_access_token": secrets.token_urlsafe(16)}
    if "api_key" not in token:
        config["user_refresh_token"] = token
    path.write_text(json.dumps(config))


def selected_type(flags: set[str]) -> str | None:
    return next((kind for flag, kind in TYPE_FLAGS.items() if flag in flags), None)


def listing(state: dict[str, Any], call: dict[str, Any], values: dict[str, list[str]], flags: set[str]) -> int:
    output = values.get("-o", values.get("--output", ["table"]))[-1]
    if "--models" in flags and output not in ("json", "yaml"):
        return fail("Error: cannot output models as a table, must pass `--output json` or `--output yaml`", 1)
    if output != "json":
        return fail(f"fake flowctl: only --output json is offered (got {output})", 2)
    live = state["live"]
    if "--name" in values:
        missing = [n for n in values["--name"] if n not in live]
        if missing:
            return fail(f"Error: no live spec exists for name: '{missing[0]}'", 1)
        names = sorted(set(values["--name"]))
    else:
        prefixes = {p if p.endswith("/") else p + "/" for p in values.get("--prefix", [""])}
        names = sorted(n for n in live if any(n.startswith(p) for p in prefixes))
    kind = selected_type(flags)
    for name in names:
        entry = live[name]
        if kind is not None and entry["type"] != kind:
            continue
        spec = {
            "isDisabled": False,
            "dataPlaneId": "0e:8e:17:d0:4f:ac:d4:00",
            "lastPubId": "10:00:00:00:00:00:00:01",
            "liveSpecId": "20:00:00:00:00:00:00:01",
            "catalogType": entry["type"],
            "updatedAt": "2025-01-01T00:00:00Z",
            "model": entry.get("spec") if "--models" in flags else None,
            "readsFrom": None,
            "writesTo": None,
            "readBy": None,
            "writtenBy": None,
        }
        publication = {"userEmail": "ops@example.com", "userId": "00000000-0000-0000-0000-000000000000"}
        item = {"catalogName": name, "userCapability": "admin", "lastPublication": publication, "liveSpec": spec}
        print(json.dumps({**item, "status": None}, separators=(",", ":")))
    return 0


def publish(state: dict[str, Any], call: dict[str, Any], values: dict[str, list[str]], flags: set[str]) -> int:
    if "--auto-approve" not in flags:
        return fail("The publish command must be run interactively unless the `--auto-approve` flag is provided", 1)
    source = Path(values["--source"][0])
    catalog = yaml.safe_load(source.read_text())  # JSON or YAML, as flowctl reads either
    call["catalog"] = catalog
    plane = values.get("--default-data-plane", ["ops/dp/public/gcp-us-central1-c1"])[0]
    call["endpoints"] = {}
    live = state["live"]
    collections = set(catalog.get("collections", {})) | {n for n, e in live.items() if e["type"] == "collection"}
    tasks = [("capture", n, s) for n, s in catalog.get("captures", {}).items()]
    tasks += [("materialization", n, s) for n, s in catalog.get("materializations", {}).items()]
    stored: dict[str, dict[str, Any]] = {}
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
        known = followed in catalog.get("captures", {}) or followed in live
        if kind == "materialization" and followed and not known:
            return fail(f"Error: capture {followed}, referenced by {name}, is not defined", 1)
        for binding in spec.get("bindings", []):
            collection = binding.get("target" if kind == "capture" else "source")
            if collection not in collections:
                return fail(f"Error: collection {collection}, referenced by a binding of {name}, is not defined", 1)
        connector = {**spec["endpoint"]["connector"], "config": {"sops": "encrypted by the fake"}}
        stored[name] = {**spec, "endpoint": {**spec["endpoint"], "connector": connector}}
    for kind, name, _ in tasks:
        previous = live.get(name, {})
        live[name] = {"type": kind, "dataPlane": previous.get("dataPlane", plane), "spec": stored[name]}
    print("Publish successful")
    return 0


def delete(state: dict[str, Any], call: dict[str, Any], values: dict[str, list[str]], flags: set[str]) -> int:
    live = state["live"]
    kind = selected_type(flags)
    if "--name" in values:
        named = [n for n in values["--name"] if n in live]
    else:
        prefixes = [p if p.endswith("/") else p + "/" for p in values["--prefix"]]
        named = [n for n in live if any(n.startswith(p) for p in prefixes)]
    named = [n for n in named if kind is None or live[n]["type"] == kind]
    if not named:
        return fail("Error: no specs found matching given selector", 1)
    if "--dangerous-auto-approve" not in flags:
        return fail("Error: delete operation cancelled", 1)
    for name in named:
        del live[name]
    print(f"successfully deleted {len(named)} spec(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
