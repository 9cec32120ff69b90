"""A stateful fake of the Lambda Cloud API v1 on 127.0.0.1, for the Lambda Labs dynamic providers.

It follows the OpenAPI document "Lambda Cloud API" v1.10.0: answers wrapped in ``{"data": ...}``,
errors as ``{"error": {"code", "message", "suggestion"}}``, Bearer authentication, ``GET
/file-systems`` beside ``POST /filesystems`` and ``DELETE /filesystems/{id}``, one instance per
launch, ``instance-operations/launch/insufficient-capacity`` when a region is full.

Simplified: instances are ``active`` as soon as they are launched (no ``booting``; ``list_lag``
hides a new one from that many listings, as the API may), and a
terminated one is ``terminating`` until the next listing shows it ``terminated``; there are no
quotas, billing or per-region firewall rulesets; rate limits are not enforced, but ``fail`` scripts
any answer (a 429 with ``Retry-After``, a 5xx) for the next calls to a path, and ``fail_after``
answers with an error after doing what was asked (a lost answer).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from . import json_server

PREFIX = "/api/v1"
REGIONS = {"us-east-1": "Virginia, USA", "us-west-1": "California, USA", "us-west-2": "Arizona, USA"}


@dataclass
class Call:
    method: str
    path: str
    body: Any
    authorization: str


@dataclass
class LambdaCloud:
    """The account behind one API key: its keys, file systems, firewall rules and instances."""

    api_key: str
    prices: dict[str, int] = field(default_factory=lambda: {"gpu_1x_a10": 75, "gpu_1x_a100_sxm4": 129})
    # Region -> how many more instances it can take (absent: as many as asked).
    capacity: dict[str, int] = field(default_factory=dict)
    ssh_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    firewall: list[dict[str, Any]] = field(default_factory=list)
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # (method, path) -> answers to give, first to last, before the path behaves again.
    scripted: dict[tuple[str, str], list[tuple[int, Any, dict[str, str]]]] = field(default_factory=dict)
    # (method, path) -> statuses to answer with after doing the work, first to last.
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # How many listings a new instance is missing from (the API can take a while to list one).
    list_lag: int = 0
    hidden: dict[str, int] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, method: str, path: str, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        body = {"error": {"code": "global/internal-error", "message": f"scripted HTTP {status}"}}
        if status == 429:
            body = {"error": {"code": "global/rate-limited", "message": "Too many requests"}}
        self.scripted.setdefault((method, PREFIX + path), []).extend([(status, body, headers or {})] * times)

    def fail_after(self, method: str, path: str, status: int) -> None:
        self.after.setdefault((method, PREFIX + path), []).append(status)

    def running(self) -> list[dict[str, Any]]:
        return [i for i in self.instances.values() if i["status"] == "active"]

    # ------------------------------------------------------------------ routes

    def handle(self, method: str, path: str, body: Any, authorization: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, path, body, authorization))
            queue = self.scripted.get((method, path))
            if queue:
                return queue.pop(0)
            if authorization != f"Bearer {self.api_key}":
                return 401, _error("global/invalid-api-key", "API key was invalid, expired, or deleted."), {}
            route = path.removeprefix(PREFIX)
            parts = route.strip("/").split("/")
            handler = getattr(self, f"_{method.lower()}_{parts[0].replace('-', '_')}", None)
            if handler is None:
                return 404, _error("global/not-found", f"no route {method} {path}"), {}
            answer = handler(parts[1:], body)
            lost = self.after.get((method, path))
            if lost:
                return lost.pop(0), _error("global/internal-error", "the answer was lost"), {}
            return answer

    def _get_instance_types(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        data = {
            name: {
                "instance_type": {"name": name, "description": name, "price_cents_per_hour": cents},
                "regions_with_capacity_available": [
                    {"name": r, "description": d} for r, d in REGIONS.items() if self.capacity.get(r, 1) > 0
                ],
            }
            for name, cents in self.prices.items()
        }
        return 200, {"data": data}, {}

    def _post_instance_operations(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        if rest == ["launch"]:
            return self._launch(body)
        if rest == ["terminate"]:
            unknown = [i for i in body["instance_ids"] if i not in self.instances]
            if unknown:
                return 404, _error("global/object-does-not-exist", "Specified instance does not exist."), {}
            for instance_id in body["instance_ids"]:
                self.instances[instance_id]["status"] = "terminating"
            gone = [self.instances[i] for i in body["instance_ids"]]
            return 200, {"data": {"terminated_instances": gone}}, {}
        return 404, _error("global/not-found", "no such operation"), {}

    def _launch(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        region, kind = body["region_name"], body["instance_type_name"]
        if "quantity" in body or len(body.get("ssh_key_names", [])) != 1 or kind not in self.prices:
            return 400, _error("global/invalid-parameters", "Invalid request data."), {}
        if body["ssh_key_names"][0] not in {k["name"] for k in self.ssh_keys.values()}:
            return 400, _error("global/object-does-not-exist", "SSH key does not exist."), {}
        for name in body.get("file_system_names", []):
            found = [f for f in self.file_systems.values() if f["name"] == name]
            if not found:
                return 400, _error("global/object-does-not-exist", "File system does not exist."), {}
            if found[0]["region"]["name"] != region:
                return 400, _error("instance-operations/launch/file-system-in-wrong-region", "Wrong region."), {}
        if self.capacity.get(region, 1) <= 0:
            return 400, _error("instance-operations/launch/insufficient-capacity", "Not enough capacity."), {}
        if region in self.capacity:
            self.capacity[region] -= 1
        instance_id = f"i-{next(self._ids):04d}"
        self.instances[instance_id] = {
            "id": instance_id,
            "name": body.get("name", ""),
            "status": "active",
            "region": {"name": region, "description": REGIONS.get(region, region)},
            "instance_type": {"name": kind, "price_cents_per_hour": self.prices[kind]},
            "ssh_key_names": body["ssh_key_names"],
            "file_system_names": body.get("file_system_names", []),
            "tags": body.get("tags", []),
        }
        self.hidden[instance_id] = self.list_lag
        return 200, {"data": {"instance_ids": [instance_id]}}, {}

    def _get_instances(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        listed = [
            dict(i) for i in self.instances.values() if i["status"] != "terminated" and not self.hidden.get(i["id"])
        ]
        for instance_id, lag in self.hidden.items():
            self.hidden[instance_id] = max(0, lag - 1)
        for instance in self.instances.values():  # seen terminating once, terminated by the next look
            if instance["status"] == "terminating":
                instance["status"] = "terminated"
        return 200, {"data": listed}, {}

    def _get_ssh_keys(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, {"data": list(self.ssh_keys.values())}, {}

    def _post_ssh_keys(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        key_id = f"k-{next(self._ids):04d}"
        self.ssh_keys[key_id] = {"id": key_id, "name": body["name"], "public_key": body["public_key"]}
        return 200, {"data": self.ssh_keys[key_id]}, {}

    def _delete_ssh_keys(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.ssh_keys.pop(rest[0], None) is None:
            return 404, _error("global/object-does-not-exist", "SSH key does not exist."), {}
        return 200, {"data": {}}, {}

    def _get_file_systems(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, {"data": list(self.file_systems.values())}, {}

    def _post_filesystems(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        if any(f["name"] == body["name"] for f in self.file_systems.values()):
            return 400, _error("global/duplicate", "A file system with this name exists."), {}
        fs_id = f"fs-{next(self._ids):04d}"
        self.file_systems[fs_id] = {
            "id": fs_id,
            "name": body["name"],
            "mount_point": f"/lambda/nfs/{body['name']}",
            "region": {"name": body["region"], "description": REGIONS.get(body["region"], "")},
            "is_in_use": False,
        }
        return 200, {"data": self.file_systems[fs_id]}, {}

    def _delete_filesystems(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.file_systems.pop(rest[0], None) is None:
            return 404, _error("global/object-does-not-exist", "File system does not exist."), {}
        return 200, {"data": {"deleted_ids": [rest[0]]}}, {}

    def _get_firewall_rules(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, {"data": self.firewall}, {}

    def _put_firewall_rules(self, rest: list[str], body: Any) -> tuple[int, Any, dict[str, str]]:
        self.firewall = list(body["data"])
        return 200, {"data": self.firewall}, {}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def Server(cloud: LambdaCloud) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``."""
    return json_server.Server(cloud.handle, PREFIX)
