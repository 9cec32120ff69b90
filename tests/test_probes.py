"""`sophia-iac test-integrations` (each type's probe) against fakes of every service on 127.0.0.1.

Each fake implements the documented endpoint its probe calls and that service's
authentication (RS256 JWTs are verified against the throwaway key pair). The
bundled specs are checked with --env development, the credentials in the
environment as ESC exports them, and every base URL pointed at a fake.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from compiler.integrations import REGISTRY, probe_of
from compiler.names import endpoint_variable
from compiler.probes import runner
from compiler.probes.http import retry_after
from compiler.probes.redact import Redactor
from tests.conftest import PLATFORM_SPECS, ROOT, Result
from tests.fakes.server import Fake, Gauge
from tests.fakes.services import Credentials, all_fakes

SPECS = PLATFORM_SPECS
RESULT_KEYS = {"name", "type", "status", "tests", "start_time", "end_time", "duration", "error", "attempts", "drift"}
TEST_KEYS = {"name", "status", "duration", "detail"}
# Set through SOPHIA_IAC_ENDPOINT_<TYPE> rather than --endpoint, so both paths are used.
BY_VARIABLE = "lambda-labs"
# The bundled specs hold one integration of each type; aws is always skipped (see its probe).
TOTAL = len(list((SPECS / "integrations").glob("*.yaml")))


@pytest.fixture(scope="module")
def creds() -> Credentials:
    return Credentials.generate()


@dataclass
class Fakes:
    services: dict[str, Fake]
    gauge: Gauge

    def __getitem__(self, name: str) -> Fake:
        return self.services[name]

    def endpoint_args(self) -> list[str]:
        args = []
        for name, fake in self.services.items():
            if name != BY_VARIABLE:
                args += ["--endpoint", f"{name}={fake.url}"]
        return args


@pytest.fixture
def fakes(creds: Credentials, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    """Every fake started, the credentials exported as ESC would, and a fast backoff."""
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    for name, value in creds.env.items():
        monkeypatch.setenv(name, value)
    # Backoff is scaled down; Retry-After is not, so the test below can time it.
    monkeypatch.setattr(runner, "DEFAULT_POLICY", runner.RetryPolicy(backoff_base=0.01, backoff_cap=0.05))
    gauge = Gauge()
    services = all_fakes(creds, gauge)
    for fake in services.values():
        fake.start()
    monkeypatch.setenv(endpoint_variable(BY_VARIABLE), services[BY_VARIABLE].url)
    try:
        yield Fakes(services, gauge)
    finally:
        for fake in services.values():
            fake.stop()


Run = Callable[..., tuple[Result, dict[str, Any]]]


@pytest.fixture
def check_env(cli: Callable[..., Result], fakes: Fakes, tmp_path: Path) -> Run:
    """Run `test-integrations --env development` in-process; return the CLI result and the results document."""

    def run(*extra: str, specs: Path = SPECS) -> tuple[Result, dict[str, Any]]:
        out = tmp_path / "results.json"
        args = ["--specs", str(specs), "--env", "development", "--output", str(out)]
        result = cli("test-integrations", *args, *fakes.endpoint_args(), *extra)
        return result, json.loads(out.read_text(encoding="utf-8"))

    return run


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in doc["results"]}


def specs_copy(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """The bundled specs with textual edits: file under integrations/ -> (old, new)."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    for name, (old, new) in edits.items():
        path = specs / "integrations" / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    return specs


