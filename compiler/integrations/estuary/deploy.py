"""Estuary: the environment's Flow catalog (``flow.yaml`` and ``publish.json``, rendered by the
compiler into ``files/<integration>/<environment>/``) published with flowctl by a pulumi-command
``local.Command`` that runs ``publish.py``.

The command is re-run (its ``update``) when the catalog's content changes (its digest is a
trigger) or when a credential it is given changes; the refresh token and each task's endpoint
configuration reach it only as secret environment variables from ESC. Its ``delete`` names the
tasks itself and calls flowctl directly, so it still works once the catalog files, or this module,
have left the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from pathlib import Path

import pulumi
from pulumi_command import local

from .. import runtime
from . import catalog

# flowctl's answer when none of the named tasks is live: the delete has nothing left to do.
# (estuary/flow crates/flowctl/src/catalog/delete.rs: ``flowctl catalog delete --name <task>...
# --dangerous-auto-approve`` deletes the live specs named; the captures' collections stay.)
NOTHING_TO_DELETE = "no specs found matching given selector"
# Variables that would make flowctl use another credential or configuration than the refresh token
# given (crates/flowctl/src/config.rs: FLOW_API_KEY wins over FLOW_AUTH_TOKEN; FLOWCTL_PROFILE picks
# the config file, which also names the endpoints flowctl talks to).
DELETE_WITHHELD = ("FLOW_API_KEY", "FLOWCTL_PROFILE")


def deploy(stack: runtime.Stack, instance: runtime.Instance) -> pulumi.ComponentResource | None:
    component = runtime.begin(stack, instance)
    if component is None:
        return None
    config = component.config
    folder = runtime.files(stack, component)
    manifest = json.loads(Path(folder, catalog.MANIFEST_FILE).read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for name in sorted((manifest["catalog"], catalog.MANIFEST_FILE)):
        digest.update(name.encode() + b"\0" + Path(folder, name).read_bytes())
    environment = {"ESTUARY_REFRESH_TOKEN": component.secrets["refresh-token"]}
    for task in [*config.get("captures", []), *config.get("materializations", [])]:
        environment[catalog.endpoint_env(task["name"])] = component.secrets[task["endpointConfigRef"]]
    script = os.path.relpath(Path(__file__).with_name("publish.py"), os.getcwd())
    publish = f"python3 {shlex.quote(script)} {shlex.quote(folder)}"
    options = pulumi.ResourceOptions(delete_before_replace=True)  # never a new publication then a delete of it
    published = local.Command(
        f"{component.name}.catalog",
        create=publish,
        update=publish,
        delete=delete_command(manifest["tasks"]),
        environment=environment,
        triggers=[digest.hexdigest()],
        add_previous_output_in_env=False,
        # Deleting the tasks stops the captures and materializations (their collections stay).
        opts=pulumi.ResourceOptions.merge(component.child(stateful=True), options),
    )
    return component.done({"tasks": manifest["tasks"], "catalogDigest": published.triggers})


def delete_command(tasks: list[str]) -> str:
    """A shell command deleting the named tasks with flowctl, the token from the environment only,
    and succeeding when none of them is live any more.

    flowctl runs with ``HOME`` and ``XDG_CONFIG_HOME`` in a fresh private directory (``mktemp -d``,
    removed when the shell exits), so a login stored in the operator's flowctl config cannot take
    precedence over ``FLOW_AUTH_TOKEN`` (older flowctl prefers a stored refresh token) or point it
    elsewhere, and the access token flowctl writes back is not left behind."""
    names = " ".join(f"--name {shlex.quote(task)}" for task in tasks)
    run = (
        'HOME="$flowctl_home" XDG_CONFIG_HOME="$flowctl_home/.config" FLOW_AUTH_TOKEN="$ESTUARY_REFRESH_TOKEN" '
        f"flowctl catalog delete {names} --dangerous-auto-approve 2>&1"
    )
    gone = f"*{shlex.quote(NOTHING_TO_DELETE)}*"
    return (
        f"unset {' '.join(DELETE_WITHHELD)}; flowctl_home=$(mktemp -d) || exit 1; "
        """trap 'rm -rf "$flowctl_home"' EXIT; trap 'exit 1' HUP INT TERM; """
        f'out=$({run}) || case "$out" in {gone}) ;; *) printf "%s\\n" "$out" >&2; exit 1 ;; esac'
    )
