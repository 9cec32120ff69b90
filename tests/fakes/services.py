"""A fake per service: the documented endpoint the check calls, and that service's authentication check.

Each answers with the smallest body the check reads. Authentication is checked
for real: tokens are compared, Basic credentials decoded, and the RS256 JWTs of
Snowflake and GitHub verified against the public key of the throwaway key pair.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from compiler.integrations import REGISTRY

from .server import Fake, Gauge, Reply, Request, Route

# The bundled specs' development values the fakes expect.
SNOWFLAKE_QUALIFIED_USER = "PAYREADY-SOPHIA.SOPHIA_DEV_SVC"
SNOWFLAKE_ROLE = "SOPHIA_DEV_WRITER"
GITHUB_APP_ID = "123456"
GITHUB_INSTALLATION = "45678901"
AIRBYTE_WORKSPACE = "3f0c6a52-8b1e-4d7a-9c2f-5e6b7a8d9c01"
HUBSPOT_PORTAL = 23456789
HUBSPOT_APP = 3456789
HUBSPOT_SCOPES = (
    "crm.objects.companies.read",
    "crm.objects.contacts.read",
    "crm.objects.deals.read",
    "crm.schemas.deals.read",
)
SLACK_TEAM = "T01ABCDEF23"
ESTUARY_PUBLIC_KEY_PREFIX = "eyJ"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)


@dataclass
class Credentials:
    """Throwaway credentials for every secret of the bundled specs, by environment variable."""

    snowflake_key: rsa.RSAPrivateKey
    github_key: rsa.RSAPrivateKey
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> Credentials:
        snowflake, github = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
        estuary = json.dumps({"id": secrets.token_hex(8), "secret": _token("flow-")})
        env = {
            "AIRBYTE_CLIENT_ID": _token("client-"),
            "AIRBYTE_CLIENT_SECRET": _token("secret-"),
            "ESTUARY_REFRESH_TOKEN": base64.b64encode(estuary.encode()).decode(),
            "GITHUB_APP_PRIVATE_KEY": _pem(github),
            "GONG_ACCESS_KEY": _token("gong-"),
            "GONG_ACCESS_KEY_SECRET": _token("gong-secret-"),
            "HUBSPOT_PRIVATE_APP_TOKEN": _token("pat-na1-"),
            "LAMBDA_LABS_API_KEY": _token("secret_sophia_"),
            "OPENROUTER_API_KEY": _token("sk-or-v1-"),
            "PORTKEY_API_KEY": _token("pk-"),
            "PULUMI_ESC_ACCESS_TOKEN": _token("pul-"),
            "SLACK_BOT_TOKEN": _token("xoxb-"),
            "SLACK_ONCALL_WEBHOOK": "https://hooks.slack.com/services/" + _token("T/"),
            "SLACK_PLATFORM_WEBHOOK": "https://hooks.slack.com/services/" + _token("T/"),
            "SNOWFLAKE_DEPLOYER_PRIVATE_KEY": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "SNOWFLAKE_PRIVATE_KEY": _pem(snowflake),
            "SNOWFLAKE_SERVICE_PUBLIC_KEY": _token("MIIBIjAN"),
            "SNOWFLAKE_SERVICE_PUBLIC_KEY_2": _token("MIIBIjAN"),
            "VERCEL_API_TOKEN": _token("vercel-"),
            "VERCEL_SESSION_SECRET": _token("session-"),
        }
        return cls(snowflake, github, env)

    def estuary(self) -> dict[str, str]:
        data: dict[str, str] = json.loads(base64.b64decode(self.env["ESTUARY_REFRESH_TOKEN"]))
        return data


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_rs256(token: str, key: rsa.RSAPublicKey) -> dict[str, Any] | None:
    """The claims of an RS256 JWT whose signature ``key`` verifies, else None."""
    try:
        header, claims, signature = token.split(".")
        if json.loads(_b64url_decode(header)) != {"alg": "RS256", "typ": "JWT"}:
            return None
        key.verify(_b64url_decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        payload: dict[str, Any] = json.loads(_b64url_decode(claims))
        return payload
    except (ValueError, InvalidSignature):
        return None


def _fresh(claims: dict[str, Any], lifetime: int) -> bool:
    now = time.time()
    return claims["iat"] <= now + 5 and claims["exp"] > now and claims["exp"] - claims["iat"] <= lifetime


def _basic(request: Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme != "Basic":
        return "", ""
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


def _ok_or(condition: bool, body: Any, deny: Reply) -> Reply:
    return Reply(200, body) if condition else deny


def snowflake(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"code": "390144", "message": "JWT token is invalid."})
    public = creds.snowflake_key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    issuer = f"{SNOWFLAKE_QUALIFIED_USER}.SHA256:{base64.b64encode(hashlib.sha256(der).digest()).decode()}"

    def statements(request: Request) -> Reply:
        claims = verify_rs256(request.bearer(), public)
        authorized = (
            request.headers.get("x-snowflake-authorization-token-type") == "KEYPAIR_JWT"
            and claims is not None
            and (claims["iss"], claims["sub"]) == (issuer, SNOWFLAKE_QUALIFIED_USER)
            and _fresh(claims, 3600)
        )
        if not authorized:
            return deny
        if request.json() != {"statement": "SELECT 1", "role": SNOWFLAKE_ROLE}:
            return Reply(422, {"code": "000001", "message": "unexpected statement"})
        return Reply(200, {"code": "090001", "statementHandle": "01b2-fake", "data": [["1"]]})

    return Fake("snowflake", {("POST", "/api/v2/statements"): statements}, deny, gauge)


def github(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"message": "A JSON web token could not be decoded"})
    public = creds.github_key.public_key()

    def installation(request: Request) -> Reply:
        claims = verify_rs256(request.bearer(), public)
        authorized = claims is not None and claims["iss"] == GITHUB_APP_ID and _fresh(claims, 600)
        body = {"id": int(GITHUB_INSTALLATION), "account": {"login": "payready"}}
        return _ok_or(authorized and request.headers.get("x-github-api-version") == "2022-11-28", body, deny)

    return Fake("github", {("GET", f"/app/installations/{GITHUB_INSTALLATION}"): installation}, deny, gauge)


def airbyte(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"message": "Unauthorized"})
    issued: list[str] = []

    def token(request: Request) -> Reply:
        body = request.json()
        authorized = (body.get("client_id"), body.get("client_secret"), body.get("grant-type")) == (
            creds.env["AIRBYTE_CLIENT_ID"],
            creds.env["AIRBYTE_CLIENT_SECRET"],
            "client_credentials",
        )
        issued.append(_token("airbyte-access-"))
        return _ok_or(authorized, {"access_token": issued[-1], "token_type": "Bearer", "expires_in": 180}, deny)

    def workspace(request: Request) -> Reply:
        return _ok_or(request.bearer() in issued, {"workspaceId": AIRBYTE_WORKSPACE, "name": "sophia-dev"}, deny)

    def connections(request: Request) -> Reply:
        """The development connections as the program left them (Airbyte answers schedules in Quartz, in UTC)."""
        from compiler.integrations.airbyte.declared import quartz
        from tests.conftest import platform_model

        config = next(i for i in platform_model().integrations if i.type.name == "airbyte").per_env["development"]
        held = [
            {
                "name": c["name"],
                "workspaceId": AIRBYTE_WORKSPACE,
                "schedule": {"scheduleType": "cron", "cronExpression": f"{quartz(c['schedule'])} UTC"},
                "status": c.get("status", "active"),
                "nonBreakingSchemaUpdatesBehavior": c.get("schemaChanges", "ignore"),
            }
            for c in config.config["connections"]
        ]
        mine = request.query.get("workspaceIds") == AIRBYTE_WORKSPACE
        return _ok_or(request.bearer() in issued and mine, {"data": held, "next": None}, deny)

    routes: dict[tuple[str, str], Route] = {
        ("POST", "/applications/token"): token,
        ("GET", f"/workspaces/{AIRBYTE_WORKSPACE}"): workspace,
        ("GET", "/connections"): connections,
    }
    return Fake("airbyte", routes, deny, gauge)


def estuary(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"code": "PGRST301", "message": "JWT expired"})
    issued: list[str] = []
    refresh = creds.estuary()

    def exchange(request: Request) -> Reply:
        body = request.json()
        authorized = request.headers.get("apikey", "").startswith(ESTUARY_PUBLIC_KEY_PREFIX) and body == {
            "refresh_token_id": refresh["id"],
            "secret": refresh["secret"],
        }
        issued.append(_token("flow-access-"))
        return _ok_or(authorized, {"access_token": issued[-1]}, deny)

    def live_specs(request: Request) -> Reply:
        """The development catalog's tasks as published (PostgREST ``in.(...)`` filtering, simplified)."""
        from compiler.integrations.estuary.catalog import catalog
        from tests.conftest import platform_model

        config = next(i for i in platform_model().integrations if i.type.name == "estuary").per_env["development"]
        published = catalog(config.config)
        rows = [{"catalog_name": n, "spec": s} for kind in published.values() for n, s in kind.items()]
        asked = request.query.get("catalog_name", "")
        wanted = [r for r in rows if f'"{r["catalog_name"]}"' in asked] if asked.startswith("in.(") else []
        return _ok_or(request.bearer() in issued and request.query.get("select") == "catalog_name,spec", wanted, deny)

    routes: dict[tuple[str, str], Route] = {
        ("POST", "/rpc/generate_access_token"): exchange,
        ("GET", "/live_specs_ext"): live_specs,
    }
    return Fake("estuary", routes, deny, gauge)


