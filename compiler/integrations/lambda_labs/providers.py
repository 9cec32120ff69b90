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

What the providers do about the API's failure modes (a review found each):
- a create whose outcome is unknown (a timeout, a 5xx) is not retried blind: the provider looks
  for what it asked for, by name, and adopts it; a GPU pool also adopts any live instance named
  like its own that its state lost (a failed update cannot record partial progress);
- terminations are made one instance at a time, so one already gone does not spare the others,
  and deleting a pool waits until its instances are terminated;
- one client per API URL and key in a process, so concurrent resources share the rate limits;
- replacing a key or a file system deletes the old one first, as the new one takes its name.
"""

from __future__ import annotations

import hashlib
import re
import threading
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
TERMINATION_POLLS = 60  # a pool's delete waits up to this many polls of POLL_SECONDS
POLL_SECONDS = 10.0
LAUNCH_ATTEMPTS = 3  # a launch whose outcome was unknown, and that did not happen, is tried again

# How the providers wait (between calls, before a retry, for terminations); the tests record it.
SLEEP = time.sleep
_CLIENTS: dict[tuple[str, str], http.Api] = {}
_CLIENTS_LOCK = threading.Lock()


def api(props: dict[str, Any]) -> http.Api:
    """The one client of this process for the props' API URL and key (so resources share its limits)."""
    key = (str(props["api_url"]), hashlib.sha256(str(props[CREDENTIAL]).encode()).hexdigest())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None or client.sleep is not SLEEP:
            client = _CLIENTS[key] = http.Api(
                base_url=key[0],
                credential=str(props[CREDENTIAL]),
                service="Lambda Cloud API",
                per_second=PER_SECOND,
                sleep=SLEEP,
            )
        return client


