"""``sophia-iac remind``: for the secrets people rotate by hand, one GitHub issue per environment
listing what is due (opened once, then updated, closed when nothing is due), assigned to the
policies' assignees, and a message to the policies' Slack routes when the list changes.

GitHub REST API (``X-GitHub-Api-Version: 2022-11-28``, ``Authorization: Bearer <token>``):
``GET /repos/{owner}/{repo}/issues?state=open&labels=<label>&per_page=100&page=<n>`` (pull requests
come back too, with a ``pull_request`` key, and are skipped), ``POST /repos/{owner}/{repo}/issues``
``{title, body, labels, assignees}``, ``PATCH /repos/{owner}/{repo}/issues/{number}`` ``{body,
assignees, state}``. Slack incoming webhooks take ``POST {"text": ...}``. A person who rotated a
secret records it with ``sophia-iac rotate --env ENV --secret NAME --record``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import SophiaIacError
from ..model import Model
from . import DUE, OVERDUE, REMINDER, UNKNOWN, Planned, iso, planned, status
from . import state as records
from .esc import Esc, EscError

LABEL = "sophia-iac:rotation"
MARKER = "<!-- sophia-iac rotation reminder: {env} -->"


class GitHubError(SophiaIacError):
    """A GitHub call failed for good."""


@dataclass
class GitHub:
    repository: str  # owner/name
    token: str = field(repr=False)
    base_url: str = "https://api.github.com"
    retries: int = 3
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        url = f"{self.base_url.rstrip('/')}/repos/{self.repository}{path}"
        with httpx.Client(timeout=30.0) as client:
            for attempt in range(self.retries + 1):
                idempotent = method in ("GET", "PUT")  # a PUT of a secret writes the same value again
                try:
                    answer = client.request(method, url, json=body, headers=headers)
                except httpx.HTTPError as exc:
                    if not idempotent or attempt == self.retries:
                        raise GitHubError(f"GitHub {method} {path}: {type(exc).__name__}") from None
                    self.sleep(2.0**attempt)
                    continue
                limited = answer.status_code in (403, 429) and "retry-after" in answer.headers
                if (limited or (answer.status_code >= 500 and idempotent)) and attempt < self.retries:
                    self.sleep(float(answer.headers.get("retry-after", 2.0**attempt)))
                    continue
                if answer.status_code >= 300:
                    try:
                        message = str(answer.json().get("message", ""))
                    except (ValueError, AttributeError):  # an HTML error page
                        message = ""
                    raise GitHubError(f"GitHub {method} {path}: HTTP {answer.status_code} {message}".rstrip())
                return answer.json() if answer.content else None
        raise AssertionError("unreachable")

    def set_secret(self, environment: str, name: str, value: str) -> None:
        """Write an environment's Actions secret, sealed (libsodium sealed box) with its public key:
        ``GET /environments/{env}/secrets/public-key`` then ``PUT /environments/{env}/secrets/{name}``
        ``{encrypted_value, key_id}``."""
        from nacl.encoding import Base64Encoder
        from nacl.public import PublicKey, SealedBox

        where = quote(environment, safe="")
        key = self.call("GET", f"/environments/{where}/secrets/public-key")
        sealed = SealedBox(PublicKey(key["key"].encode(), encoder=Base64Encoder)).encrypt(value.encode())
        body = {"encrypted_value": Base64Encoder.encode(sealed).decode(), "key_id": key["key_id"]}
        self.call("PUT", f"/environments/{where}/secrets/{name}", body)

    def open_issues(self, label: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.call("GET", f"/issues?state=open&labels={label}&per_page=100&page={page}")
            found += [i for i in batch if "pull_request" not in i]
            if len(batch) < 100:
                return found
            page += 1


@dataclass(frozen=True)
class Reminder:
    env: str
    due: tuple[tuple[Planned, str, str], ...]  # (secret, last rotated, due since)
    assignees: tuple[str, ...]
    routes: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"Rotate {len(self.due)} secret{'s' * (len(self.due) != 1)} due in {self.env}"

    def body(self) -> str:
        lines = [
            MARKER.format(env=self.env),
            f"These secrets of **{self.env}** are rotated by hand and are due. For each: make a new credential "
            "in the service, put it at its ESC path, check it (`sophia-iac test-integrations --env "
            f"{self.env}`), revoke the old one, then record the rotation with "
            f"`sophia-iac rotate --env {self.env} --secret <secret> --record`.",
            "",
            "| secret | ESC path | policy | last rotated | due since |",
            "|---|---|---|---|---|",
        ]
        for item, last, since in self.due:
            esc = f"`{item.esc_environment}` `{item.secret.esc}`"
            lines.append(f"| `{item.label}` | {esc} | {item.policy.name} | {last} | {since} |")
        return "\n".join(lines) + "\n"


def reminder(model: Model, env: str, definitions: Mapping[str, Any], now: datetime) -> Reminder:
    """What is due among ``env``'s hand-rotated secrets (records from the ESC definitions read)."""
    due = []
    seen: set[tuple[str, str]] = set()
    for item in planned(model, env):
        where = (item.esc_environment, item.secret.esc)
        # A value another integration's rotator rotates (read from the rotated environment) is not reminded.
        if item.method != REMINDER or where in seen:
            continue
        seen.add(where)
        doc = definitions.get(item.esc_environment)
        found = status(item, records.record(doc, item.secret.esc) if doc is not None else None, now)
        if found.status in (DUE, OVERDUE, UNKNOWN):
            unread = doc is None and item.esc_environment in definitions
            last = (
                iso(found.last_rotated)
                if found.last_rotated
                else ("unknown (not readable here)" if unread else "never recorded")
            )
            since = iso(found.next_due) if found.next_due else "now"
            due.append((item, last, since))
    assignees = sorted({a for item, _, _ in due for a in item.policy.assignees})
    routes = sorted({r for item, _, _ in due for r in item.policy.routes})
    return Reminder(env, tuple(due), tuple(assignees), tuple(routes))


