"""Publish one environment's Estuary Flow catalog with flowctl.

Run by a Pulumi ``command.local.Command`` (deploy.py): ``python3 publish.py <catalog-dir>``. The
directory is what the compiler renders from ``catalog.files``: ``flow.yaml`` and ``publish.json``.
Deleting is the command's own ``delete`` (deploy.delete_command), which needs none of these files.
Standard library only.

Environment: ``ESTUARY_REFRESH_TOKEN`` (a Flow refresh token, base64 of ``{"id", "secret"}``,
generated under Admin > CLI-API) and, to publish, one ``ESTUARY_ENDPOINT_<TASK>`` per task holding
its endpoint configuration as a JSON object (from ESC). ``flowctl`` must be on PATH.

What it relies on, verified in ``estuary/flow`` ``crates/flowctl/src``:

- ``config.rs``: without a refresh token in its config file, flowctl reads ``FLOW_AUTH_TOKEN`` (base64
  JSON refresh token) and exchanges it for access tokens. The token is passed only that way, never
  as an argument (``flowctl auth token --token`` would put it in the process list), and flowctl runs
  with ``HOME`` and ``XDG_CONFIG_HOME`` in the private directory, so no stored config can take
  precedence and the access token flowctl writes back is deleted with it.
- ``catalog/publish.rs``: ``flowctl catalog publish --source <file> --auto-approve
  --default-data-plane <name>``; ``--auto-approve`` is required without a terminal, and the data
  plane applies to the specs the publication creates. Specs identical to the live ones are pruned.
- ``draft/encrypt.rs``: before publishing, flowctl encrypts every endpoint config that is not
  already sops-encrypted, through Estuary's config encryption service and the connector's endpoint
  schema (fields marked secret), so credentials are stored encrypted although they are written here
  in plain JSON; a connector without a published schema is left in plain text (flowctl warns).

The endpoint configs are written, merged with the spec's non-secret settings (publish.json), into a
private copy of the catalog (directory 0700, files 0600) that is removed on success, failure or
SIGTERM. Output of flowctl is relayed with the token and every endpoint config value masked.
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
    work = Path(tempfile.mkdtemp(prefix="estuary-"))  # mode 0700
    try:
        home = work / "home"
        home.mkdir(mode=0o700)
        source, secrets = _stage(catalog_dir, manifest, work / "catalog")
        secrets.append(token)
        command = [FLOWCTL, "catalog", "publish", "--source", str(source), "--auto-approve"]
        command += ["--default-data-plane", manifest["dataPlane"]]
        _flowctl(command, _environment(manifest, token, home), secrets)
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


def _stage(catalog_dir: Path, manifest: Mapping[str, Any], staged: Path) -> tuple[Path, list[str]]:
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
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise PublishError(
                f"the catalog directory holds {endpoint['file']}, which must only be written here"
            ) from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(merged, handle, sort_keys=True)
    return staged / manifest["catalog"], secrets


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


def _environment(manifest: Mapping[str, Any], token: str, home: Path) -> dict[str, str]:
    """flowctl's environment: the token as FLOW_AUTH_TOKEN, a private home, no endpoint configs."""
    withheld = {TOKEN_ENV, "FLOW_AUTH_TOKEN", *(e["env"] for e in manifest["endpoints"])}
    env = {k: v for k, v in os.environ.items() if k not in withheld}
    env.update({"FLOW_AUTH_TOKEN": token, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
    return env


def _flowctl(command: list[str], env: dict[str, str], secrets: list[str]) -> None:
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
    out, err = _masked(done.stdout, secrets), _masked(done.stderr, secrets)
    sys.stdout.write(out)
    sys.stderr.write(err)
    if done.returncode == 0:
        return
    last = [line for line in err.splitlines() if line.strip()][-1:] or ["(no error output)"]
    raise PublishError(f"flowctl {verb} failed with exit code {done.returncode}: {last[0]}")


def _masked(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


if __name__ == "__main__":
    sys.exit(main())