def gong(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"requestId": "x", "errors": ["Unauthorized"]})
    expected = (creds.env["GONG_ACCESS_KEY"], creds.env["GONG_ACCESS_KEY_SECRET"])

    def users(request: Request) -> Reply:
        body = {"records": {"totalRecords": 1, "currentPageSize": 1}, "users": [{"id": "1"}]}
        return _ok_or(_basic(request) == expected, body, deny)

    return Fake("gong", {("GET", "/v2/users"): users}, deny, gauge)


def lambda_labs(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"error": {"code": "global/invalid-api-key", "message": "API key was invalid"}})

    def instance_types(request: Request) -> Reply:
        body = {"data": {"gpu_1x_a10": {"instance_type": {"name": "gpu_1x_a10"}}}}
        return _ok_or(_basic(request) == (creds.env["LAMBDA_LABS_API_KEY"], ""), body, deny)

    return Fake("lambda-labs", {("GET", "/instance-types"): instance_types}, deny, gauge)


def _bearer_fake(
    name: str, route: tuple[str, str], variable: str, body: Any, deny: Reply, creds: Credentials, gauge: Gauge
) -> Fake:
    def serve(request: Request) -> Reply:
        return _ok_or(request.bearer() == creds.env[variable], body, deny)

    return Fake(name, {route: serve}, deny, gauge)