def test_every_probe_succeeds_against_its_fake(check_env: Run, fakes: Fakes) -> None:
    result, doc = check_env()
    assert result.code == 0, result.out
    assert set(doc) == {"environment", "summary", "start_time", "end_time", "duration", "results"}
    assert doc["environment"] == "development"
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 1, "failure": 0, "skipped": 1, "drifted": 0}
    results = by_name(doc)
    assert sorted(results) == sorted(REGISTRY)
    for entry in doc["results"]:
        assert set(entry) == RESULT_KEYS
        assert entry["start_time"].endswith("Z") and entry["end_time"].endswith("Z")
        start, end = (datetime.fromisoformat(entry[k]) for k in ("start_time", "end_time"))
        assert end >= start and entry["duration"] >= 0
        assert all(set(t) == TEST_KEYS for t in entry["tests"])
    for name, fake in fakes.services.items():
        assert results[name]["status"] == "success", results[name]
        assert results[name]["error"] is None and results[name]["attempts"] == 1
        assert fake.requests, name
    assert results["aws"]["status"] == "skipped" and "SigV4" in results["aws"]["tests"][0]["detail"]
    assert [t["name"] for t in results["airbyte"]["tests"]] == ["get access token", "get workspace", "list connections"]
    assert "1 row(s)" in results["snowflake"]["tests"][0]["detail"]
    assert "portal 23456789" in results["hubspot"]["tests"][0]["detail"]
    assert "team T01ABCDEF23" in results["slack"]["tests"][0]["detail"]
    assert result.out.endswith(
        f"development: {TOTAL - 1} succeeded (0 drifted from the spec), 0 failed, 1 skipped in {doc['duration']:.2f}s\n"
    )
    assert "skip   aws" in result.out


def test_a_service_holding_other_settings_than_the_spec_is_reported_as_drift(
    check_env: Run, fakes: Fakes, tmp_path: Path
) -> None:
    """The fake's key has a limit of 50 USD a month; a spec that declares 60 has drifted from it."""
    specs = specs_copy(tmp_path, {"openrouter.yaml": ("monthlyBudgetUsd: 50\n", "monthlyBudgetUsd: 60\n")})
    result, doc = check_env(specs=specs)
    assert result.code == 1, result.out
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 1, "failure": 0, "skipped": 1, "drifted": 1}
    entry = by_name(doc)["openrouter"]
    assert entry["status"] == "success"
    assert entry["drift"] == [{"item": "credit limit (USD)", "declared": 60.0, "held": 50.0}]
    assert "DRIFT  openrouter" in result.out and "the spec declares 60.0, the service holds 50.0" in result.out


def test_a_private_app_token_granted_other_scopes_than_declared_is_drift(
    check_env: Run, fakes: Fakes, tmp_path: Path
) -> None:
    declared = (
        "    scopes:\n      - crm.objects.contacts.read\n",
        "    scopes:\n      - tickets\n      - crm.objects.contacts.read\n",
    )
    specs = specs_copy(tmp_path, {"hubspot.yaml": declared})
    result, doc = check_env(specs=specs)
    assert result.code == 1
    (drift,) = by_name(doc)["hubspot"]["drift"]
    assert drift["item"] == "granted scopes" and "tickets" in drift["declared"]
    assert "tickets" not in drift["held"] and set(drift["held"]) < set(drift["declared"])


def test_an_estuary_task_published_otherwise_than_the_catalog_is_drift(
    check_env: Run, fakes: Fakes, tmp_path: Path
) -> None:
    """The fake holds the development catalog as published; a spec polling every 20m drifted from it."""
    specs = specs_copy(tmp_path, {"estuary.yaml": ("        interval: 15m\n", "        interval: 20m\n")})
    result, doc = check_env(specs=specs)
    assert result.code == 1
    assert by_name(doc)["estuary"]["drift"] == [
        {"item": "task payready/sophia/dev/source-hubspot: interval", "declared": "20m", "held": "15m"}
    ]


