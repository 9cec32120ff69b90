"""Lambda Labs: dynamic providers over the Lambda Cloud API v1 (docs.lambda.ai/api/cloud).

Lambda Labs has no official Pulumi provider. These implement create, read (refresh), diff, update
and delete for the account's SSH keys, file systems and firewall rules, and for a GPU pool's
instances, each through :mod:`..http` (timeouts, retries, 429 ``Retry-After``, the API's rate
limits, errors naming the resource and the call, the key masked everywhere).

Every resource takes the API key as a secret input and lists it in ``additional_secret_outputs``
(see :func:`secret_options`), so it is kept only encrypted in state: read and delete need it.

API facts these rely on (OpenAPI "Lambda Cloud API" v1.10.0): answers are ``{"data": ...}``;
errors ``{"error": {"code", "message", "suggestion"}}``; ``POST /ssh-keys`` ``{name, public_key}``;
``DELETE /ssh-keys/{id}``; ``GET /file-systems`` but ``POST /filesystems`` ``{name, region}`` and
``DELETE /filesystems/{id}``; ``PUT /firewall-rules`` ``{"data": [rules]}`` replaces the whole set;
``GET /instance-types`` keyed by type name with ``price_cents_per_hour``; ``POST
/instance-operations/launch`` one instance per call (``quantity`` is no longer accepted), failing
with ``instance-operations/launch/insufficient-capacity`` when the region is full; ``POST
/instance-operations/terminate`` ``{instance_ids}``; about one request a second, launches one per
12 seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .. import http

CREDENTIAL = "api_key"
INSUFFICIENT_CAPACITY = "instance-operations/launch/insufficient-capacity"
MISSING = ("global/object-does-not-exist", "global/not-found")
GONE = ("terminating", "terminated", "preempted")
LAUNCH_INTERVAL = 12.0  # seconds between launches, the API's documented limit
PER_SECOND = 1.0


def api(props: dict[str, Any]) -> http.Api:
    """The API as the props' key sees it."""
    return http.Api(
        base_url=str(props["api_url"]),
        credential=str(props[CREDENTIAL]),
        service="Lambda Cloud API",
        per_second=PER_SECOND,
        sleep=SLEEP,
    )


# How the providers wait (between calls, before a retry); the tests record it instead.
SLEEP = time.sleep


