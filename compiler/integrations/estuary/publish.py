"""Publish one environment's Estuary Flow catalog with flowctl, keep what auto-discovery added, and
delete the tasks the catalog no longer names.

Run by a Pulumi ``command.local.Command`` (deploy.py): ``python3 publish.py <catalog-dir>``. The
directory is what the compiler renders from ``catalog.files``: ``flow.yaml`` and ``publish.json``.
Deleting the whole environment is the command's own ``delete`` (deploy.delete_command), which needs
none of these files. Standard library only.

Environment: ``ESTUARY_REFRESH_TOKEN`` (a Flow refresh token, base64 of ``{"id", "secret"}``,
generated under Admin > CLI-API) and, to publish, one ``ESTUARY_ENDPOINT_<TASK>`` per task holding
its endpoint configuration as a JSON object (from ESC). ``flowctl`` must be on PATH, in a release
whose ``catalog list`` has ``--models`` (the GraphQL listing).

Steps, each a flowctl run that must succeed before the next:

1. ``flowctl catalog list --prefix <prefix> --models -o json``: the live specs under the
   environment's prefix with their models. The prefix is not in publish.json; it is the longest
   common path prefix (ending in ``/``) of the manifest's task names, which all live under
   ``tenant/prefix/``. Listing by prefix, not by name, because a name that is not live (a new task)
   makes a by-name listing fail.
2. ``flowctl catalog publish --source <private flow.json> --auto-approve --default-data-plane <dp>``.
   A publication replaces each task's spec wholesale, and the catalog declares ``bindings: []``
   (Flow's auto-discovery adds them); so a task that is live is published with its live
   ``bindings``, while everything the catalog declares (endpoint image and config, ``interval``,
   ``autoDiscover``, ``sourceCapture``) wins. A new task is published as declared.
3. ``flowctl catalog delete --name <task>... --dangerous-auto-approve``: the captures and
   materializations listed in step 1 that the catalog no longer names (a publication never
   removes anything). Only after a successful publish; collections are never deleted.

What it relies on, verified in ``estuary/flow`` ``crates/flowctl/src`` (and ``crates/sources/src``):

- ``config.rs``: the config file is ``<profile>.json`` (profile ``default`` unless
  ``FLOWCTL_PROFILE``) in the user config directory (``$XDG_CONFIG_HOME`` or ``$HOME/.config`` on
  Linux, under ``$HOME/Library`` on macOS) and also holds the endpoints flowctl talks to; ``FLOW_AUTH_TOKEN``
  is a base64 JSON refresh token (or a JWT); ``FLOW_API_KEY`` takes precedence over it, and older
  releases prefer a refresh token stored in the config file. The token is passed only as
  ``FLOW_AUTH_TOKEN`` (never as an argument: the process list would show it), ``FLOW_API_KEY`` and
  ``FLOWCTL_PROFILE`` are withheld, and flowctl runs with ``HOME`` and ``XDG_CONFIG_HOME`` in the
  private directory, so no stored config takes precedence and what flowctl writes back is deleted.
- ``catalog/list/mod.rs`` and ``list/query.graphql``: ``--prefix`` (a trailing ``/`` is added when
  missing) and ``--name`` conflict; a ``--name`` that is not live fails ("no live spec exists for
  name"), a prefix lists what is live under it; ``--models`` needs ``--output json`` (``-o``, a
  global flag, ``output.rs``: compact JSON, one item a line). An item is ``{"catalogName",
  "liveSpec": {"catalogType", "model", ...} | null, ...}`` (GraphQL field names; ``liveSpec`` is
  null while a spec is being deleted); ``catalogType`` is ``capture``, ``collection``,
  ``materialization`` or ``test`` (``models`` ``CatalogType``), ``model`` the task's spec.
- ``catalog/publish.rs``: ``--source``, ``--auto-approve`` (required without a terminal) and
  ``--default-data-plane`` (where the specs it creates are placed); specs identical to the live ones
  are pruned from the draft. ``sources``: a source is read as JSON when its name ends in ``.json``
  (else YAML), and resources such as endpoint config files are relative to it.
- ``catalog/delete.rs``: ``--name`` (repeatable) or ``--prefix``, ``--dangerous-auto-approve`` to
  skip the prompt; fails with "no specs found matching given selector" when nothing selected is live.
- ``draft/encrypt.rs``: before publishing, flowctl encrypts every endpoint config that is not
  already sops-encrypted, through Estuary's config encryption service and the connector's endpoint
  schema (fields marked secret), so credentials are stored encrypted although they are written here
  in plain JSON; a connector without a published schema is left in plain text (flowctl warns).

flow.yaml is the catalog as people review it; publish.json carries the same content as JSON
(``spec``), which is what is read here (the standard library reads no YAML). The catalog is
published from a JSON file with the endpoint configs (merged with the spec's
non-secret settings from publish.json), in a private directory (0700, files 0600) that is removed
on success, failure or SIGTERM. flowctl's errors are relayed with the token and every endpoint
config value masked; the listing's output (the live specs) is read, never printed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

TOKEN_ENV = "ESTUARY_REFRESH_TOKEN"
FLOWCTL = "flowctl"
TIMEOUT_SECONDS = 1800  # a publication validates every connector; large catalogs take minutes
MASK = "********"
TASK_KINDS = {"captures": "capture", "materializations": "materialization"}
# Variables that would make flowctl use another credential or configuration than the one given here.
FLOWCTL_OVERRIDES = ("FLOW_AUTH_TOKEN", "FLOW_API_KEY", "FLOWCTL_PROFILE")


class PublishError(Exception):
    """A failure to report, without any secret in its text."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish an Estuary Flow catalog with flowctl.")
    parser.add_argument("catalog_dir", type=Path, help="directory holding flow.yaml and publish.json")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        run(args.catalog_dir)
    except PublishError as exc:
        print(f"estuary: {exc}", file=sys.stderr)
        return 1
    return 0


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise PublishError("terminated before flowctl finished")