def test_auth_failures_fail_at_once_without_retry(check_env: Run, fakes: Fakes) -> None:
    rejecting = ("snowflake", "hubspot", "slack", "airbyte", "vercel")
    for name in rejecting:
        fakes[name].mode = "auth-failure"
    result, doc = check_env()
    assert result.code == 1
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 6, "failure": 5, "skipped": 1, "drifted": 0}
    results = by_name(doc)
    for name in rejecting:
        assert results[name]["status"] == "failure"
        assert results[name]["error"].startswith("authentication failed: "), results[name]["error"]
        assert (len(fakes[name].requests), results[name]["attempts"]) == (1, 1)
    assert "answered HTTP 401" in results["snowflake"]["error"] and "390144" in results["snowflake"]["error"]
    assert "answered HTTP 403" in results["vercel"]["error"]
    assert results["slack"]["error"] == "authentication failed: auth.test answered invalid_auth"
    assert f"FAIL   {'hubspot':<11}" in result.out


def test_transient_failures_are_retried_and_429_waits_for_retry_after(check_env: Run, fakes: Fakes) -> None:
    fakes["hubspot"].mode = "rate-limited"
    fakes["vercel"].mode = "flaky"
    fakes["gong"].mode = "down"
    result, doc = check_env()
    assert result.code == 1
    results = by_name(doc)

    # hubspot's rate limit (600/min) spaces requests 0.1 s apart and the backoff is scaled
    # down to 0.01 s, so only Retry-After: 1 accounts for the wait.
    limited = fakes["hubspot"].requests
    assert results["hubspot"]["status"] == "success" and results["hubspot"]["attempts"] == 2
    assert len(limited) == 3 and limited[1].time - limited[0].time >= 1.0  # then the token's scopes

    assert results["vercel"]["status"] == "success" and len(fakes["vercel"].requests) == 2

    # gong: healthCheck.retries is 2, so three attempts, then the failure.
    assert results["gong"]["status"] == "failure" and len(fakes["gong"].requests) == 3
    assert results["gong"]["error"].endswith(
        'answered HTTP 503: {"message": "service unavailable"} (gave up after 3 attempts)'
    )
    assert results["gong"]["tests"][-1]["status"] == "failure"
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 2, "failure": 1, "skipped": 1, "drifted": 0}


def test_a_slow_service_times_out_each_attempt(check_env: Run, fakes: Fakes, tmp_path: Path) -> None:
    specs = specs_copy(tmp_path, {"vercel.yaml": ("timeout: 10s\n    retries: 2", "timeout: 1s\n    retries: 1")})
    fakes["vercel"].mode = "slow"
    started = time.monotonic()
    result, doc = check_env(specs=specs)
    assert time.monotonic() - started < 5
    assert result.code == 1
    vercel = by_name(doc)["vercel"]
    assert vercel["status"] == "failure" and vercel["attempts"] == 2
    assert vercel["error"] == "timed out after 1s (gave up after 2 attempts)"
    assert vercel["tests"][-1]["detail"].endswith("/v2/user: no answer before the attempt timed out")
    assert len(fakes["vercel"].requests) == 2
    assert doc["summary"]["failure"] == 1


def test_missing_credentials_fail_and_disabled_checks_are_skipped(
    check_env: Run, fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONG_ACCESS_KEY_SECRET")
    specs = specs_copy(
        tmp_path,
        {
            "portkey.yaml": (
                "  healthCheck:\n    timeout: 10s",
                "  healthCheck:\n    enabled: false\n    timeout: 10s",
            ),
            "vercel.yaml": ("  overrides:\n", "  overrides:\n    development:\n      enabled: false\n"),
        },
    )
    result, doc = check_env(specs=specs)
    assert result.code == 1
    results = by_name(doc)
    assert results["gong"]["status"] == "failure" and not fakes["gong"].requests
    assert results["gong"]["error"] == (
        "missing credential: environment variable GONG_ACCESS_KEY_SECRET (secret 'access-key-secret') is not set"
    )
    assert results["portkey"]["status"] == "skipped" and not fakes["portkey"].requests
    assert "healthCheck.enabled: false" in results["portkey"]["tests"][0]["detail"]
    assert results["vercel"]["status"] == "skipped" and not fakes["vercel"].requests
    assert results["vercel"]["tests"][0]["detail"] == "the integration is disabled in development"
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 4, "failure": 1, "skipped": 3, "drifted": 0}


