"""A stateful fake of Pulumi ESC's environment endpoints (``/api/esc``) on 127.0.0.1.

Followed, with what each source says:

- Pulumi Cloud's OpenAPI spec (pulumi/pulumi-pulumiservice, provider/pkg/cloud/spec.json) and the
  ESC SDK's spec (pulumi/esc-sdk, sdk/swagger.yaml): ``GET /api/esc/environments/{org}/{project}/{env}``
  answers the definition as ``application/x-yaml`` with secrets as ciphertext; ``HEAD`` answers only
  its ``ETag``; ``PATCH`` takes the whole definition as YAML, validates it, saves a new revision and
  answers JSON ``{diagnostics}`` (400 with diagnostics when the definition is invalid, 404 for an
  unknown environment, 409 "the environment has changed since it was read"); ``DELETE``;
  ``POST /api/esc/environments/{org}`` ``{project, name}`` creates an empty environment (409 when it
  exists); ``GET .../decrypt`` answers the definition with ``fn::secret`` in plaintext;
  ``POST .../open?duration=`` answers ``{id}`` and ``GET .../open/{id}[?property=a.b]`` the resolved
  values as ESC ``Value``s (``{value, secret, unknown, trace}``, objects as maps of ``Value``s).
- The official CLI's client (pulumi/esc, cmd/esc/cli/client/client.go and client_test.go): it sends
  ``Authorization: token <access token>``; it reads the etag from the ``ETag`` response header and the
  revision from ``Pulumi-ESC-Revision`` (which it requires on GET, decrypt and PATCH answers); it makes
  a PATCH conditional by sending that etag back in an ``ETag`` *request* header, while the Cloud spec's
  prose names ``If-Match``, so the fake honours either (every one sent must match) and records which
  was sent; without either the write is unconditional. Errors are JSON ``{code, message}``
  (``diagnostics`` added for invalid definitions).
- Pulumi's ``fn::secret`` docs (pulumi/docs, content/docs/esc/environments/syntax/builtin-functions/
  fn-secret.md): a saved ``fn::secret: <plaintext>`` is replaced by ``fn::secret: {ciphertext: ...}``;
  ESC never stores plaintext. Anything but a string literal or ``{ciphertext}`` is invalid
  ("secret values must be string literals", pulumi/esc ast/expr.go).

Simplified: the "ciphertext" is base64 of a marker and the plaintext (no key, tests only); a write that
encrypts a plaintext secret re-serialises the YAML (comments and layout lost), any other write keeps the
text as sent; the only validation is YAML syntax, a mapping at the top and the ``fn::secret`` rule;
etags are opaque random strings that change on every write (the form Pulumi uses is not documented); a
PATCH answer carries ``Pulumi-ESC-Revision`` but no ``ETag`` (no source says it does), so a client must
read again for the next etag; opening resolves only literals and secrets under ``values``
(interpolations, imports, ``fn::open``/``fn::rotate`` and other builtins come back ``unknown``), every
``trace`` is the environment at position 0, and sessions never expire; no versions, tags, drafts,
rotation, schedules, webhooks, permissions or pagination. Any Content-Type is accepted for a PATCH (the
CLI sends ``application/json`` with YAML in it, the SDK ``application/x-yaml``); it is recorded.

Fault scripting, for retry and idempotence tests: ``fail_next`` answers the next calls of a route with
a status (optionally ``Retry-After``), or drops the connection, without doing anything;
``lose_answer_next`` does the call and then answers with an error status (default 502) or drops the
connection, so that the client cannot know the write was applied. Scripts are consumed in order,
before the token is checked (as a gateway would). Every request is recorded in ``calls``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

PREFIX = "/api/esc/environments"
YAML = "application/x-yaml"
REVISION_HEADER = "Pulumi-ESC-Revision"
CONFLICT = "the environment has changed since it was read"
# Routes, the names scripts and records use.
ROUTES = ("create", "get", "head", "patch", "delete", "decrypt", "open", "read_open")
NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
_MARK = "esc-fake-v1:"
_POS = {"line": 0, "column": 0, "byte": 0}

Key = tuple[str, str, str]  # (org, project, env)


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


@dataclass(frozen=True)
class Call:
    """One request as served: ``headers`` with lower-case names, ``status`` what was answered
    (0 when the connection was dropped)."""

    method: str
    path: str
    route: str
    headers: dict[str, str]
    body: str
    status: int


@dataclass
class _Script:
    status: int
    retry_after: str | None
    message: str
    drop: bool


@dataclass
class _Environment:
    definition: str
    etag: str
    revision: int


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(body).encode(), "application/json", headers or {})


def _error(status: int, message: str, diagnostics: list[dict[str, Any]] | None = None) -> Answer:
    body: dict[str, Any] = {"code": status, "message": message}
    if diagnostics:
        body["diagnostics"] = diagnostics
    return _json(status, body)


def encrypt(plaintext: str) -> str:
    """The fake's ciphertext for ``plaintext``."""
    return base64.b64encode((_MARK + plaintext).encode()).decode()