def secret_options(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` with the API key kept encrypted in state."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=[CREDENTIAL]))


def _missing(error: http.ApiError) -> bool:
    return error.code in MISSING or error.status == 404


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: Sequence[str]) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


class SshKeyProvider(ResourceProvider):
    """An SSH key of the account: name and public key, both fixed once created (no update endpoint)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {"name": props["name"], "public_key": props["public_key"]}
        made = api(props).call(props["name"], "create SSH key", "POST", "/ssh-keys", body)["data"]
        return CreateResult(str(made["id"]), {**props, "key_id": made["id"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        keys = api(props).call(props["name"], "list SSH keys", "GET", "/ssh-keys")["data"]
        found = next((k for k in keys if str(k["id"]) == id_), None)
        if found is None:
            return ReadResult(None, {})  # deleted outside Pulumi: refresh drops it
        return ReadResult(id_, {**props, "name": found["name"], "public_key": found["public_key"]})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("name", "public_key"))
        return DiffResult(changes=bool(replaces) or olds.get(CREDENTIAL) != news.get(CREDENTIAL), replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **news})  # only the key it authenticates with changed

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(props["name"], "delete SSH key", "DELETE", f"/ssh-keys/{id_}")
        except http.ApiError as error:
            if not _missing(error):
                raise


class FileSystemProvider(ResourceProvider):
    """A persistent file system in one region: name and region fixed once created."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {"name": props["name"], "region": props["region"]}
        made = api(props).call(props["name"], "create file system", "POST", "/filesystems", body)["data"]
        return CreateResult(str(made["id"]), {**props, "mount_point": made.get("mount_point", "")})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = next(
            (
                f
                for f in api(props).call(props["name"], "list file systems", "GET", "/file-systems")["data"]
                if str(f["id"]) == id_
            ),
            None,
        )
        if found is None:
            return ReadResult(None, {})
        region = found["region"]["name"] if isinstance(found.get("region"), dict) else found.get("region")
        return ReadResult(id_, {**props, "name": found["name"], "region": region})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("name", "region"))
        return DiffResult(changes=bool(replaces) or olds.get(CREDENTIAL) != news.get(CREDENTIAL), replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **news})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(props["name"], "delete file system", "DELETE", f"/filesystems/{id_}")
        except http.ApiError as error:
            if not _missing(error):
                raise


FIREWALL_ID = "firewall-rules"


class FirewallRulesProvider(ResourceProvider):
    """The account's inbound firewall rules, one resource for the whole set (the API replaces it whole)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._put(props, props["rules"])
        return CreateResult(FIREWALL_ID, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rules = api(props).call("firewall", "list firewall rules", "GET", "/firewall-rules")["data"]
        return ReadResult(id_, {**props, "rules": rules})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=_changed(olds, news, ("rules", CREDENTIAL)) != [], replaces=[])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._put(news, news["rules"])
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._put(props, [])  # no rule: the account's instances take no inbound traffic

    @staticmethod
    def _put(props: dict[str, Any], rules: list[dict[str, Any]]) -> None:
        api(props).call("firewall", "replace firewall rules", "PUT", "/firewall-rules", {"data": rules})


class GpuPoolProvider(ResourceProvider):
    """A GPU pool's instances: ``count`` of one type, named ``<prefix>-<n>``, each in the first region of
    ``regions`` with capacity, with the pool's SSH key and the file system of the region it lands in.

    Before any launch, the live price times the instances the pool would then run is checked against
    the budget; over it, nothing is launched. Lowering the count terminates the newest instances;
    deleting the pool terminates them all. No operation launches beyond ``max_count``.
    """

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        instances = self._scale(props, [])
        return CreateResult(str(props["prefix"]), self._outs(props, instances))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = {
            str(i["id"]): i
            for i in api(props).call(props["prefix"], "list instances", "GET", "/instances")["data"]
            if i.get("status") not in GONE
        }
        kept = [i for i in props.get("instances", []) if i["id"] in live]  # terminated outside Pulumi: dropped
        return ReadResult(id_, self._outs(props, kept))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("prefix", "instance_type", "ssh_key_name"))
        running = len(olds.get("instances", []))
        changes = (
            bool(replaces)
            or running != news["count"]
            or _changed(olds, news, ("regions", "file_systems", "max_count", "hourly_budget_usd", CREDENTIAL)) != []
        )
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        instances = self._scale(news, list(olds.get("instances", [])))
        return UpdateResult(self._outs(news, instances))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._terminate(props, [i["id"] for i in props.get("instances", [])])

    # ------------------------------------------------------------------ how

    def _scale(self, props: dict[str, Any], instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Launch or terminate until ``count`` instances run; returns them, oldest first."""
        want = int(props["count"])
        if want > int(props["max_count"]):
            raise http.ApiError(props["prefix"], "scale", f"count {want} exceeds maxCount {props['max_count']}")
        if want < len(instances):
            surplus = instances[want:]  # the newest
            self._terminate(props, [i["id"] for i in surplus])
            return instances[:want]
        if want == len(instances):
            return instances
        client = api(props)
        self._check_budget(client, props, want)
        launched: list[dict[str, Any]] = []
        used = {i["name"] for i in instances}
        names = [n for n in (f"{props['prefix']}-{k}" for k in range(int(props["max_count"]))) if n not in used]
        try:
            for name in names[: want - len(instances)]:
                launched.append(self._launch(client, props, name))
        except http.ApiError:
            # Nothing half-launched: what this operation started is terminated before the error goes up.
            self._terminate(props, [i["id"] for i in launched])
            raise
        return instances + launched

    @staticmethod
    def _check_budget(client: http.Api, props: dict[str, Any], count: int) -> None:
        types = client.call(props["prefix"], "list instance types", "GET", "/instance-types")["data"]
        wanted = types.get(props["instance_type"])
        if wanted is None:
            raise http.ApiError(props["prefix"], "check budget", f"unknown instance type {props['instance_type']!r}")
        price = int(wanted["instance_type"]["price_cents_per_hour"]) / 100
        cost, cap = price * count, float(props["hourly_budget_usd"])
        if cost > cap:
            raise http.ApiError(
                props["prefix"],
                "check budget",
                f"{count} x {props['instance_type']} at the live price of ${price:.2f}/h is ${cost:.2f}/h, over "
                f"the pool's hourlyBudgetUsd of ${cap:.2f}; nothing was launched",
            )

    @staticmethod
    def _launch(client: http.Api, props: dict[str, Any], name: str) -> dict[str, Any]:
        """One instance, in the first region of the pool with capacity."""
        full = []
        for region in props["regions"]:
            body: dict[str, Any] = {
                "region_name": region,
                "instance_type_name": props["instance_type"],
                "ssh_key_names": [props["ssh_key_name"]],
                "name": name,
            }
            file_system = (props.get("file_systems") or {}).get(region)
            if file_system:
                body["file_system_names"] = [file_system]
            try:
                answer = client.call(
                    name,
                    f"launch in {region}",
                    "POST",
                    "/instance-operations/launch",
                    body,
                    ("launch", LAUNCH_INTERVAL),
                )
            except http.ApiError as error:
                if error.code == INSUFFICIENT_CAPACITY:
                    full.append(region)
                    continue
                raise
            (instance_id,) = answer["data"]["instance_ids"]
            return {"id": str(instance_id), "name": name, "region": region}
        raise http.ApiError(
            name, "launch", f"no capacity for {props['instance_type']} in any region of the pool ({', '.join(full)})"
        )

    @staticmethod
    def _terminate(props: dict[str, Any], ids: list[str]) -> None:
        if not ids:
            return
        try:
            api(props).call(
                props["prefix"], "terminate instances", "POST", "/instance-operations/terminate", {"instance_ids": ids}
            )
        except http.ApiError as error:
            if not _missing(error):
                raise

    @staticmethod
    def _outs(props: dict[str, Any], instances: list[dict[str, Any]]) -> dict[str, Any]:
        return {**props, "instances": instances, "regions_used": sorted({i["region"] for i in instances})}


# ---------------------------------------------------------------------- resources


class SshKey(pulumi.dynamic.Resource):
    key_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(SshKeyProvider(), name, {**props, "key_id": None}, secret_options(opts))


class FileSystem(pulumi.dynamic.Resource):
    mount_point: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(FileSystemProvider(), name, {**props, "mount_point": None}, secret_options(opts))


class FirewallRules(pulumi.dynamic.Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(FirewallRulesProvider(), name, props, secret_options(opts))


class GpuPool(pulumi.dynamic.Resource):
    instances: pulumi.Output[list[dict[str, Any]]]
    regions_used: pulumi.Output[list[str]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        outs = {**props, "instances": None, "regions_used": None}
        super().__init__(GpuPoolProvider(), name, outs, secret_options(opts))