def test_concurrency_is_bounded(check_env: Run, fakes: Fakes) -> None:
    for fake in fakes.services.values():
        fake.delay = 0.15
    result, _ = check_env("--concurrency", "3")
    assert result.code == 0
    assert fakes.gauge.peak == 3


def test_no_secret_reaches_the_output(check_env: Run, fakes: Fakes, creds: Credentials) -> None:
    for fake in fakes.services.values():
        fake.mode = "echo"
    result, doc = check_env()
    assert result.code == 1
    assert doc["summary"]["failure"] == TOTAL - 1
    text = json.dumps(doc) + result.out + result.err
    assert "***" in text and "denied:" in text
    sent = set()
    for fake in fakes.services.values():
        for request in fake.requests:
            for name in ("authorization", "apikey", "x-portkey-api-key"):
                value = request.headers.get(name, "")
                sent.update({value, value.partition(" ")[2]} - {""})
    refresh = creds.estuary()
    values = set(creds.env.values()) | {refresh["secret"]}
    lines = {line for v in creds.env.values() if "PRIVATE KEY" in v for line in v.splitlines() if len(line) > 40}
    assert sent and lines
    leaked = [v for v in values | sent | lines if v in text or json.dumps(v)[1:-1] in text]
    assert leaked == []


def test_usage_errors_exit_2(cli: Callable[..., Result], tmp_path: Path) -> None:
    base = ("test-integrations", "--specs", str(SPECS), "--output", str(tmp_path / "r.json"))
    unknown = cli(*base, "--env", "qa")
    assert unknown.code == 2 and "unknown environment 'qa'" in unknown.err
    assert cli(*base, "--env", "development", "--endpoint", "nope=http://127.0.0.1:1").code == 2
    assert cli(*base, "--env", "development", "--endpoint", "gong=ftp://127.0.0.1").code == 2
    assert cli(*base, "--env", "development", "--concurrency", "0").code == 2
    assert not (tmp_path / "r.json").exists()