def decrypt(ciphertext: str) -> str | None:
    """The plaintext of a ciphertext the fake made, else None."""
    try:
        text = base64.b64decode(ciphertext, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text.removeprefix(_MARK) if text.startswith(_MARK) else None


class InvalidDefinition(ValueError):
    def __init__(self, summary: str, path: str = "") -> None:
        super().__init__(summary)
        self.diagnostic = {"summary": summary, "path": path, "severity": "error"}


def _is_secret(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and "fn::secret" in node


def _seal(node: Any, path: str) -> tuple[Any, bool]:
    """``node`` with plaintext secrets encrypted, and whether any were."""
    if _is_secret(node):
        arg = node["fn::secret"]
        if isinstance(arg, dict) and set(arg) == {"ciphertext"} and isinstance(arg["ciphertext"], str):
            return node, False
        if isinstance(arg, str) and "${" not in arg:
            return {"fn::secret": {"ciphertext": encrypt(arg)}}, True
        raise InvalidDefinition("secret values must be string literals", path)
    if isinstance(node, dict):
        changed = False
        out = {}
        for k, v in node.items():
            out[k], c = _seal(v, f"{path}.{k}" if path else str(k))
            changed |= c
        return out, changed
    if isinstance(node, list):
        pairs = [_seal(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    return node, False


def _unseal(node: Any) -> Any:
    """``node`` with the fake's ciphertexts back in plaintext form."""
    if _is_secret(node) and isinstance(node["fn::secret"], dict):
        plain = decrypt(node["fn::secret"].get("ciphertext", ""))
        return node if plain is None else {"fn::secret": plain}
    if isinstance(node, dict):
        return {k: _unseal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unseal(v) for v in node]
    return node


def _parse(text: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as e:
        raise InvalidDefinition(f"invalid YAML: {e}") from e
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InvalidDefinition("an environment definition must be a YAML mapping")
    return doc


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) if doc else ""


def _resolve(node: Any, where: str) -> dict[str, Any]:
    """An ESC ``Value`` for a definition node: literals and the fake's secrets resolved, the rest unknown;
    every ``trace`` points at ``where`` (the environment), at no particular position."""
    trace = {"def": {"environment": where, "begin": _POS, "end": _POS}}
    if _is_secret(node):
        arg = node["fn::secret"]
        plain = decrypt(arg.get("ciphertext", "")) if isinstance(arg, dict) else None
        if plain is not None:
            return {"value": plain, "secret": True, "trace": trace}
        return {"unknown": True, "trace": trace}
    if isinstance(node, dict):
        if any(isinstance(k, str) and k.startswith("fn::") for k in node):
            return {"unknown": True, "trace": trace}
        return {"value": {str(k): _resolve(v, where) for k, v in node.items()}, "trace": trace}
    if isinstance(node, list):
        return {"value": [_resolve(v, where) for v in node], "trace": trace}
    if isinstance(node, str) and "${" in node:
        return {"unknown": True, "trace": trace}
    return {"value": node, "trace": trace}


@dataclass
class Esc:
    """The ESC environments of the organisations that ``tokens`` (Pulumi access tokens) may use."""

    tokens: set[str]
    environments: dict[Key, _Environment] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # open session id -> properties
    calls: list[Call] = field(default_factory=list)
    _before: dict[str, list[_Script]] = field(default_factory=dict)
    _after: dict[str, list[_Script]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ test helpers

    def put(self, org: str, project: str, env: str, definition: str) -> str:
        """Save ``definition`` as another writer would (creating the environment if need be); the new etag."""
        with self._lock:
            return self._write((org, project, env), definition)

    def definition(self, org: str, project: str, env: str) -> str:
        """The stored definition, secrets as ciphertext (what GET answers)."""
        return self.environments[(org, project, env)].definition

    def decrypted(self, org: str, project: str, env: str) -> dict[str, Any]:
        """The stored definition parsed, secrets in plaintext form."""
        return _unseal(_parse(self.definition(org, project, env)))

    def etag(self, org: str, project: str, env: str) -> str:
        return self.environments[(org, project, env)].etag

    def revision(self, org: str, project: str, env: str) -> int:
        return self.environments[(org, project, env)].revision

    def fail_next(
        self,
        route: str,
        status: int = 503,
        times: int = 1,
        retry_after: float | str | None = None,
        message: str = "scripted failure",
        drop: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` with ``status`` (and ``Retry-After``), or drop
        the connection, without doing anything."""
        self._script(self._before, route, _Script(status, _seconds(retry_after), message, drop), times)

    def lose_answer_next(self, route: str = "patch", times: int = 1, status: int = 502, drop: bool = False) -> None:
        """Serve the next ``times`` calls of ``route`` as usual, then answer ``status`` (or drop the
        connection) instead of the real answer."""
        self._script(self._after, route, _Script(status, None, "bad gateway", drop), times)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def _script(self, table: dict[str, list[_Script]], route: str, script: _Script, times: int) -> None:
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {ROUTES}")
        with self._lock:
            table.setdefault(route, []).extend([script] * times)

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urlsplit(target)
        route, key, rest = _route(method, url.path)
        with self._lock:
            answer = self._serve(route, key, rest, method, url.query, headers, body)
            self.calls.append(
                Call(
                    method, target, route, headers, body.decode("utf-8", "replace"), 0 if answer.drop else answer.status
                )
            )
            return answer

    def _serve(
        self,
        route: str,
        key: Key | None,
        rest: list[str],
        method: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Answer:
        queue = self._before.get(route)
        if queue:
            return _scripted(queue.pop(0))
        if not any(headers.get("authorization") == f"token {t}" for t in self.tokens):
            return _error(401, "Unauthorized: No credentials provided or are invalid.")
        answer = self._dispatch(route, key, rest, query, headers, body)
        lost = self._after.get(route)
        if lost:
            return _scripted(lost.pop(0))
        return answer

    def _dispatch(
        self, route: str, key: Key | None, rest: list[str], query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        if route == "create":
            return self._create(rest[0], body)
        if key is None:
            return _error(404, "Not found")
        if any(not NAME.match(part) for part in key):
            return _error(400, "invalid organization, project or environment name")
        if route == "read_open":
            return self._read_open(rest[0], query)
        found = self.environments.get(key)
        if found is None:
            return _error(404, f"Environment '{'/'.join(key)}' not found")
        revision = {REVISION_HEADER: str(found.revision)}
        if route == "get":
            return Answer(200, found.definition.encode(), YAML, {"ETag": found.etag, **revision})
        if route == "head":
            return Answer(200, b"", YAML, {"ETag": found.etag})
        if route == "decrypt":
            text = _dump(_unseal(_parse(found.definition)))
            return Answer(200, text.encode(), YAML, {"ETag": found.etag, **revision})
        if route == "patch":
            return self._patch(key, found, headers, body)
        if route == "delete":
            del self.environments[key]
            return Answer(204)
        if route == "open":
            session = secrets.token_hex(8)
            values = _parse(found.definition).get("values") or {}
            where = f"{key[1]}/{key[2]}"
            resolved = {str(k): _resolve(v, where) for k, v in values.items()} if isinstance(values, dict) else {}
            self.sessions[session] = resolved
            return _json(200, {"id": session})
        return _error(404, "Not found")

    def _create(self, org: str, body: bytes) -> Answer:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return _error(400, "invalid JSON body")
        if not isinstance(request, dict) or not all(
            isinstance(request.get(k), str) and NAME.match(request[k]) for k in ("project", "name")
        ):
            return _error(400, "project and name are required")
        key = (org, request["project"], request["name"])
        if key in self.environments:
            return _error(409, f"Environment '{'/'.join(key)}' already exists")
        self._write(key, "")
        return _json(200, {})

    def _patch(self, key: Key, found: _Environment, headers: dict[str, str], body: bytes) -> Answer:
        sent = [headers[h] for h in ("if-match", "etag") if h in headers]
        if any(tag != found.etag for tag in sent):
            return _error(409, CONFLICT)
        try:
            self._write(key, body.decode("utf-8"))
        except UnicodeDecodeError:
            return _error(400, "the definition must be UTF-8 text")
        except InvalidDefinition as e:
            return _error(400, "invalid environment definition", [e.diagnostic])
        return _json(200, {}, {REVISION_HEADER: str(self.environments[key].revision)})

    def _read_open(self, session: str, query: str) -> Answer:
        properties = self.sessions.get(session)
        if properties is None:
            return _error(404, f"open session {session} not found")
        wanted = parse_qs(query).get("property")
        if not wanted:
            return _json(200, {"properties": properties})
        value: dict[str, Any] | None = {"value": properties}
        for part in wanted[0].split("."):
            inner = value.get("value") if value else None
            value = inner.get(part) if isinstance(inner, dict) else None
        return _json(200, value) if value is not None else _error(404, f"property {wanted[0]} not found")

    def _write(self, key: Key, text: str) -> str:
        """Validate and save ``text`` (caller holds the lock), encrypting plaintext secrets; the new etag."""
        sealed, changed = _seal(_parse(text), "")
        previous = self.environments.get(key)
        self.environments[key] = _Environment(
            _dump(sealed) if changed else text, secrets.token_hex(12), previous.revision + 1 if previous else 1
        )
        return self.environments[key].etag


def _seconds(value: float | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _scripted(script: _Script) -> Answer:
    if script.drop:
        return Answer(0, drop=True)
    answer = _error(script.status, script.message)
    if script.retry_after is not None:
        answer.headers["Retry-After"] = script.retry_after
    return answer


def _route(method: str, path: str) -> tuple[str, Key | None, list[str]]:
    """The route name, the environment key and the parts after it."""
    if not path.startswith(PREFIX + "/"):
        return "unknown", None, []
    parts = [unquote(p) for p in path[len(PREFIX) + 1 :].split("/") if p]
    if len(parts) == 1 and method == "POST":
        return "create", None, parts
    if len(parts) < 3:
        return "unknown", None, parts
    key: Key = (parts[0], parts[1], parts[2])
    tail = parts[3:]
    if not tail:
        names = {"GET": "get", "HEAD": "head", "PATCH": "patch", "DELETE": "delete"}
        return names.get(method, "unknown"), key, tail
    if tail == ["decrypt"] and method == "GET":
        return "decrypt", key, tail
    if tail == ["open"] and method == "POST":
        return "open", key, tail
    if len(tail) == 2 and tail[0] == "open" and method == "GET":
        return "read_open", key, tail[1:]
    return "unknown", key, tail


class Server:
    """``service`` served on 127.0.0.1 until ``stop``; ``url`` is the API's base URL (what
    ``https://api.pulumi.com`` is for the real one)."""

    def __init__(self, service: Esc) -> None:
        self.service = service
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(service: Esc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = service.handle(self.command, self.path, headers, body)
            if answer.drop:
                self.close_connection = True
                return
            self.send_response(answer.status)
            if answer.body or self.command == "HEAD":
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