def hubspot(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
    body = {"portalId": HUBSPOT_PORTAL, "accountType": "SANDBOX", "timeZone": "US/Eastern"}
    token = creds.env["HUBSPOT_PRIVATE_APP_TOKEN"]

    def details(request: Request) -> Reply:
        return _ok_or(request.bearer() == token, body, deny)

    def token_info(request: Request) -> Reply:
        info = {"userId": 123, "hubId": HUBSPOT_PORTAL, "appId": HUBSPOT_APP, "scopes": list(HUBSPOT_SCOPES)}
        return _ok_or(request.bearer() == token and request.json() == {"tokenKey": token}, info, deny)

    routes: dict[tuple[str, str], Route] = {
        ("GET", "/account-info/v3/details"): details,
        ("POST", "/oauth/v2/private-apps/get/access-token-info"): token_info,
    }
    return Fake("hubspot", routes, deny, gauge)


def openrouter(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"error": {"code": 401, "message": "No auth credentials found"}})
    body = {"data": {"label": "sk-or-v1-abc...xyz", "usage": 1.5, "limit": 50, "limit_reset": "monthly"}}
    return _bearer_fake("openrouter", ("GET", "/key"), "OPENROUTER_API_KEY", body, deny, creds, gauge)


def vercel(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}})
    body = {"user": {"username": "sophia-bot"}}
    return _bearer_fake("vercel", ("GET", "/v2/user"), "VERCEL_API_TOKEN", body, deny, creds, gauge)