@dataclass
class Reminded:
    action: str  # opened, updated, unchanged, closed, none
    issue: int | None
    notified: tuple[str, ...] = ()


def remind(
    model: Model,
    env: str,
    esc: Esc | None,
    github: GitHub,
    environ: Mapping[str, str],
    now: datetime,
    *,
    dry_run: bool = False,
) -> Reminded:
    def unreadable(home: str, exc: Exception) -> None:
        if not isinstance(exc, EscError):  # a definition that does not parse is a problem to report
            raise exc
        # else the bootstrap's secrets: an environment the pipeline may not open

    definitions = records.definitions(esc, (p.esc_environment for p in planned(model, env)), unreadable)
    wanted = reminder(model, env, definitions, now)
    marker = MARKER.format(env=env)
    existing = [i for i in github.open_issues(LABEL) if marker in (i.get("body") or "")]
    issue = existing[0] if existing else None
    if not wanted.due:
        if issue is None:
            return Reminded("none", None)
        if dry_run:
            return Reminded("would-close", int(issue["number"]))
        github.call("PATCH", f"/issues/{issue['number']}", {"state": "closed", "state_reason": "completed"})
        return Reminded("closed", int(issue["number"]))
    body = wanted.body()
    if issue is not None and issue.get("body") == body and issue.get("title") == wanted.title:
        return Reminded("unchanged", int(issue["number"]))
    if dry_run:
        return Reminded("would-update" if issue else "would-open", issue["number"] if issue else None)
    fields = {"title": wanted.title, "body": body, "assignees": list(wanted.assignees)}
    if issue is None:
        made = github.call("POST", "/issues", {**fields, "labels": [LABEL]})
        number, action = int(made["number"]), "opened"
    else:
        github.call("PATCH", f"/issues/{issue['number']}", fields)
        number, action = int(issue["number"]), "updated"
    url = f"https://github.com/{github.repository}/issues/{number}"
    notified = _notify(model, wanted, environ, f"{wanted.title}: {url}")
    return Reminded(action, number, notified)


def _route_variables(model: Model, env: str) -> dict[str, str]:
    """Alert route -> the environment variable its Slack webhook URL is in, where ``env``'s ESC environment
    exports it (as the secret of an enabled integration naming the route's ESC path)."""
    exported = {s.esc: s.env_var for i in model.integrations if i.enabled(env) for s in i.secrets}
    return {r.name: exported[r.webhook_esc] for r in model.project.alert_routes if r.webhook_esc in exported}


def variables(model: Model, env: str) -> list[str]:
    """The environment variables ``remind`` reads in ``env``: the webhooks of the routes its policies notify."""
    routes = {r for p in planned(model, env) if p.method == REMINDER for r in p.policy.routes}
    found = _route_variables(model, env)
    return sorted({found[r] for r in routes if r in found})


def _notify(model: Model, wanted: Reminder, environ: Mapping[str, str], text: str) -> tuple[str, ...]:
    """Post to each route's Slack webhook (the secret at the route's ESC path, as ESC exports it)."""
    variables = _route_variables(model, wanted.env)
    done = []
    for name in wanted.routes:
        url = environ.get(variables.get(name, ""), "")
        if not url:
            continue
        try:  # the webhook URL is a credential: no error text quotes it
            answer = httpx.post(url, json={"text": text}, timeout=15.0)
        except httpx.HTTPError as exc:
            raise GitHubError(f"Slack route {name}: the webhook could not be reached ({type(exc).__name__})") from None
        if answer.status_code >= 300:
            raise GitHubError(f"Slack route {name}: the webhook answered HTTP {answer.status_code}")
        done.append(name)
    return tuple(done)


def created_drift(model: Model, env: str, esc: Esc) -> list[str]:
    """How the live rotated and rotators ESC environments of ``env`` differ from what sophia-iac declares for
    them (the bootstrap created them once and leaves them alone): a rotator whose spec changed, or anything
    there that is not sophia-iac's (the rotator team may write the rotated one). Read as the reader."""
    from ..targets.esc import created

    environment = next(e for e in model.environments if e.name == env)
    out = []
    for declared in created(model, environment):
        name = declared.environment
        try:
            live = records.load(esc.get(name)[0])
        except (EscError, ValueError) as exc:
            out.append(f"{name}: cannot be read ({exc})")
            continue
        out += [f"{name}: {problem}" for problem in records.drift(live, declared.definition, declared.written)]
    return out


def summary(result: Reminded, env: str, routes: Sequence[str] = ()) -> str:
    where = f" #{result.issue}" if result.issue else ""
    told = f"; notified {', '.join(result.notified)}" if result.notified else ""
    return f"{env}: reminder issue{where} {result.action}{told}\n"
