"""A stateful fake of the parts of GitHub's REST API (version ``2022-11-28``) a secret-rotation runner
uses: Actions secrets of a repository and of its environments, and issues with their comments.

Followed (github/rest-api-description, ``descriptions/api.github.com/api.github.com.2022-11-28.yaml``,
and the docs.github.com pages each operation names in ``externalDocs``):

* ``GET /repos/{owner}/{repo}/actions/secrets/public-key`` and ``GET /repos/{owner}/{repo}/environments/
  {environment_name}/secrets/public-key`` (actions/get-repo-public-key, actions/get-environment-public-key):
  200 ``{key_id, key}``, ``key`` the base64 Curve25519 public key of a real PyNaCl key pair per scope.
* ``GET .../secrets`` (list, ``{total_count, secrets}``, ``per_page``/``page``), ``GET .../secrets/{name}``
  (200 ``{name, created_at, updated_at}``, never the value), ``PUT .../secrets/{name}`` with
  ``{encrypted_value, key_id}`` (both required; ``encrypted_value`` must match the schema's base64
  pattern) answering 201 ``{}`` when created and 204 when updated, ``DELETE`` 204. Every
  ``encrypted_value`` is opened with ``nacl.public.SealedBox`` and the plaintext kept, so a test can
  assert what was written (``secret_value``). A ``key_id`` other than the scope's current one, or a value
  that does not open with its key, is refused with 422 "Bad request - validation failed due to an
  improperly encrypted secret" (the answer reported for a value sealed to another scope's key,
  integrations/terraform-provider-github#2315); a missing field with 422 ``Invalid request.\\n\\n"key_id"
  wasn't supplied.`` (octokit/request.js#403, github/rest-api-description#419); a value that is not base64
  with 422 ``Invalid request.\\n\\n<value> does not match /<pattern>/.`` (github/rest-api-description#1688).
  ``rotate_key`` gives a scope a new key pair: its old ``key_id`` is refused from then on.
* ``GET /repos/{owner}/{repo}/issues`` (issues/list-for-repo): ``state`` (open, closed, all; default
  open), ``labels`` (comma-separated, an issue must carry all), ``creator``, ``assignee``, ``sort=created``
  with ``direction``, ``per_page`` (default 30, at most 100) and ``page``, and the ``link`` header
  (prev, next, last, first; absent when all results fit one page), per "Using pagination in the REST
  API". Pull requests are issues there and come back with a ``pull_request`` key: ``add_repo`` seeds
  one open pull request (#1) so a client has to filter them out.
* ``POST /repos/{owner}/{repo}/issues`` (issues/create; ``title`` required) 201 with ``Location``;
  ``GET``/``PATCH /repos/{owner}/{repo}/issues/{issue_number}`` (issues/get, issues/update: ``title``,
  ``body``, ``state``, ``state_reason``, ``labels`` and ``assignees`` replace what is held);
  ``GET``/``POST .../issues/{issue_number}/comments`` (issues/list-comments, issues/create-comment, 201
  with ``Location``). Labels not yet in the repository are created, as GitHub does. Per the schema,
  labels and assignees from a token without push access are silently dropped; from a token with push
  access, a login that cannot be assigned (not a collaborator) fails the whole call with 422
  ``Validation Failed`` and ``{"value", "resource": "Issue", "field": "assignees", "code": "invalid"}``
  (as reported in kubernetes/test-infra#1624, trstringer/manual-approval#127, open-telemetry/
  opentelemetry-java-instrumentation#4376).
* Auth: ``Authorization: Bearer <token>`` or ``token <token>``. An unknown token answers 401 ``{"message":
  "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}``; no
  credentials, or a token without access to the repository, answer 404 ``Not Found`` (the repositories
  are private). A token lacks a permission -> 403 ``Resource not accessible by personal access token``
  (``... by integration`` for an app installation token) with ``X-Accepted-GitHub-Permissions``
  (changelog 2023-08-10). Permissions follow github/docs src/github-apps/data/fpt-2022-11-28/
  fine-grained-pat-permissions.json: ``secrets:read``/``secrets:write`` for repository secrets (the public
  key needs read), ``environments:*`` and ``secrets:*`` both for environment secrets, ``issues:read``/
  ``issues:write`` for issues and comments; write implies read.
* Errors are ``{message, documentation_url, status}`` (``status`` a string, as GitHub now sends);
  unknown paths and methods answer 404.

Simplified: only what ``handle`` sees is checked, so ``X-GitHub-Api-Version`` and ``Accept`` are not
(``json_server`` passes the ``Authorization`` header alone); no primary rate-limit bookkeeping (no
``x-ratelimit-*`` headers unless scripted); no classic-PAT scopes; no milestones, issue types, locking,
reactions, ``since``/``mentioned``/``milestone`` filters or ``sort=updated|comments``; secret names are
upper-cased and matched case-insensitively like GitHub's but not otherwise validated, and the 48 KB size
limit is not enforced; ``user`` objects carry ``login``, ``id``, ``node_id``, ``type`` only; 5xx bodies
are JSON ``{"message": "Server Error"}`` where GitHub's edge may send HTML.

Set-up: ``GitHub()``, then ``add_repo("owner/repo", environments, collaborators, pull_request_labels)``
and ``add_token(token, login, permissions, push=, repositories=, app=)``; ``Server(fake)`` serves it.
Tests read what was written with ``secret_value(repo, name, environment=None)`` (the opened plaintext;
``secrets[("owner/repo" lower case, environment)][NAME]`` holds ``raw`` bytes, ``key_id`` and
timestamps), ``issues(repo)`` (pull requests left out unless asked) and ``issue(repo, number)`` (its
``comments`` included).

Fault injection: ``fail`` answers the next ``times`` calls of one method and path (query excluded) with a
status before anything else (``secondary_rate_limit`` scripts GitHub's 403/429 with ``Retry-After``);
``lose_answer`` serves the next calls that succeed, then answers 502 instead (the write happened, the
client cannot know). ``calls`` records every request: method, path with query, body, ``Authorization``,
the status answered. Only the ``Bearer`` and ``token`` schemes are understood (not Basic).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from . import json_server

Answer = tuple[int, Any, dict[str, str]]

API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest"
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"
IMPROPERLY_ENCRYPTED = "Bad request - validation failed due to an improperly encrypted secret"
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach"
    " out to GitHub Support for help, please include the request ID."
)
# Operation -> (its docs page, as in the description's externalDocs).
DOC = {
    "repo-public-key": "actions/secrets#get-a-repository-public-key",
    "env-public-key": "actions/secrets#get-an-environment-public-key",
    "repo-secrets": "actions/secrets#list-repository-secrets",
    "env-secrets": "actions/secrets#list-environment-secrets",
    "repo-secret-get": "actions/secrets#get-a-repository-secret",
    "env-secret-get": "actions/secrets#get-an-environment-secret",
    "repo-secret-put": "actions/secrets#create-or-update-a-repository-secret",
    "env-secret-put": "actions/secrets#create-or-update-an-environment-secret",
    "repo-secret-delete": "actions/secrets#delete-a-repository-secret",
    "env-secret-delete": "actions/secrets#delete-an-environment-secret",
    "issues-list": "issues/issues#list-repository-issues",
    "issues-create": "issues/issues#create-an-issue",
    "issue-get": "issues/issues#get-an-issue",
    "issue-update": "issues/issues#update-an-issue",
    "comments-list": "issues/comments#list-issue-comments",
    "comments-create": "issues/comments#create-an-issue-comment",
}


@dataclass
class Token:
    """A fine-grained token (or an app installation token, ``app=True``) and what it may do."""

    login: str
    permissions: frozenset[str]  # "secrets:write", "environments:read", "issues:write", ...
    push: bool = True  # push access to the repositories: may set labels and assignees
    repositories: frozenset[str] | None = None  # "owner/repo" (lower case) it reaches; None: all
    app: bool = False

    def allows(self, needed: Iterable[str]) -> bool:
        for want in needed:
            name, level = want.split(":")
            if f"{name}:write" not in self.permissions and (level == "write" or f"{name}:read" not in self.permissions):
                return False
        return True


@dataclass
class Secret:
    """A stored secret: the plaintext the fake opened from ``encrypted_value``, and its metadata."""

    name: str
    raw: bytes
    key_id: str
    created_at: str
    updated_at: str

    @property
    def value(self) -> str:
        return self.raw.decode()


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    labels: list[str]
    assignees: list[str]
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    pull_request: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    environments: set[str]
    collaborators: set[str]
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name -> label
    issues: dict[int, Issue] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Call:
    method: str
    path: str  # with the query
    body: Any
    authorization: str
    status: int = 0


@dataclass
class Request:
    """One call, routed: the operation, the repository (and environment), the path's remaining segments."""

    operation: str
    repo: Repo
    environment: str | None
    rest: list[str]
    query: dict[str, list[str]]
    body: Any
    token: Token
    path: str