def portkey(creds: Credentials, gauge: Gauge) -> Fake:
    """The development workspace as the program leaves it: its AI providers and saved gateway config."""
    from compiler.integrations.portkey.declared import config_name, gateway, provider_settings
    from tests.conftest import platform_model

    deny = Reply(401, {"success": False, "data": {"message": "Invalid API Key"}})
    config = next(i for i in platform_model().integrations if i.type.name == "portkey").per_env["development"].config
    routes: dict[tuple[str, str], Route] = {}

    def held(key: Any) -> Any:
        props = provider_settings(key)
        usage = {"type": "cost", "credit_limit": props["budget_usd"], "periodic_reset": props["budget_reset"]}
        rpm = props["requests_per_minute"]
        rate = [] if rpm is None else [{"type": "requests", "unit": "rpm", "value": rpm}]
        body = {
            "slug": props["slug"],
            "integration_id": props["integration"],
            "usage_limits": usage,
            "rate_limits": rate,
        }
        return lambda request: _ok_or(_portkey_key(request, creds), body, deny)

    for key in config["virtualKeys"]:
        routes[("GET", f"/providers/{key['slug']}")] = held(key)
    listed = {"data": [{"slug": "pc-sophia-dev", "name": config_name("sophia-ai", "development")}]}
    saved = {"slug": "pc-sophia-dev", "config": json.dumps(gateway(config))}
    routes[("GET", "/configs")] = lambda request: _ok_or(_portkey_key(request, creds), listed, deny)
    routes[("GET", "/configs/pc-sophia-dev")] = lambda request: _ok_or(_portkey_key(request, creds), saved, deny)
    return Fake("portkey", routes, deny, gauge)


def _portkey_key(request: Request, creds: Credentials) -> bool:
    return request.headers.get("x-portkey-api-key") == creds.env["PORTKEY_API_KEY"]


def pulumi_esc(creds: Credentials, gauge: Gauge) -> Fake:
    deny = Reply(401, {"code": 401, "message": "Unauthorized: No credentials provided or are invalid."})

    def user(request: Request) -> Reply:
        authorized = request.headers.get("authorization") == f"token {creds.env['PULUMI_ESC_ACCESS_TOKEN']}"
        return _ok_or(authorized, {"name": "payready", "organizations": []}, deny)

    return Fake("pulumi-esc", {("GET", "/api/user"): user}, deny, gauge)


def slack(creds: Credentials, gauge: Gauge) -> Fake:
    # Slack answers 200 with ok: false when the token is bad.
    deny = Reply(200, {"ok": False, "error": "invalid_auth"})

    def auth_test(request: Request) -> Reply:
        body = {"ok": True, "team_id": SLACK_TEAM, "team": "payready", "user": "sophia"}
        return _ok_or(request.bearer() == creds.env["SLACK_BOT_TOKEN"], body, deny)

    return Fake("slack", {("POST", "/auth.test"): auth_test}, deny, gauge)


def all_fakes(creds: Credentials, gauge: Gauge) -> dict[str, Fake]:
    """One fake per integration type that has one: the builder in this module named like the type's
    package (``lambda_labs`` for ``lambda-labs``). Found, not listed: a type without a fake shows
    in tests/test_probes.py, which expects every type but those whose probe skips."""
    builders = {entry.name: globals().get(entry.module) for entry in REGISTRY.values()}
    return {name: build(creds, gauge) for name, build in builders.items() if callable(build)}
