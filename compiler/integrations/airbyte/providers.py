"""Airbyte: one workspace's sources, destinations and connections, as dynamic providers over the public API.

The base URL is a prop: ``https://api.airbyte.com/v1`` (Cloud) or ``<host>/api/public/v1`` (self-managed).
Verified against Airbyte's OpenAPI document (airbytehq/airbyte-platform,
``airbyte-api/server-api/src/main/openapi/api.yaml``, as published on reference.airbyte.com), the
server's public-API controllers and mappers in the same repository, and cross-checked with
airbytehq/airbyte-api-python-sdk and airbytehq/terraform-provider-airbyte:

- ``POST /applications/token`` (no auth header), JSON ``{client_id, client_secret, "grant-type":
  "client_credentials"}`` (the hyphen is the wire name, as ``PublicApiGeneratedModelWireFormatTest``
  in the server checks; the OpenAPI document's ``required`` list says ``grant_type``), answers
  ``{access_token, token_type: "Bearer", expires_in}``; tokens last minutes. Every other call
  sends ``Authorization: Bearer <access_token>`` and answers 401 once it has expired.
- ``POST /sources`` ``{name, workspaceId, configuration}``: the configuration's ``sourceType`` names
  the connector (the server removes it and keeps the definition). Answers ``SourceResponse``
  ``{sourceId, name, sourceType, workspaceId, definitionId, configuration, createdAt}``
  (``createdAt`` in epoch seconds; secrets in ``configuration`` come back masked).
  ``PUT /sources/{id}`` ``{name, configuration}`` overwrites both (the type cannot change: the server
  drops ``sourceType`` from a PUT). ``DELETE /sources/{id}`` answers 204 and only tombstones it, and
  ``GET /sources/{id}`` goes on answering 200 for it (airbytehq/airbyte#26182, PR #8355), so what
  exists is read from the listing ``GET /sources?workspaceIds=<id>&limit=<n>&offset=<k>`` (deleted
  ones left out by default) ``{data: [...], next, previous}``, paged until a short page.
- ``/destinations``: the same, with ``destinationType``, ``destinationId`` and ``DestinationResponse``.
- ``POST /connections`` ``{sourceId, destinationId, name, schedule, status,
  nonBreakingSchemaUpdatesBehavior}`` answers ``ConnectionResponse`` (also ``workspaceId``,
  ``createdAt``); ``GET``/``PATCH /connections/{id}`` (``PATCH`` takes no ``sourceId`` or
  ``destinationId``: a new one replaces the connection); ``DELETE`` answers 204 and marks it
  ``deprecated``; ``GET /connections?workspaceIds=...`` pages as above.
- ``schedule`` is ``{scheduleType: cron|manual, cronExpression}``: a Quartz expression (seconds first,
  one of day-of-month and day-of-week ``?``, day-of-week 1 = Sunday), run in UTC; a trailing ``UTC``
  is stripped on write, and reads answer ``"<expression> UTC"`` (or ``scheduleType: basic`` with
  ``basicTiming`` for a schedule set in the UI). The server rejects a cron whose seconds are not one
  number and, unless the organisation is entitled to shorter intervals, one that runs more than once
  an hour (``ConnectionScheduleHelper``).
- Errors are problem JSON ``{type, title, status, detail}``.

Not verified: Airbyte's rate limits (none are documented; 429s are honoured by :mod:`..http`), and
whether a GET of a deleted connection answers 404 or the connection as ``deprecated`` (both are
taken as gone).

A create is not idempotent. When its answer is lost (a timeout, a 5xx), the workspace is listed for a
resource of that exact name (and type, or source and destination) created since the request, which
is adopted; none or several found fail the deploy, which a rerun resumes (never a duplicate, never
an older namesake such as the one a replacement is about to delete).

The client id and secret and the connector configuration are secret props (``SECRET_OUTPUTS``);
the client credentials, the access token and every string of the configuration but its connector
type are masked in errors. The deploy module registers :class:`Source`, :class:`Destination` and
:class:`Connection`; the health check compares ``GET /connections/{id}`` with :func:`connection_drift`,
which takes the declared settings from :func:`connection_settings`, as :func:`connection_body` does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .. import http
from .declared import connection_body, connection_drift, problems

SERVICE = "Airbyte API"
CLIENT_ID, CLIENT_SECRET = "client_id", "client_secret"
SECRET_OUTPUTS = [CLIENT_ID, CLIENT_SECRET, "configuration"]
ACCESS = ("api_url", CLIENT_ID, CLIENT_SECRET)  # how Airbyte is reached: a change updates nothing there
PAGE = 100  # the listing endpoints' largest page
SKEW = 120.0  # seconds of clock difference tolerated when telling what a lost create made from older ones
MASK_FROM = 4  # configuration strings this long or longer are masked in errors (shorter ones garble text)
# How the providers wait before a retry; the tests record it instead.
SLEEP = time.sleep


# ---------------------------------------------------------------------- access


class Session:
    """One application's access to one Airbyte API: an access token fetched on first use and fetched
    anew (once per call) when a call answers 401, shared by every resource of the process."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, sleep: Callable[[float], None]) -> None:
        self.base_url, self.sleep = base_url, sleep
        self._client_id, self._client_secret = client_id, client_secret
        self._api: http.Api | None = None
        self._lock = threading.Lock()

    def call(
        self,
        resource: str,
        call: str,
        method: str,
        path: str,
        body: Any = None,
        idempotent: bool = True,
        secrets: Iterable[str] = (),
    ) -> Any:
        """The JSON answer of one call, as :meth:`http.Api.call`; the client credentials, the token and
        ``secrets`` are masked in any error. A 401 means the token expired: Airbyte did nothing, so the
        call (a create too) is made once more with a new token."""
        try:
            api = self._current(resource, None)
            try:
                return api.call(resource, call, method, path, body, idempotent=idempotent)
            except http.ApiError as error:
                if error.status != 401:
                    raise
            return self._current(resource, api).call(resource, call, method, path, body, idempotent=idempotent)
        except http.ApiError as error:
            token = self._api.credential if self._api else ""
            raise _masked(error, (self._client_id, self._client_secret, token, *secrets)) from None

    def _current(self, resource: str, stale: http.Api | None) -> http.Api:
        """The client of the current token; a new token when it is still ``stale`` (threads that saw the
        same 401 fetch one new token between them)."""
        with self._lock:
            if self._api is None or self._api is stale:
                self._api = http.Api(self.base_url, self._token(resource), SERVICE, sleep=self.sleep)
            return self._api

    def _token(self, resource: str) -> str:
        """A new access token (the exchange changes nothing at Airbyte, so it is retried like a read)."""
        exchange = http.Api(self.base_url, self._client_secret, SERVICE, auth="none", sleep=self.sleep)
        body = {CLIENT_ID: self._client_id, CLIENT_SECRET: self._client_secret, "grant-type": "client_credentials"}
        answer = exchange.call(resource, "get access token", "POST", "/applications/token", body)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise http.ApiError(resource, "get access token", "the answer holds no access_token")
        return str(token)


