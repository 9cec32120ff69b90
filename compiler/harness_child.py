"""Runs one generated Pulumi program for one stack under Pulumi mocks; prints JSON.

Started by :mod:`compiler.harness` as a separate interpreter per stack (the
SDK keeps a root stack per process). It imports only the standard library
and the Pulumi SDK, so it proves the generated project runs on its own.
Input (stdin, JSON): project, stack, config, secretKeys. Output (stdout, JSON):
every registered resource with its inputs, secret markers and options, and every
secret the program read from stack config.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks
from pulumi.runtime.stack import run_pulumi_func

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def plain(value: Any) -> Any:
    """Wire values as JSON: secrets as {"__secret__": v}, integral floats as ints."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_VALUE:
            return {"__secret__": plain(value.get("value"))}
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """Sees what plain Mocks.new_resource cannot: parent, options, secret markers."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.records: list[dict[str, Any]] = []
        self.outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.records.append(_record(request, response.urn))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _record(request: Any, urn: str) -> dict[str, Any]:
    return {
        "urn": urn,
        "type": request.type,
        "name": request.name,
        "custom": bool(request.custom),
        "parent": request.parent,
        "provider": request.provider,
        "inputs": plain(json_format.MessageToDict(request.object)),
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "dependencies": sorted(request.dependencies),
        "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
        "ignoreChanges": sorted(request.ignoreChanges),
    }


def _record_secret_reads(reads: set[str]) -> None:
    """Note every secret the program reads from stack config (``namespace:key``)."""
    original = pulumi.Config.require_secret

    def require_secret(self: pulumi.Config, key: str) -> pulumi.Output[str]:
        reads.add(self.full_key(key))
        return original(self, key)

    pulumi.Config.require_secret = require_secret  # type: ignore[method-assign]


def _run_program(program: str) -> None:
    runpy.run_path(f"{program}/__main__.py", run_name="__main__")


async def _exports() -> dict[str, Any]:
    """The stack's exports; set_mocks finished the root stack, so read them off it."""
    root = pulumi.runtime.get_root_resource()
    out: dict[str, Any] = {}
    for key, value in sorted(getattr(root, "outputs", {}).items()):
        output = pulumi.Output.from_input(value)
        resolved = await output.future()
        out[key] = {"__secret__": plain(resolved)} if await output.is_secret() else plain(resolved)
    return out


def main() -> int:
    job = json.load(sys.stdin)
    monitor = RecordingMonitor(Mocks())
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks.set_mocks(Mocks(), project=job["project"], stack=job["stack"], preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(job["config"], job["secretKeys"])
    sys.path.insert(0, job["program"])
    reads: set[str] = set()
    _record_secret_reads(reads)
    loop.run_until_complete(run_pulumi_func(lambda: _run_program(job["program"])))
    leaked = sorted(m for m in sys.modules if m == "compiler" or m.startswith("compiler."))
    for record in monitor.records:
        record["outputs"] = monitor.outputs.get(record["urn"], {})
    exports = loop.run_until_complete(_exports())
    result = {"resources": monitor.records, "outputs": exports, "leakedImports": leaked, "secretReads": sorted(reads)}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
