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
  for what it asked for, by name, and adopts it (an instance a cancelled deploy launched too);
- each GPU instance is a resource of its own, terminated on its own, and its delete waits until
  it is terminated (a file system it mounts cannot be deleted before);
- one client per API URL and key in a process, so concurrent resources share the rate limits;
- replacing a key or a file system deletes the old one first, as the new one takes its name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
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
ADOPT_POLLS = 6  # after an unknown outcome, looks (POLL_SECONDS apart) for the instance before relaunching
MAX_NAME = 64  # the API's limit on an instance name
OWNER_TAG = "sophia-iac-owner"  # project/stack of the program that launched an instance

# How the providers wait (between calls, before a retry, for terminations); the tests record it.
SLEEP = time.sleep


def api(props: dict[str, Any]) -> http.Api:
    """The process's client for the props' API URL and key (resources share its rate limits)."""
    return http.shared(
        str(props["api_url"]), str(props[CREDENTIAL]), "Lambda Cloud API", per_second=PER_SECOND, sleep=SLEEP
    )


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


def _create_or_adopt(
    props: dict[str, Any],
    call: str,
    path: str,
    body: dict[str, Any],
    named: Callable[[http.Api, dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    """What ``named`` finds of this name (a failed attempt's, or one made by hand), else created: a
    create whose answer was lost is looked for again rather than retried."""
    client = api(props)
    found = named(client, props)
    if found is not None:
        return found
    try:
        created: dict[str, Any] = client.call(props["name"], call, "POST", path, body, idempotent=False)["data"]
        return created
    except http.ApiError as error:
        found = named(client, props) if _unknown(error) else None
        if found is None:
            raise
        return found


def _delete(props: dict[str, Any], call: str, path: str) -> None:
    """Delete, taking what is already gone as done."""
    try:
        api(props).call(props["name"], call, "DELETE", path)
    except http.ApiError as error:
        if not _missing(error):
            raise


class SshKeyProvider(ResourceProvider):
    """An SSH key of the account: name and public key, both fixed once created (no update endpoint)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {"name": props["name"], "public_key": props["public_key"]}
        found = _create_or_adopt(props, "create SSH key", "/ssh-keys", body, self._named)
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
        _delete(props, "delete SSH key", f"/ssh-keys/{id_}")


class FileSystemProvider(ResourceProvider):
    """A persistent file system in one region: name and region fixed once created."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {"name": props["name"], "region": props["region"]}
        found = _create_or_adopt(props, "create file system", "/filesystems", body, self._named)
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
        _delete(props, "delete file system", f"/filesystems/{id_}")


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


class GpuInstanceProvider(ResourceProvider):
    """One instance of a GPU pool, named ``<pool>-<env>-<n>``: the pool's type, in the first of its
    regions with capacity, with its SSH key and the file system of the region it lands in.

    Before the launch, the live price times the instances the pool runs (``count``) is checked
    against the pool's budget; over it, nothing is launched. An instance numbered at or beyond
    ``max_count`` is never launched. Lowering the pool's count deletes the highest-numbered (the
    newest) instances; deleting the pool deletes them all, each waiting until it is terminated.
    """

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = api(props)
        name = str(props["name"])
        if int(props["index"]) >= int(props["max_count"]):
            raise http.ApiError(name, "launch", f"instance {props['index']} is beyond maxCount {props['max_count']}")
        if len(name) > MAX_NAME:
            raise http.ApiError(name, "launch", f"the instance name is longer than the API's {MAX_NAME} characters")
        running = self._ours(client, props)  # one a failed or cancelled attempt launched: adopt it
        if running is None:
            _check_budget(client, props)
            running = self._launch(client, props)
        return CreateResult(running["id"], {**props, "instance_id": running["id"], "region": running["region"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = self._listed(api(props), props).get(id_)
        if found is None or found.get("status") in GONE:
            return ReadResult(None, {})  # terminated outside Pulumi: refresh drops it, the next up launches it
        return ReadResult(id_, {**props, "region": _region(found)})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The pool's count, budget and region order matter only to launches: a running instance stays.
        return _diff(olds, news, ("name", "instance_type", "ssh_key_name"))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **news, "instance_id": olds["instance_id"], "region": olds["region"]})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = api(props)
        for _ in range(TERMINATION_POLLS):  # a file system it mounts cannot be deleted before it is gone
            found = self._listed(client, props).get(id_)
            status = None if found is None else found.get("status")
            if status in (None, "terminated", "preempted"):
                return
            if status != "terminating":
                body = {"instance_ids": [id_]}
                try:
                    client.call(props["name"], "terminate", "POST", "/instance-operations/terminate", body)
                except http.ApiError as error:
                    if not _missing(error) and error.status is not None and error.status < 500:
                        # Gone or going meanwhile? The next look says; anything else is a real failure.
                        if self._listed(client, props).get(id_, {}).get("status") not in (None, *GONE):
                            raise
            client.sleep(POLL_SECONDS)
        raise http.ApiError(props["name"], "terminate", "the instance is still terminating; try again later")

    # ------------------------------------------------------------------ how

    @staticmethod
    def _listed(client: http.Api, props: dict[str, Any]) -> dict[str, Any]:
        listed = client.call(props["name"], "list instances", "GET", "/instances")["data"]
        return {str(i["id"]): i for i in listed}

    def _ours(self, client: http.Api, props: dict[str, Any]) -> dict[str, Any] | None:
        """The live instance this resource launched before its answer was lost, if any: its name, its tag
        of this stack, its type and one of its regions must all match (another stack's or a hand-made
        instance of the same name is never taken)."""
        found = [
            i
            for i in self._listed(client, props).values()
            if i.get("status") not in GONE
            and i.get("name") == props["name"]
            and _tag(i, OWNER_TAG) == props["owner"]
            and (i.get("instance_type") or {}).get("name") == props["instance_type"]
            and _region(i) in props["regions"]
        ]
        if len(found) > 1:
            ids = ", ".join(str(i["id"]) for i in found)
            raise http.ApiError(props["name"], "launch", f"several live instances carry this name and owner ({ids})")
        return {"id": str(found[0]["id"]), "region": _region(found[0])} if found else None

    def _launch(self, client: http.Api, props: dict[str, Any]) -> dict[str, Any]:
        """The instance, launched in the first region of the pool with capacity."""
        full = []
        for region in props["regions"]:
            body: dict[str, Any] = {
                "region_name": region,
                "instance_type_name": props["instance_type"],
                "ssh_key_names": [props["ssh_key_name"]],
                "name": props["name"],
                "tags": [{"key": OWNER_TAG, "value": props["owner"]}],
            }
            file_system = (props.get("file_systems") or {}).get(region)
            if file_system:
                body["file_system_names"] = [file_system]
            launched = self._launch_in(client, props, region, body)
            if launched is None:
                full.append(region)
                continue
            return launched
        raise http.ApiError(
            props["name"],
            "launch",
            f"no capacity for {props['instance_type']} in any region of the pool ({', '.join(full)}); nothing launched",
        )

    def _launch_in(
        self, client: http.Api, props: dict[str, Any], region: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The instance launched in ``region``; None when the region has no capacity.

        A launch whose outcome is unknown (a timeout, a 5xx) may have happened: the instance is looked
        for (a new one can take a while to be listed) before this launch is tried again, and never in
        another region; if it is still unknown after the last attempt, the deploy fails without launching.
        """
        for attempt in range(LAUNCH_ATTEMPTS):
            try:
                answer = client.call(
                    props["name"],
                    f"launch in {region}",
                    "POST",
                    "/instance-operations/launch",
                    body,
                    ("launch", LAUNCH_INTERVAL),
                    idempotent=False,
                )
            except http.ApiError as error:
                if error.code == INSUFFICIENT_CAPACITY and attempt == 0:
                    return None
                if not _unknown(error):
                    raise
                for _ in range(ADOPT_POLLS):
                    adopted = self._ours(client, props)
                    if adopted is not None:
                        return adopted
                    client.sleep(POLL_SECONDS)
                if attempt == LAUNCH_ATTEMPTS - 1:
                    raise http.ApiError(
                        props["name"], "launch", f"{error}; no instance of this name appeared, and none was launched"
                    ) from None
                continue
            (instance_id,) = answer["data"]["instance_ids"]
            return {"id": str(instance_id), "region": region}
        raise AssertionError("unreachable")


def _tag(instance: dict[str, Any], key: str) -> str | None:
    return next((str(t.get("value")) for t in instance.get("tags") or [] if t.get("key") == key), None)


def _check_budget(client: http.Api, props: dict[str, Any]) -> None:
    """The pool's hourly cost at the live price, with ``count`` instances, within its budget."""
    types = client.call(props["name"], "list instance types", "GET", "/instance-types")["data"]
    wanted = types.get(props["instance_type"])
    if wanted is None:
        raise http.ApiError(props["name"], "check budget", f"unknown instance type {props['instance_type']!r}")
    cents, count = int(wanted["instance_type"]["price_cents_per_hour"]), int(props["count"])
    cap_cents = round(float(props["hourly_budget_usd"]) * 100)  # in cents: no float rounding at the cap
    price, cost, cap = cents / 100, cents * count / 100, cap_cents / 100
    if cents * count > cap_cents:
        raise http.ApiError(
            props["name"],
            "check budget",
            f"pool {props['pool']}: {count} x {props['instance_type']} at the live price of ${price:.2f}/h is "
            f"${cost:.2f}/h, over its hourlyBudgetUsd of ${cap:.2f}; nothing was launched",
        )


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


class GpuInstance(pulumi.dynamic.Resource, module="lambda-labs", name="GpuInstance"):
    instance_id: pulumi.Output[str]
    region: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        outs = {**props, "instance_id": None, "region": None}
        super().__init__(GpuInstanceProvider(), name, outs, secret_options(opts))