def test_python_dash_m(fakes: Fakes, creds: Credentials, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env.update({endpoint_variable(name): fake.url for name, fake in fakes.services.items()})
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "compiler", "test-integrations", "--specs", str(SPECS), "--env", "development"]
    command += ["--output", str(out)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["success"] == TOTAL - 1
    assert f"development: {TOTAL - 1} succeeded (0 drifted from the spec), 0 failed, 1 skipped" in result.stdout
    assert not any(v in result.stdout + result.stderr for v in creds.env.values())


def test_every_integration_type_has_a_probe() -> None:
    assert all(callable(probe_of(entry)) for entry in REGISTRY.values())


def test_backoff_doubles_up_to_its_cap_and_retry_after_replaces_it() -> None:
    policy = runner.RetryPolicy()
    assert [policy.delay(n, None) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(0, 3.0) == 3.0
    assert policy.delay(0, 600.0) is None


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert retry_after("2") == 2.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_rate_limiter_spaces_requests() -> None:
    async def three() -> float:
        limiter = runner.RateLimiter(600)  # one every 0.1 s
        start = time.monotonic()
        for _ in range(3):
            await limiter.wait()
        return time.monotonic() - start

    assert asyncio.run(three()) >= 0.2
    assert runner.RateLimiter(None).interval == 0.0


def test_redactor_masks_every_form_of_a_secret() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\n" + "A" * 64 + "\n" + "B" * 20 + "\n-----END PRIVATE KEY-----\n"
    redact = Redactor(["s3cr3t/value+x", pem, "short"])
    assert redact("got s3cr3t/value+x and s3cr3t%2Fvalue%2Bx") == "got *** and ***"
    assert redact("line " + "A" * 64) == "line ***"
    assert "A" * 64 not in redact(json.dumps({"key": pem})) and "BEGIN" not in redact(json.dumps({"key": pem}))
    assert redact("short stays") == "short stays"
    assert redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz") == "Authorization: Bearer ***"


def every_service(fakes: Fakes, mode: str) -> list[str]:
    names = sorted(fakes.services)
    assert set(names) == set(REGISTRY) - {"aws"}  # aws is skipped (SigV4), every other type has a fake
    for name in names:
        fakes[name].mode = mode
    return names


def test_every_service_reports_an_auth_failure_without_retrying(check_env: Run, fakes: Fakes) -> None:
    names = every_service(fakes, "auth-failure")
    result, doc = check_env("--concurrency", "12")
    assert result.code == 1
    results = by_name(doc)
    for name in names:
        assert results[name]["status"] == "failure", name
        assert results[name]["error"].startswith("authentication failed: "), (name, results[name]["error"])
        assert (results[name]["attempts"], len(fakes[name].requests)) == (1, 1), name


def test_every_service_waits_for_retry_after_then_succeeds(check_env: Run, fakes: Fakes) -> None:
    names = every_service(fakes, "rate-limited")
    result, doc = check_env("--concurrency", "12")
    assert result.code == 0, result.out
    results = by_name(doc)
    for name in names:
        first, retry = fakes[name].requests[:2]
        assert results[name]["status"] == "success", name
        assert retry.time - first.time >= 1.0, name  # Retry-After: 1


def test_every_service_times_out(check_env: Run, fakes: Fakes, tmp_path: Path) -> None:
    import re

    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    for path in (specs / "integrations").glob("*.yaml"):
        text = re.sub(r"timeout: \d+s", "timeout: 1s", path.read_text(encoding="utf-8"))
        path.write_text(re.sub(r"retries: \d+", "retries: 0", text), encoding="utf-8")
    names = every_service(fakes, "slow")
    started = time.monotonic()
    result, doc = check_env("--concurrency", "12", specs=specs)
    assert time.monotonic() - started < 10
    assert result.code == 1
    results = by_name(doc)
    for name in names:
        assert results[name]["status"] == "failure", name
        assert results[name]["error"].startswith("timed out after 1s"), (name, results[name]["error"])


def test_the_bootstraps_credentials_are_skipped_where_the_pipeline_has_none(
    check_env: Run, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pipeline's ESC environment never exports the GitHub App key or the Pulumi admin token
    # (they stay in the admin-only ESC environment), so those checks are skipped, not failed.
    monkeypatch.delenv("GITHUB_APP_PRIVATE_KEY")
    monkeypatch.delenv("PULUMI_ESC_ACCESS_TOKEN")
    result, doc = check_env()
    assert result.code == 0, result.out
    results = by_name(doc)
    for name in ("github", "pulumi-esc"):
        assert results[name]["status"] == "skipped" and not fakes[name].requests
        assert "admin-only ESC environment" in results[name]["tests"][0]["detail"]
    assert doc["summary"] == {"total": TOTAL, "success": TOTAL - 3, "failure": 0, "skipped": 3, "drifted": 0}


def test_probes_keep_to_the_stricter_of_the_health_check_and_the_services_rate_limit() -> None:
    from compiler.probes.jobs import jobs
    from tests.conftest import platform_model

    model = platform_model()
    for env in ("development", "production"):
        by_name = {j.name: j for j in jobs(model, env, {}, {})}
        for name, per_minute in (
            ("gong", lambda c: 60 * c["rateLimit"]["requestsPerSecond"]),
            ("hubspot", lambda c: 6 * c["rateLimit"]["requestsPerTenSeconds"]),
        ):
            integration = next(i for i in model.integrations if i.name == name)
            own = integration.per_env[env].health_check.rate_limit_per_minute
            declared = per_minute(integration.per_env[env].config)
            assert by_name[name].health.rate_limit_per_minute == min(own, declared), (env, name)
        # A type without a declared service limit keeps its health check's.
        snowflake = next(i for i in model.integrations if i.name == "snowflake").per_env[env].health_check
        assert by_name["snowflake"].health == snowflake