_SESSIONS: dict[tuple[str, str], Session] = {}
_SESSIONS_LOCK = threading.Lock()


def session(props: Mapping[str, Any]) -> Session:
    """The process's session for the props' API URL and application (indexed by a digest only)."""
    url, client_id, secret = str(props["api_url"]), str(props[CLIENT_ID]), str(props[CLIENT_SECRET])
    key = (url, hashlib.sha256(f"{client_id}\0{secret}".encode()).hexdigest())
    with _SESSIONS_LOCK:
        found = _SESSIONS.get(key)
        if found is None or found.sleep is not SLEEP:
            found = _SESSIONS[key] = Session(url, client_id, secret, SLEEP)
        return found


def _masked(error: http.ApiError, secrets: Iterable[str]) -> http.ApiError:
    """``error`` with every one of ``secrets``, as sent or as JSON escapes it, masked in what follows the
    resource and call it names (longest first: one may contain another), and the start of one that
    ends the text (the service's answer is cut short there)."""
    text = str(error)
    head = f"{error.resource}: {error.call}" if text.startswith(f"{error.resource}: {error.call}") else ""
    rest = text[len(head) :]
    forms = sorted({form for s in secrets if s for form in (s, json.dumps(s)[1:-1])}, key=len, reverse=True)
    for form in forms:
        rest = rest.replace(form, http.MASK)
    cut = next((n for form in forms for n in range(len(form) - 1, MASK_FROM - 1, -1) if rest.endswith(form[:n])), 0)
    if cut:
        rest = rest[:-cut] + http.MASK
    error.args = (head + rest,)
    return error


