"""Runs one generated Pulumi program for one stack under Pulumi mocks; prints JSON.

Started by :mod:`compiler.harness` as a separate interpreter per stack (the
SDK keeps a root stack per process). It imports only the standard library
and the Pulumi SDK, so it proves the generated project runs on its own.
Input (stdin, JSON): project, stack, config, secretKeys. Output (stdout, JSON):
every registered resource with its inputs, secret markers and options, every
secret the program read from stack config, and every path of the ``integrations``
and ``gpuPools`` settings it read (``configReads``, see :class:`Recorded`).
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


class Recorded(dict):  # type: ignore[type-arg]
    """A settings mapping that notes in ``reads`` each path read from it (``a.b[].c``).

    A value read is a path; a mapping handed on whole (``items()``, ``values()``, iteration, as
    serialising it into a resource input does) reads each of its keys. Testing a key (``in``) is
    not a read. Children come back recorded too, so what is read below is noted at its own path.
    """

    def __init__(self, value: dict[str, Any], path: str, reads: set[str]) -> None:
        super().__init__(value)
        self._path, self._reads = path, reads

    def _at(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else str(key)

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self._reads.add(self._at(key))
        return recorded(value, self._at(key), self._reads)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self) -> Any:
        return iter(list(super().keys()))

    def items(self) -> Any:
        return [(k, self[k]) for k in super().keys()]

    def values(self) -> Any:
        return [self[k] for k in super().keys()]


class RecordedList(list):  # type: ignore[type-arg]
    """A list whose items are noted as ``<path>[]`` when read (see :class:`Recorded`)."""

    def __init__(self, value: list[Any], path: str, reads: set[str]) -> None:
        super().__init__(value)
        self._path, self._reads = path, reads

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        self._reads.add(f"{self._path}[]")
        if isinstance(index, slice):
            return [recorded(v, f"{self._path}[]", self._reads) for v in value]
        return recorded(value, f"{self._path}[]", self._reads)

    def __iter__(self) -> Any:
        return iter([self[i] for i in range(len(self))])


def recorded(value: Any, path: str, reads: set[str]) -> Any:
    """``value`` with every read below ``path`` noted in ``reads``."""
    if isinstance(value, dict):
        return Recorded(value, path, reads)
    if isinstance(value, list):
        return RecordedList(value, path, reads)
    return value


def unrecorded(value: Any) -> Any:
    """``value`` as plain data, read without noting anything."""
    if isinstance(value, dict):
        return {k: unrecorded(v) for k, v in dict.items(value)}
    if isinstance(value, list):
        return [unrecorded(v) for v in list.__iter__(value)]
    return value


# Stack settings whose reads are noted: the specs' values, by integration and GPU pool.
RECORDED_SETTINGS = ("integrations", "gpuPools")


def _record_config_reads(reads: set[str]) -> None:
    """Hand the program its integration and GPU pool settings recorded (see :class:`Recorded`)."""
    original = pulumi.Config.get_object

    def get_object(self: pulumi.Config, key: str, default: Any = None) -> Any:
        value = original(self, key, default)
        return recorded(value, key, reads) if key in RECORDED_SETTINGS else value

    pulumi.Config.get_object = get_object  # type: ignore[method-assign]
    # A component's outputs record its settings for people reading the stack; that is not a use.
    register_outputs = pulumi.ComponentResource.register_outputs

    def register_unrecorded(self: pulumi.ComponentResource, outputs: Any) -> None:
        register_outputs(self, unrecorded(outputs))

    pulumi.ComponentResource.register_outputs = register_unrecorded  # type: ignore[method-assign]


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
    config_reads: set[str] = set()
    _record_config_reads(config_reads)
    loop.run_until_complete(run_pulumi_func(lambda: _run_program(job["program"])))
    leaked = sorted(m for m in sys.modules if m == "compiler" or m.startswith("compiler."))
    for record in monitor.records:
        record["outputs"] = monitor.outputs.get(record["urn"], {})
    exports = loop.run_until_complete(_exports())
    result = {
        "resources": monitor.records,
        "outputs": exports,
        "leakedImports": leaked,
        "secretReads": sorted(reads),
        "configReads": sorted(config_reads),
    }
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