def run(catalog_dir: Path) -> None:
    manifest = _manifest(catalog_dir)
    token = _refresh_token()
    prefix = catalog_prefix(manifest["tasks"])
    work = Path(tempfile.mkdtemp(prefix="estuary-"))  # mode 0700
    try:
        home = work / "home"
        home.mkdir(mode=0o700)
        staged = work / "catalog"
        secrets = _stage(catalog_dir, manifest, staged)
        secrets.append(token)
        spec = _catalog(manifest)
        env = _environment(manifest, token, home)
        live = _live_tasks(prefix, env, secrets) if prefix else {}
        source = _write_catalog(staged, manifest["catalog"], keep_live_bindings(spec, live))
        command = [FLOWCTL, "catalog", "publish", "--source", str(source), "--auto-approve"]
        command += ["--default-data-plane", manifest["dataPlane"]]
        _flowctl(command, env, secrets)
        stale = sorted(set(live) - set(manifest["tasks"]))
        if stale:
            names = [arg for name in stale for arg in ("--name", name)]
            _flowctl([FLOWCTL, "catalog", "delete", *names, "--dangerous-auto-approve"], env, secrets)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PublishError(f"cannot read {what} in the catalog directory: {exc.strerror}") from None
    except ValueError:
        raise PublishError(f"{what} in the catalog directory is not JSON") from None


def _manifest(catalog_dir: Path) -> dict[str, Any]:
    manifest = _read_json(catalog_dir / "publish.json", "publish.json")
    fields = ("catalog", "dataPlane", "endpoints", "tasks")
    if not isinstance(manifest, dict) or not all(k in manifest for k in fields):
        raise PublishError(f"publish.json in the catalog directory must hold {', '.join(fields)}")
    return manifest


def catalog_prefix(tasks: list[str]) -> str | None:
    """The environment's catalog prefix, ``tenant/prefix/``: the longest common path prefix of its
    task names (None without tasks). Refused when shorter than two segments, where deleting what the
    catalog does not name could reach the whole tenant."""
    if not tasks:
        return None
    common = tasks[0].split("/")[:-1]
    for name in tasks[1:]:
        folder = name.split("/")[:-1]
        same = 0
        while same < min(len(common), len(folder)) and common[same] == folder[same]:
            same += 1
        common = common[:same]
    if len(common) < 2 or not all(common):
        raise PublishError(
            "the catalog's tasks share no prefix of the form tenant/prefix/, "
            "so the tasks it no longer names cannot be told apart from the tenant's others"
        )
    return "/".join(common) + "/"


def _refresh_token() -> str:
    """The refresh token, checked for the form flowctl decodes (never echoed)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise PublishError(f"{TOKEN_ENV} is not set: flowctl needs the Flow refresh token")
    try:
        decoded = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        decoded = None
    if not isinstance(decoded, dict) or not {"id", "secret"} <= decoded.keys():
        raise PublishError(f'{TOKEN_ENV} is not a Flow refresh token (base64 of {{"id", "secret"}})')
    return token


def _create_private(path: Path, name: str) -> Any:
    """A new file (0600) for writing, refused if the catalog directory brought one of that name."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PublishError(f"the catalog directory holds {name}, which must only be written here") from None
    return os.fdopen(descriptor, "w", encoding="utf-8")


def _stage(catalog_dir: Path, manifest: Mapping[str, Any], staged: Path) -> list[str]:
    """Copy the catalog into ``staged`` and write each endpoint config there; the values to mask."""
    shutil.copytree(catalog_dir, staged)
    staged.chmod(0o700)
    secrets: list[str] = []
    for endpoint in manifest["endpoints"]:
        config = _endpoint_config(endpoint["env"])
        secrets += _strings(config)
        merged = _merge(config, endpoint["settings"])
        target = staged / endpoint["file"]
        if target.parent != staged:
            raise PublishError(f"endpoint config file {endpoint['file']!r} is not a file name inside the catalog")
        with _create_private(target, endpoint["file"]) as handle:
            json.dump(merged, handle, sort_keys=True)
    return secrets