@dataclass
class GitHub:
    """Repositories (with environments and collaborators), tokens, key pairs, secrets and issues."""

    repos: dict[str, Repo] = field(default_factory=dict)  # "owner/repo" lower case -> repo
    tokens: dict[str, Token] = field(default_factory=dict)
    # Scope ("owner/repo" lower case, environment or None) -> current key pair, and its secrets by name.
    keys: dict[tuple[str, str | None], tuple[str, PrivateKey]] = field(default_factory=dict)
    secrets: dict[tuple[str, str | None], dict[str, Secret]] = field(default_factory=dict)
    retired_key_ids: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    scripted: dict[tuple[str, str], list[tuple[int, Any, dict[str, str]]]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    api_url: str = "https://api.github.com"  # set by ``Server`` so links point at the fake
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_001))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ------------------------------------------------------------------ set-up

    def add_repo(
        self,
        full_name: str,
        environments: Iterable[str] = (),
        collaborators: Iterable[str] = (),
        pull_request_labels: Iterable[str] = (),
    ) -> Repo:
        """A private repository, its environments (each with its own key pair) and assignable logins,
        seeded with one open pull request (#1, by ``dependabot[bot]``) carrying ``pull_request_labels``."""
        owner, name = full_name.split("/")
        repo = Repo(owner, name, next(self._ids), set(environments), set(collaborators))
        self.repos[full_name.lower()] = repo
        for scope in [None, *repo.environments]:
            self.rotate_key(full_name, scope)
        self.add_pull_request(
            full_name, "Bump the actions group with 2 updates", "dependabot[bot]", pull_request_labels
        )
        return repo

    def add_token(
        self,
        token: str,
        login: str,
        permissions: Iterable[str],
        *,
        push: bool = True,
        repositories: Iterable[str] | None = None,
        app: bool = False,
    ) -> Token:
        reach = None if repositories is None else frozenset(r.lower() for r in repositories)
        self.tokens[token] = Token(login, frozenset(permissions), push, reach, app)
        return self.tokens[token]

    def add_pull_request(self, full_name: str, title: str, user: str, labels: Iterable[str] = ()) -> Issue:
        with self._lock:
            repo = self.repos[full_name.lower()]
            issue = self._new_issue(repo, title, None, user, list(labels), [])
            issue.pull_request = True
            return issue

    def rotate_key(self, full_name: str, environment: str | None = None) -> str:
        """A new key pair for the repository (or one environment); the old key_id is refused from now on."""
        with self._lock:
            scope = (full_name.lower(), environment)
            if scope in self.keys:
                self.retired_key_ids.add(self.keys[scope][0])
            key_id = str(secrets.randbelow(9 * 10**17) + 10**17)  # 18 digits, like GitHub's
            self.keys[scope] = (key_id, PrivateKey.generate())
            self.secrets.setdefault(scope, {})
            return key_id

    # ------------------------------------------------------------------ what tests read

    def secret_value(self, full_name: str, name: str, environment: str | None = None) -> str | None:
        """The plaintext last written to a secret (opened from its sealed box), or None."""
        held = self.secrets.get((full_name.lower(), environment), {}).get(name.upper())
        return held.value if held else None

    def public_key(self, full_name: str, environment: str | None = None) -> tuple[str, str]:
        key_id, private = self.keys[(full_name.lower(), environment)]
        return key_id, base64.b64encode(bytes(private.public_key)).decode()

    def issues(self, full_name: str, *, pull_requests: bool = False) -> list[Issue]:
        held = self.repos[full_name.lower()].issues.values()
        return [i for i in held if pull_requests or not i.pull_request]

    def issue(self, full_name: str, number: int) -> Issue:
        return self.repos[full_name.lower()].issues[number]

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method path`` (no query) with ``status``, serving nothing."""
        text = message or ("Server Error" if status >= 500 else "Scripted failure")
        body = {"message": text, "documentation_url": DOCS, "status": str(status)}
        self.scripted.setdefault((method, path), []).extend([(status, body, dict(headers or {}))] * times)

    def secondary_rate_limit(
        self, method: str, path: str, *, status: int = 403, retry_after: int = 60, times: int = 1
    ) -> None:
        """GitHub's secondary rate limit: 403 or 429, ``Retry-After`` seconds, the documented message."""
        body = {
            "message": SECONDARY_RATE_LIMIT,
            "documentation_url": f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": str(status),
        }
        headers = {"Retry-After": str(retry_after)}
        self.scripted.setdefault((method, path), []).extend([(status, body, headers)] * times)

    def lose_answer(self, method: str, path: str, status: int = 502, *, times: int = 1) -> None:
        """Serve the next ``times`` calls of ``method path``, then answer ``status`` instead (a lost answer)."""
        self.after.setdefault((method, path), []).extend([status] * times)

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, target: str, body: Any, authorization: str) -> Answer:
        parts = urlsplit(target)
        with self._lock:
            call = Call(method, target, body, authorization)
            self.calls.append(call)
            status, answer, headers = self._answer(method, parts.path, parse_qs(parts.query), body, authorization)
            lost = self.after.get((method, parts.path))
            if lost and status < 400:
                status, answer, headers = lost.pop(0), {"message": "Server Error"}, {}
            call.status = status
            return status, answer, {"X-GitHub-Api-Version-Selected": API_VERSION, **headers}

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any, authorization: str) -> Answer:
        queue = self.scripted.get((method, path))
        if queue:
            return queue.pop(0)
        token = None
        scheme, _, credential = authorization.strip().partition(" ")
        if authorization:
            token = self.tokens.get(credential.strip()) if scheme.lower() in ("bearer", "token") else None
            if token is None:
                return _error(401, "Bad credentials", DOCS)
        route = self._route(method, path)
        if route is None:
            return _error(404, "Not Found", DOCS)
        operation, repo, environment, rest, needed = route
        if token is None or (token.repositories is not None and repo.full_name.lower() not in token.repositories):
            return _error(404, "Not Found", _doc(operation))
        if environment is not None and environment not in repo.environments:
            return _error(404, "Not Found", _doc(operation))
        if not token.allows(needed):
            who = "integration" if token.app else "personal access token"
            accepted = ",".join(n.replace(":", "=") for n in needed)
            return (
                403,
                {"message": f"Resource not accessible by {who}", "documentation_url": _doc(operation), "status": "403"},
                {"X-Accepted-GitHub-Permissions": accepted},
            )
        handler = {
            "public-key": self._public_key,
            "secrets": self._secrets,
            "secret-get": self._secret_get,
            "secret-put": self._secret_put,
            "secret-delete": self._secret_delete,
            "issues-list": self._list,
            "issues-create": self._create,
            "issue-get": self._get,
            "issue-update": self._update,
            "comments-list": self._comments_list,
            "comments-create": self._comments_create,
        }[operation.removeprefix("repo-").removeprefix("env-")]
        return handler(Request(operation, repo, environment, rest, query, body or {}, token, path))

    def _route(self, method: str, path: str) -> tuple[str, Repo, str | None, list[str], list[str]] | None:
        segments = path.strip("/").split("/")
        if len(segments) < 4 or segments[0] != "repos":
            return None
        repo = self.repos.get(f"{unquote(segments[1])}/{unquote(segments[2])}".lower())
        if repo is None:
            return None
        rest = [unquote(s) for s in segments[3:]]
        level = "read" if method == "GET" else "write"
        if rest[:2] == ["actions", "secrets"]:
            return self._secret_route(method, repo, None, rest[2:], ["secrets:" + level])
        if len(rest) >= 3 and rest[0] == "environments" and rest[2] == "secrets":
            need = ["environments:" + level, "secrets:" + level]
            return self._secret_route(method, repo, rest[1], rest[3:], need)
        if rest[0] != "issues":
            return None
        need = ["issues:" + level]
        if len(rest) == 1 and method in ("GET", "POST"):
            return ("issues-list" if method == "GET" else "issues-create"), repo, None, [], need
        if len(rest) >= 2 and not rest[1].isdigit():
            return None
        if len(rest) == 2 and method in ("GET", "PATCH"):
            return ("issue-get" if method == "GET" else "issue-update"), repo, None, rest[1:], need
        if len(rest) == 3 and rest[2] == "comments" and method in ("GET", "POST"):
            return ("comments-list" if method == "GET" else "comments-create"), repo, None, rest[1:2], need
        return None

    @staticmethod
    def _secret_route(
        method: str, repo: Repo, environment: str | None, rest: list[str], need: list[str]
    ) -> tuple[str, Repo, str | None, list[str], list[str]] | None:
        scope = "env" if environment is not None else "repo"
        if rest == [] and method == "GET":
            return f"{scope}-secrets", repo, environment, [], need
        if rest == ["public-key"] and method == "GET":
            return f"{scope}-public-key", repo, environment, [], need
        verbs = {"GET": "get", "PUT": "put", "DELETE": "delete"}
        if len(rest) == 1 and method in verbs:
            return f"{scope}-secret-{verbs[method]}", repo, environment, rest, need
        return None

    # ------------------------------------------------------------------ secrets

    def _public_key(self, r: Request) -> Answer:
        repo, environment = r.repo, r.environment
        key_id, key = self.public_key(repo.full_name, environment)
        return 200, {"key_id": key_id, "key": key}, {}

    def _secrets(self, r: Request) -> Answer:
        repo, environment, query, path = r.repo, r.environment, r.query, r.path
        held = sorted(self.secrets[(repo.full_name.lower(), environment)].values(), key=lambda s: s.name)
        page, headers = self._page(held, query, path)
        return 200, {"total_count": len(held), "secrets": [_secret_meta(s) for s in page]}, headers

    def _secret_get(self, r: Request) -> Answer:
        operation, repo, environment, rest = r.operation, r.repo, r.environment, r.rest
        held = self.secrets[(repo.full_name.lower(), environment)].get(rest[0].upper())
        return (200, _secret_meta(held), {}) if held else _error(404, "Not Found", _doc(operation))

    def _secret_delete(self, r: Request) -> Answer:
        operation, repo, environment, rest = r.operation, r.repo, r.environment, r.rest
        held = self.secrets[(repo.full_name.lower(), environment)]
        if rest[0].upper() not in held:
            return _error(404, "Not Found", _doc(operation))
        del held[rest[0].upper()]
        return 204, None, {}

    def _secret_put(self, r: Request) -> Answer:
        operation, repo, environment, rest, body = r.operation, r.repo, r.environment, r.rest, r.body
        doc = _doc(operation)
        for required in ("encrypted_value", "key_id"):
            if not isinstance(body.get(required), str):
                return _error(422, f'Invalid request.\n\n"{required}" wasn\'t supplied.', doc)
        sealed = body["encrypted_value"]
        if not re.match(BASE64, sealed):
            return _error(422, f"Invalid request.\n\n{sealed} does not match /{BASE64}/.", doc)
        scope = (repo.full_name.lower(), environment)
        key_id, private = self.keys[scope]
        if body["key_id"] != key_id:
            return _error(422, IMPROPERLY_ENCRYPTED, doc)
        try:
            raw = SealedBox(private).decrypt(base64.b64decode(sealed, validate=True))
        except (CryptoError, binascii.Error, ValueError):
            return _error(422, IMPROPERLY_ENCRYPTED, doc)
        name, now = rest[0].upper(), _stamp(self.clock())
        held = self.secrets[scope].get(name)
        self.secrets[scope][name] = Secret(name, raw, key_id, held.created_at if held else now, now)
        return (204, None, {}) if held else (201, {}, {})

    # ------------------------------------------------------------------ issues

    def _list(self, r: Request) -> Answer:
        operation, repo, query, path = r.operation, r.repo, r.query, r.path
        state = _one(query, "state", "open")
        if state not in ("open", "closed", "all"):
            return _validation(operation, [{"resource": "Issue", "field": "state", "code": "invalid", "value": state}])
        found = [i for i in repo.issues.values() if state == "all" or i.state == state]
        wanted = [w.strip().lower() for w in _one(query, "labels", "").split(",") if w.strip()]
        found = [i for i in found if set(wanted) <= {label.lower() for label in i.labels}]
        if creator := _one(query, "creator", ""):
            found = [i for i in found if i.user.lower() == creator.lower()]
        if assignee := _one(query, "assignee", ""):
            if assignee == "none":
                found = [i for i in found if not i.assignees]
            elif assignee == "*":
                found = [i for i in found if i.assignees]
            else:
                found = [i for i in found if assignee.lower() in (a.lower() for a in i.assignees)]
        found.sort(key=lambda i: i.number, reverse=_one(query, "direction", "desc") != "asc")
        page, headers = self._page(found, query, path)
        return 200, [self._issue_json(repo, i) for i in page], headers

    def _create(self, r: Request) -> Answer:
        operation, repo, body, token = r.operation, r.repo, r.body, r.token
        title = body.get("title")
        if title is None or title == "":
            return _validation(operation, [{"resource": "Issue", "field": "title", "code": "missing_field"}])
        labels, assignees = _names(body.get("labels")), _names(body.get("assignees"))
        if not token.push:
            labels, assignees = [], []
        if problem := self._unassignable(repo, assignees, operation):
            return problem
        issue = self._new_issue(repo, str(title), body.get("body"), token.login, labels, assignees)
        return 201, self._issue_json(repo, issue), {"Location": self._issue_url(repo, issue.number)}

    def _get(self, r: Request) -> Answer:
        operation, repo, rest = r.operation, r.repo, r.rest
        issue = repo.issues.get(int(rest[0]))
        return (200, self._issue_json(repo, issue), {}) if issue else _error(404, "Not Found", _doc(operation))

    def _update(self, r: Request) -> Answer:
        operation, repo, rest, body, token = r.operation, r.repo, r.rest, r.body, r.token
        issue = repo.issues.get(int(rest[0]))
        if issue is None:
            return _error(404, "Not Found", _doc(operation))
        state = body.get("state")
        if state is not None and state not in ("open", "closed"):
            return _validation(operation, [{"resource": "Issue", "field": "state", "code": "invalid", "value": state}])
        assignees = _names(body["assignees"]) if "assignees" in body and token.push else None
        if assignees and (problem := self._unassignable(repo, assignees, operation)):
            return problem
        now = _stamp(self.clock())
        if body.get("title") is not None:
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = body["body"]
        if "labels" in body and token.push:
            issue.labels = self._labels(repo, _names(body["labels"]))
        if assignees is not None:
            issue.assignees = assignees
        if state == "closed" and issue.state == "open":
            issue.state, issue.closed_at = "closed", now
            issue.state_reason = body.get("state_reason") or "completed"
        elif state == "open" and issue.state == "closed":
            issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
        issue.updated_at = now
        return 200, self._issue_json(repo, issue), {}

    def _comments_list(self, r: Request) -> Answer:
        operation, repo, rest, query, path = r.operation, r.repo, r.rest, r.query, r.path
        issue = repo.issues.get(int(rest[0]))
        if issue is None:
            return _error(404, "Not Found", _doc(operation))
        page, headers = self._page(issue.comments, query, path)
        return 200, page, headers

    def _comments_create(self, r: Request) -> Answer:
        operation, repo, rest, body, token = r.operation, r.repo, r.rest, r.body, r.token
        issue = repo.issues.get(int(rest[0]))
        if issue is None:
            return _error(404, "Not Found", _doc(operation))
        if not isinstance(body.get("body"), str) or not body["body"]:
            return _validation(operation, [{"resource": "IssueComment", "field": "body", "code": "missing_field"}])
        number, now, comment_id = issue.number, _stamp(self.clock()), next(self._ids)
        url = f"{self.api_url}/repos/{repo.full_name}/issues/comments/{comment_id}"
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": url,
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": self._issue_url(repo, number),
            "body": body["body"],
            "user": _user(token.login),
            "created_at": now,
            "updated_at": now,
            "author_association": "COLLABORATOR" if token.push else "NONE",
        }
        issue.comments.append(comment)
        issue.updated_at = now
        return 201, comment, {"Location": url}

    # ------------------------------------------------------------------ helpers

    def _new_issue(
        self, repo: Repo, title: str, body: str | None, user: str, labels: list[str], assignees: list[str]
    ) -> Issue:
        now = _stamp(self.clock())
        number = max(repo.issues, default=0) + 1
        issue = Issue(number, next(self._ids), title, body, user, self._labels(repo, labels), assignees, now, now)
        repo.issues[number] = issue
        return issue

    def _labels(self, repo: Repo, names: list[str]) -> list[str]:
        kept: list[str] = []
        for name in names:
            label = repo.labels.get(name.lower())
            if label is None:
                label_id = next(self._ids)
                label = {
                    "id": label_id,
                    "node_id": f"LA_{label_id}",
                    "url": f"{self.api_url}/repos/{repo.full_name}/labels/{quote(name)}",
                    "name": name,
                    "color": "ededed",
                    "default": False,
                    "description": None,
                }
                repo.labels[name.lower()] = label
            if label["name"] not in kept:
                kept.append(label["name"])
        return kept

    @staticmethod
    def _unassignable(repo: Repo, assignees: list[str], operation: str) -> Answer | None:
        allowed = {c.lower() for c in repo.collaborators}
        bad = [{"value": a, "resource": "Issue", "field": "assignees", "code": "invalid"} for a in assignees]
        bad = [b for b in bad if b["value"].lower() not in allowed]
        return _validation(operation, bad[:1]) if bad else None

    def _issue_url(self, repo: Repo, number: int) -> str:
        return f"{self.api_url}/repos/{repo.full_name}/issues/{number}"

    def _issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = self._issue_url(repo, issue.number)
        kind = "pull" if issue.pull_request else "issues"
        held = {
            "id": issue.id,
            "node_id": f"{'PR' if issue.pull_request else 'I'}_{issue.id}",
            "url": url,
            "repository_url": f"{self.api_url}/repos/{repo.full_name}",
            "labels_url": url + "/labels{/name}",
            "comments_url": url + "/comments",
            "events_url": url + "/events",
            "html_url": f"https://github.com/{repo.full_name}/{kind}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": _user(issue.user),
            "labels": [repo.labels[name.lower()] for name in issue.labels],
            "assignee": _user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [_user(a) for a in issue.assignees],
            "milestone": None,
            "locked": False,
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": "NONE",
        }
        if issue.pull_request:
            pr = f"{self.api_url}/repos/{repo.full_name}/pulls/{issue.number}"
            html = f"https://github.com/{repo.full_name}/pull/{issue.number}"
            held["pull_request"] = {
                "url": pr,
                "html_url": html,
                "diff_url": html + ".diff",
                "patch_url": html + ".patch",
                "merged_at": None,
            }
        return held

    def _page(self, items: list[Any], query: dict[str, list[str]], path: str) -> tuple[list[Any], dict[str, str]]:
        per_page = min(max(_int(_one(query, "per_page", ""), 30), 1), 100)
        page = max(_int(_one(query, "page", ""), 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chosen = items[(page - 1) * per_page : page * per_page]
        if last == 1:
            return chosen, {}

        def link(number: int, rel: str) -> str:
            params = {k: v[-1] for k, v in query.items() if k != "page"}
            return f'<{self.api_url}{path}?{urlencode({**params, "page": number})}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels.append(link(min(page - 1, last), "prev"))
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            rels.append(link(1, "first"))
        return chosen, {"Link": ", ".join(rels)}


def _secret_meta(secret: Secret) -> dict[str, str]:
    return {"name": secret.name, "created_at": secret.created_at, "updated_at": secret.updated_at}


def _user(login: str) -> dict[str, Any]:
    uid = int.from_bytes(login.encode()[:6].ljust(6, b"\0"), "big") % 10**8
    return {"login": login, "id": uid, "node_id": f"U_{uid}", "type": "Bot" if login.endswith("[bot]") else "User"}


def _names(value: Any) -> list[str]:
    names = []
    for item in value or []:
        name = (item.get("name") or item.get("login")) if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _one(query: dict[str, list[str]], name: str, default: str) -> str:
    return query.get(name, [default])[-1]


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _doc(operation: str) -> str:
    return f"{DOCS}/{DOC[operation]}"


def _error(status: int, message: str, documentation_url: str) -> Answer:
    return status, {"message": message, "documentation_url": documentation_url, "status": str(status)}, {}


def _validation(operation: str, errors: list[dict[str, Any]]) -> Answer:
    body = {"message": "Validation Failed", "errors": errors, "documentation_url": _doc(operation), "status": "422"}
    return 422, body, {}


def Server(service: GitHub) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``; links in answers point at it."""
    server = json_server.Server(service.handle)
    service.api_url = server.url
    return server