def secret_options(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` with the API key kept encrypted in state."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=[CREDENTIAL]))


def _missing(error: http.ApiError) -> bool:
    return error.code in MISSING or error.status == 404


def _unknown(error: http.ApiError) -> bool:
    """Whether a failed create may have happened all the same (no answer, or a 5xx)."""
    return error.status is None or error.status >= 500


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: Sequence[str]) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


def _diff(olds: dict[str, Any], news: dict[str, Any], replace_on: Sequence[str]) -> DiffResult:
    """Replace (the old one first: the new one takes its name) on ``replace_on``; update on the rest."""
    replaces = _changed(olds, news, replace_on)
    changes = bool(replaces) or _changed(olds, news, ("api_url", CREDENTIAL)) != []
    return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)


class SshKeyProvider(ResourceProvider):
    """An SSH key of the account: name and public key, both fixed once created (no update endpoint)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        found = self._named(client, props)
        if found is None:
            body = {"name": props["name"], "public_key": props["public_key"]}
            try:
                found = client.call(props["name"], "create SSH key", "POST", "/ssh-keys", body, idempotent=False)[
                    "data"
                ]
            except http.ApiError as error:
                found = self._named(client, props) if _unknown(error) else None
                if found is None:
                    raise
        return CreateResult(str(found["id"]), {**props, "key_id": str(found["id"])})

    @staticmethod
    def _named(client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        """The account's key of this name (one a failed attempt made, or one made by hand), adopted only
        if it holds the same public key."""
        keys = client.call(props["name"], "list SSH keys", "GET", "/ssh-keys")["data"]
        found = next((k for k in keys if k["name"] == props["name"]), None)
        if found is not None and found.get("public_key", "").strip() != str(props["public_key"]).strip():
            raise http.ApiError(
                props["name"], "create SSH key", "the account has a key of this name with another public key"
            )
        return found

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        keys = api(props).call(props["name"], "list SSH keys", "GET", "/ssh-keys")["data"]
        found = next((k for k in keys if str(k["id"]) == id_), None)
        if found is None:
            return ReadResult(None, {})  # deleted outside Pulumi: refresh drops it
        return ReadResult(id_, {**props, "name": found["name"]})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, ("name", "public_key"))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **news})  # only how it is reached (URL, key) changed

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
        client = api(props)
        found = self._named(client, props)
        if found is None:
            body = {"name": props["name"], "region": props["region"]}
            try:
                found = client.call(
                    props["name"], "create file system", "POST", "/filesystems", body, idempotent=False
                )["data"]
            except http.ApiError as error:
                found = self._named(client, props) if _unknown(error) else None
                if found is None:
                    raise
        return CreateResult(str(found["id"]), {**props, "mount_point": found.get("mount_point", "")})

    @staticmethod
    def _named(client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        systems = client.call(props["name"], "list file systems", "GET", "/file-systems")["data"]
        found = next((f for f in systems if f["name"] == props["name"]), None)
        if found is not None and _region(found) != props["region"]:
            raise http.ApiError(
                props["name"], "create file system", f"the account has one of this name in {_region(found)}"
            )
        return found

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        systems = api(props).call(props["name"], "list file systems", "GET", "/file-systems")["data"]
        found = next((f for f in systems if str(f["id"]) == id_), None)
        if found is None:
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "name": found["name"], "region": _region(found)})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, ("name", "region"))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **news})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            api(props).call(props["name"], "delete file system", "DELETE", f"/filesystems/{id_}")
        except http.ApiError as error:
            if not _missing(error):
                raise


def _region(found: dict[str, Any]) -> str:
    region = found.get("region")
    return str(region["name"] if isinstance(region, dict) else region)


FIREWALL_ID = "firewall-rules"


class FirewallRulesProvider(ResourceProvider):
    """The account's inbound firewall rules, one resource for the whole set (the API replaces it whole).

    The rules are the account's, not an environment's: one stack (the org-wide one) manages them.
    """

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._put(props, props["rules"])
        return CreateResult(FIREWALL_ID, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rules = api(props).call("firewall", "list firewall rules", "GET", "/firewall-rules")["data"]
        return ReadResult(id_, {**props, "rules": rules})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=_changed(olds, news, ("rules", "api_url", CREDENTIAL)) != [], replaces=[])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._put(news, news["rules"])
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._put(props, [])  # the rules were removed from the spec: no inbound rule is left

    @staticmethod
    def _put(props: dict[str, Any], rules: list[dict[str, Any]]) -> None:
        api(props).call("firewall", "replace firewall rules", "PUT", "/firewall-rules", {"data": rules})


class GpuPoolProvider(ResourceProvider):
    """A GPU pool's instances: ``count`` of one type, named ``<prefix>-<n>``, each in the first region of
    ``regions`` with capacity, with the pool's SSH key and the file system of the region it lands in.

    Before any launch, the live price times the instances the pool would then run is checked against
    the budget; over it, nothing is launched. Lowering the count terminates the newest instances;
    deleting the pool terminates them all and waits until they are. No operation launches beyond
    ``max_count``. Live instances named like the pool's that its state does not hold (a failed
    update's) are adopted by the next refresh or update.
    """

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        instances = self._scale(props, [])
        return CreateResult(str(props["prefix"]), self._outs(props, instances))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, self._outs(props, self._reconcile(api(props), props, props.get("instances", []))))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("prefix", "instance_type", "ssh_key_name"))
        running = len(olds.get("instances", []))
        watched = ("regions", "file_systems", "max_count", "hourly_budget_usd", "api_url", CREDENTIAL)
        changes = bool(replaces) or running != news["count"] or _changed(olds, news, watched) != []
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        instances = self._scale(news, list(olds.get("instances", [])))
        return UpdateResult(self._outs(news, instances))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = api(props)
        live = self._reconcile(client, props, props.get("instances", []))
        self._terminate(client, props, [i["id"] for i in live])
        self._wait_terminated(client, props, {i["id"] for i in live})

    # ------------------------------------------------------------------ how

    def _scale(self, props: dict[str, Any], known: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Launch or terminate until ``count`` instances run; returns them, oldest first."""
        want = int(props["count"])
        if want > int(props["max_count"]):
            raise http.ApiError(props["prefix"], "scale", f"count {want} exceeds maxCount {props['max_count']}")
        client = api(props)
        instances = self._reconcile(client, props, known)
        if want < len(instances):
            self._terminate(client, props, [i["id"] for i in instances[want:]])  # the newest
            return instances[:want]
        if want == len(instances):
            return instances
        self._check_budget(client, props, want)
        launched: list[dict[str, Any]] = []
        used = {i["name"] for i in instances}
        names = [n for n in (f"{props['prefix']}-{k}" for k in range(int(props["max_count"]))) if n not in used]
        try:
            for name in names[: want - len(instances)]:
                launched.append(self._launch(client, props, name))
        except BaseException as failure:
            # Nothing half-launched: what this operation started is terminated before the error goes up
            # (a cancelled deploy included).
            try:
                self._terminate(client, props, [i["id"] for i in launched])
            except Exception as cleanup:
                names_left = ", ".join(i["name"] for i in launched)
                raise http.ApiError(
                    props["prefix"],
                    "launch",
                    f"{failure}; and terminating what it launched ({names_left}) failed: {cleanup}",
                ) from None
            raise
        return instances + launched

    def _reconcile(self, client: http.Api, props: dict[str, Any], known: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pool's live instances: those in state still running, and any live one named like the pool's
        that state lost; oldest (lowest number) first."""
        pattern = re.compile(rf"^{re.escape(str(props['prefix']))}-(\d+)$")
        live = {
            str(i["id"]): i
            for i in client.call(props["prefix"], "list instances", "GET", "/instances")["data"]
            if i.get("status") not in GONE
        }
        kept = [i for i in known if i["id"] in live]  # terminated outside Pulumi: dropped
        held = {i["id"] for i in kept}
        for instance_id, i in live.items():
            if instance_id not in held and pattern.match(str(i.get("name", ""))):
                kept.append({"id": instance_id, "name": i["name"], "region": _region(i)})

        def number(instance: dict[str, Any]) -> int:
            found = pattern.match(str(instance["name"]))
            return int(found.group(1)) if found else 0

        return sorted(kept, key=number)

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

    def _launch(self, client: http.Api, props: dict[str, Any], name: str) -> dict[str, Any]:
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
            launched = self._launch_in(client, props, name, region, body)
            if launched is None:
                full.append(region)
                continue
            return launched
        raise http.ApiError(
            name, "launch", f"no capacity for {props['instance_type']} in any region of the pool ({', '.join(full)})"
        )

    def _launch_in(
        self, client: http.Api, props: dict[str, Any], name: str, region: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The instance launched in ``region``; None when the region has no capacity. A launch whose
        outcome is unknown (a timeout, a 5xx) is looked for by name before it is tried again."""
        for attempt in range(LAUNCH_ATTEMPTS):
            try:
                answer = client.call(
                    name,
                    f"launch in {region}",
                    "POST",
                    "/instance-operations/launch",
                    body,
                    ("launch", LAUNCH_INTERVAL),
                    idempotent=False,
                )
            except http.ApiError as error:
                if error.code == INSUFFICIENT_CAPACITY:
                    return None
                if not _unknown(error) or attempt == LAUNCH_ATTEMPTS - 1:
                    raise
                adopted = [i for i in self._reconcile(client, props, []) if i["name"] == name]
                if adopted:
                    return adopted[0]
                continue
            (instance_id,) = answer["data"]["instance_ids"]
            return {"id": str(instance_id), "name": name, "region": region}
        raise AssertionError("unreachable")

    @staticmethod
    def _terminate(client: http.Api, props: dict[str, Any], ids: list[str]) -> None:
        """Terminate each instance on its own: one already gone must not spare the others."""
        for instance_id in ids:
            body = {"instance_ids": [instance_id]}
            try:
                client.call(props["prefix"], "terminate instances", "POST", "/instance-operations/terminate", body)
            except http.ApiError as error:
                if not _missing(error):
                    raise

    @staticmethod
    def _wait_terminated(client: http.Api, props: dict[str, Any], ids: set[str]) -> None:
        """Until none of ``ids`` is live (a file system still mounted by one cannot be deleted)."""
        for _ in range(TERMINATION_POLLS):
            listed = client.call(props["prefix"], "list instances", "GET", "/instances")["data"]
            if not any(str(i["id"]) in ids and i.get("status") != "terminated" for i in listed):
                return
            client.sleep(POLL_SECONDS)
        raise http.ApiError(props["prefix"], "terminate instances", "instances are still terminating; try again later")

    @staticmethod
    def _outs(props: dict[str, Any], instances: list[dict[str, Any]]) -> dict[str, Any]:
        return {**props, "instances": instances, "regions_used": sorted({i["region"] for i in instances})}


# ---------------------------------------------------------------------- resources
# Each its own Pulumi type (pulumi-python:dynamic/lambda-labs:<Name>), set before any deploy: a
# type changed later would change URNs and replace what exists.


class SshKey(pulumi.dynamic.Resource, module="lambda-labs", name="SshKey"):
    key_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(SshKeyProvider(), name, {**props, "key_id": None}, secret_options(opts))


class FileSystem(pulumi.dynamic.Resource, module="lambda-labs", name="FileSystem"):
    mount_point: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(FileSystemProvider(), name, {**props, "mount_point": None}, secret_options(opts))


class FirewallRules(pulumi.dynamic.Resource, module="lambda-labs", name="FirewallRules"):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(FirewallRulesProvider(), name, props, secret_options(opts))


class GpuPool(pulumi.dynamic.Resource, module="lambda-labs", name="GpuPool"):
    instances: pulumi.Output[list[dict[str, Any]]]
    regions_used: pulumi.Output[list[str]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        outs = {**props, "instances": None, "regions_used": None}
        super().__init__(GpuPoolProvider(), name, outs, secret_options(opts))