def _strings(value: Any) -> Iterator[str]:
    """Every string in a configuration of at least ``MASK_FROM`` characters: any may be a credential."""
    if isinstance(value, str) and len(value) >= MASK_FROM:
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _unknown(error: http.ApiError) -> bool:
    """Whether a failed create may have happened all the same (no answer, or a 5xx)."""
    return error.status is None or error.status >= 500


def _listed(client: Session, resource: str, kind: str, workspace_id: str) -> list[dict[str, Any]]:
    """Every live (not deleted) source, destination or connection of the workspace, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        path = f"/{kind}?workspaceIds={workspace_id}&limit={PAGE}&offset={len(found)}"
        page = client.call(resource, f"list {kind}", "GET", path)["data"]
        found.extend(page)
        if len(page) < PAGE:
            return found


def _adopt(
    client: Session, props: Mapping[str, Any], kind: str, asked: float, error: http.ApiError, **match: Any
) -> dict[str, Any]:
    """The one resource of this name (and ``match``) a create whose answer was lost made: ``error``,
    noting what was found, when there is not exactly one."""
    name = str(props["name"])
    made = [
        found
        for found in _listed(client, name, kind, str(props["workspace_id"]))
        if found.get("name") == name
        and float(found.get("createdAt") or 0) >= asked
        and all(str(found.get(k) or "").lower() == str(v).lower() for k, v in match.items())
    ]
    if len(made) == 1:
        return made[0]
    what = kind.rstrip("s")
    note = f"{len(made)} {kind} of this name appeared meanwhile" if made else f"no {what} of this name appeared"
    error.args = (f"{error}; {note}, so none was adopted",)
    raise error


def _changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


def _delete(client: Session, props: Mapping[str, Any], kind: str, id_: str) -> None:
    """Delete, taking what is already gone as done."""
    try:
        client.call(str(props["name"]), f"delete {kind.rstrip('s')}", "DELETE", f"/{kind}/{id_}")
    except http.ApiError as error:
        if error.status != 404:
            raise


# ---------------------------------------------------------------------- sources and destinations


class _ConnectorProvider(ResourceProvider):
    """A source or destination: ``api_url``, ``client_id`` and ``client_secret`` (secret),
    ``workspace_id``, ``name`` and ``configuration`` (secret; a dict naming the connector in
    ``sourceType``/``destinationType``). A new type or workspace replaces it; a new name or
    configuration is written in place (``PUT``)."""

    serialize_as_secret_always = False
    kind: str  # the API's collection: sources or destinations
    id_field: str  # sourceId or destinationId
    type_key: str  # sourceType or destinationType

    @property
    def noun(self) -> str:
        return self.kind.rstrip("s")

    @property
    def output(self) -> str:
        return f"{self.noun}_id"

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = session(props)
        configuration = http.whole_numbers(props["configuration"])
        body = {"name": props["name"], "workspaceId": props["workspace_id"], "configuration": configuration}
        asked = time.time() - SKEW
        try:
            made = self._call(client, props, f"create {self.noun}", "POST", f"/{self.kind}", body, idempotent=False)
        except http.ApiError as error:
            if not _unknown(error):
                raise
            made = _adopt(client, props, self.kind, asked, error, **{self.type_key: _type(props, self.type_key)})
        id_ = str(made[self.id_field])
        return CreateResult(id_, {**props, self.output: id_})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        listed = _listed(session(props), str(props["name"]), self.kind, str(props["workspace_id"]))
        found = next((f for f in listed if str(f.get(self.id_field)) == id_), None)
        if found is None:
            return ReadResult(None, {})  # deleted outside Pulumi (a GET would still answer it)
        return ReadResult(id_, {**props, "name": found["name"], "workspace_id": found["workspaceId"], self.output: id_})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("workspace_id",))
        if _type(olds, self.type_key) != _type(news, self.type_key):
            replaces.append("configuration")
        changed = _changed(olds, news, ("name", "configuration", *ACCESS))
        return DiffResult(changes=bool(replaces or changed), replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, ("name", "configuration")):
            body = {"name": news["name"], "configuration": http.whole_numbers(news["configuration"])}
            self._call(session(news), news, f"update {self.noun}", "PUT", f"/{self.kind}/{id_}", body)
        return UpdateResult({**news, self.output: id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _delete(session(props), props, self.kind, id_)

    def _call(
        self,
        client: Session,
        props: Mapping[str, Any],
        call: str,
        method: str,
        path: str,
        body: Any,
        idempotent: bool = True,
    ) -> Any:
        """A call whose error text masks the configuration but its connector type (the service may echo it)."""
        secrets = _strings({k: v for k, v in props["configuration"].items() if k != self.type_key})
        return client.call(str(props["name"]), call, method, path, body, idempotent=idempotent, secrets=secrets)


def _type(props: Mapping[str, Any], key: str) -> str:
    return str((props.get("configuration") or {}).get(key) or "")


class SourceProvider(_ConnectorProvider):
    kind, id_field, type_key = "sources", "sourceId", "sourceType"


class DestinationProvider(_ConnectorProvider):
    kind, id_field, type_key = "destinations", "destinationId", "destinationType"


# ---------------------------------------------------------------------- connections


class ConnectionProvider(ResourceProvider):
    """A connection: ``api_url``, ``client_id`` and ``client_secret`` (secret), ``workspace_id``,
    ``name``, ``source_id``, ``destination_id``, ``schedule`` (five-field UTC cron, or none for manual
    syncs), ``status`` (active|inactive) and ``schema_changes`` (the non-breaking schema-change policy).

    A new source, destination or workspace replaces it, the old one deleted first (two connections
    would sync into the same tables); the rest is patched in place. A refresh records in the ``drift``
    output how the schedule, status and policy Airbyte holds differ from the declared ones
    (:func:`connection_drift`); the next update patches them back.
    """

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [CheckFailure(key, problem) for key, problem in problems(news)])

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = session(props)
        body = {**connection_body(props), "sourceId": props["source_id"], "destinationId": props["destination_id"]}
        asked = time.time() - SKEW
        try:
            made = client.call(props["name"], "create connection", "POST", "/connections", body, idempotent=False)
        except http.ApiError as error:
            if not _unknown(error):
                raise
            ids = {"sourceId": props["source_id"], "destinationId": props["destination_id"]}
            made = _adopt(client, props, "connections", asked, error, **ids)
        id_ = str(made["connectionId"])
        return CreateResult(id_, {**props, "connection_id": id_, "drift": []})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            held = session(props).call(props["name"], "read connection", "GET", f"/connections/{id_}")
        except http.ApiError as error:
            if error.status == 404:
                return ReadResult(None, {})
            raise
        if held.get("status") == "deprecated":
            return ReadResult(None, {})  # deleted outside Pulumi
        drift = [list(found) for found in connection_drift(props, held)]
        return ReadResult(
            id_,
            {
                **props,
                "name": held["name"],
                "source_id": held["sourceId"],
                "destination_id": held["destinationId"],
                "connection_id": id_,
                "drift": drift,
            },
        )

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("source_id", "destination_id", "workspace_id"))
        changed = _changed(olds, news, ("name", "schedule", "status", "schema_changes", *ACCESS))
        return DiffResult(
            changes=bool(replaces or changed or olds.get("drift")), replaces=replaces, delete_before_replace=True
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, ("name", "schedule", "status", "schema_changes")) or olds.get("drift"):
            path = f"/connections/{id_}"
            session(news).call(news["name"], "update connection", "PATCH", path, connection_body(news))
        return UpdateResult({**news, "connection_id": id_, "drift": []})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _delete(session(props), props, "connections", id_)


# ---------------------------------------------------------------------- resources
# Each its own Pulumi type (pulumi-python:dynamic/airbyte:<Name>), fixed before any deploy: a type
# changed later would change URNs and replace what exists.


def _secret(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))


class Source(pulumi.dynamic.Resource, module="airbyte", name="Source"):
    source_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(SourceProvider(), name, {**props, "source_id": None}, _secret(opts))


class Destination(pulumi.dynamic.Resource, module="airbyte", name="Destination"):
    destination_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(DestinationProvider(), name, {**props, "destination_id": None}, _secret(opts))


class Connection(pulumi.dynamic.Resource, module="airbyte", name="Connection"):
    connection_id: pulumi.Output[str]
    drift: pulumi.Output[list[list[Any]]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        outs = {**props, "connection_id": None, "drift": None}
        super().__init__(ConnectionProvider(), name, outs, _secret(opts))