def _endpoint_config(env: str) -> dict[str, Any]:
    raw = os.environ.get(env)
    if raw is None:
        raise PublishError(f"{env} is not set: it must hold the task's endpoint configuration (JSON) from ESC")
    try:
        config = json.loads(raw)
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise PublishError(f"{env} is not a JSON object (the task's endpoint configuration)")
    return config


def _strings(value: Any) -> Iterator[str]:
    """The string leaves of an endpoint config, masked in flowctl's output since any may be a credential
    (from 8 characters: shorter ones are words like ``UTC`` whose masking would garble the output)."""
    if isinstance(value, str):
        if len(value) >= 8:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _merge(base: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's settings over the config from ESC (maps merge, the spec wins elsewhere)."""
    merged = dict(base)
    for key, value in settings.items():
        current = merged.get(key)
        merged[key] = _merge(current, value) if isinstance(value, dict) and isinstance(current, dict) else value
    return merged


# --- the catalog: publish.json's copy in, the published JSON out -----------------------------------


def _catalog(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog (publish.json's ``spec``, the content flow.yaml shows), checked to name exactly the
    manifest's tasks."""
    catalog = manifest.get("spec")
    if not isinstance(catalog, dict):
        raise PublishError("publish.json holds no Flow catalog (spec)")
    named = [name for kind in TASK_KINDS for name in catalog.get(kind) or {}]
    if sorted(named) != sorted(manifest["tasks"]):
        raise PublishError("publish.json's catalog and its task list name different tasks")
    return catalog


def keep_live_bindings(catalog: Mapping[str, Any], live: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """The catalog with each task that is live (as the same kind) given its live bindings."""
    out = dict(catalog)
    for kind, type_name in TASK_KINDS.items():
        if not catalog.get(kind):
            continue
        tasks = {}
        for name, spec in catalog[kind].items():
            current = live.get(name)
            if current is not None and current[0] == type_name:
                tasks[name] = {**spec, "bindings": current[1].get("bindings", [])}
            else:
                tasks[name] = spec
        out[kind] = tasks
    return out


def _write_catalog(staged: Path, catalog_file: str, catalog: Mapping[str, Any]) -> Path:
    """The catalog as JSON beside the endpoint configs it names (flowctl reads ``.json`` as JSON)."""
    source = staged / (Path(catalog_file).stem + ".json")
    with _create_private(source, source.name) as handle:
        json.dump(catalog, handle, indent=2, sort_keys=True)
    return source


def _live_tasks(prefix: str, env: dict[str, str], secrets: list[str]) -> dict[str, tuple[str, Any]]:
    """The captures and materializations live under ``prefix``: name -> (type, model)."""
    command = [FLOWCTL, "catalog", "list", "--prefix", prefix, "--models", "-o", "json"]
    out = _flowctl(command, env, secrets, relay=False)
    live: dict[str, tuple[str, Any]] = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise PublishError("flowctl catalog list printed something other than JSON lines") from None
        spec = item.get("liveSpec") if isinstance(item, dict) else None
        name = item.get("catalogName") if isinstance(item, dict) else None
        if not isinstance(spec, dict) or not isinstance(name, str) or not name.startswith(prefix):
            continue  # being deleted, or not ours
        kind, model = spec.get("catalogType"), spec.get("model")
        if not isinstance(kind, str) or kind not in TASK_KINDS.values():
            continue
        if not isinstance(model, dict):
            raise PublishError(f"flowctl catalog list gave no model for the live {kind} {name}")
        live[name] = (kind, model)
    return live


def _environment(manifest: Mapping[str, Any], token: str, home: Path) -> dict[str, str]:
    """flowctl's environment: the token as FLOW_AUTH_TOKEN, a private home, no endpoint configs."""
    withheld = {TOKEN_ENV, *FLOWCTL_OVERRIDES, *(e["env"] for e in manifest["endpoints"])}
    env = {k: v for k, v in os.environ.items() if k not in withheld}
    env.update({"FLOW_AUTH_TOKEN": token, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
    return env


def _flowctl(command: list[str], env: dict[str, str], secrets: list[str], relay: bool = True) -> str:
    """Run flowctl; its standard output (relayed, masked, unless ``relay`` is false)."""
    verb = " ".join(command[1:3])
    try:
        done = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise PublishError("flowctl is not on PATH (https://docs.estuary.dev/concepts/flowctl/)") from None
    except subprocess.TimeoutExpired:
        raise PublishError(f"flowctl {verb} did not finish within {TIMEOUT_SECONDS} s") from None
    err = _masked(done.stderr, secrets)
    if relay:
        sys.stdout.write(_masked(done.stdout, secrets))
    sys.stderr.write(err)
    if done.returncode == 0:
        return done.stdout
    last = [line for line in err.splitlines() if line.strip()][-1:] or ["(no error output)"]
    raise PublishError(f"flowctl {verb} failed with exit code {done.returncode}: {last[0]}")


def _masked(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


if __name__ == "__main__":
    sys.exit(main())
