"""The HTTP layer every dynamic provider of a generated program uses (compiler/integrations/http.py):
retries, Retry-After, rate limits, errors that name the resource and call, and no credential anywhere."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from compiler.integrations.http import Api, ApiError

KEY = "secret_ops_" + "Zq8Lw2Nx5Rt7Yv9Bc1Dg3Fh6"


def api(answers: list[Any], waits: list[float], **changes: Any) -> tuple[Api, list[httpx.Request]]:
    """An Api whose transport gives ``answers`` in turn (a Response, or an exception to raise)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    fields: dict[str, Any] = {
        "base_url": "https://api.example.test/v1",
        "credential": KEY,
        "service": "Example",
        "transport": httpx.MockTransport(handler),
        "sleep": waits.append,
    }
    return Api(**{**fields, **changes}), seen


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json={"data": body})


def test_network_errors_and_5xx_are_retried_with_growing_backoff() -> None:
    waits: list[float] = []
    client, seen = api([httpx.ConnectError("refused"), httpx.Response(503), httpx.ReadTimeout("slow"), ok(1)], waits)
    assert client.call("pool", "list", "GET", "/things") == {"data": 1}
    assert len(seen) == 4 and waits == [1.0, 2.0, 4.0]
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "retry_after, waited",
    [("3", 3.0), (None, 1.0), ("soon", 1.0)],
    ids=["seconds", "absent: backoff", "unreadable: backoff"],
)
def test_429_waits_for_retry_after(retry_after: str | None, waited: float) -> None:
    waits: list[float] = []
    headers = {"Retry-After": retry_after} if retry_after else {}
    client, _ = api([httpx.Response(429, headers=headers), ok()], waits)
    client.call("pool", "list", "GET", "/things")
    assert waits == [waited]


def test_retry_after_as_a_date_and_one_too_long_to_wait() -> None:
    waits: list[float] = []
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    client, _ = api([httpx.Response(429, headers={"Retry-After": later}), ok()], waits)
    client.call("pool", "list", "GET", "/things")
    assert 25 <= waits[0] <= 30
    client, _ = api([httpx.Response(429, headers={"Retry-After": "3600"})], [])
    with pytest.raises(ApiError, match="Retry-After 3600s is too long to wait"):
        client.call("pool", "list", "GET", "/things")


def test_giving_up_names_the_resource_call_status_and_service_code() -> None:
    body = {"error": {"code": "global/invalid-parameters", "message": "Invalid request data.", "suggestion": "Fix it"}}
    client, seen = api([httpx.Response(400, json=body)], [])
    with pytest.raises(ApiError) as raised:
        client.call("inference-production", "launch in us-east-1", "POST", "/launch", {"a": 1})
    assert str(raised.value) == (
        "inference-production: launch in us-east-1 failed (HTTP 400): global/invalid-parameters Invalid request data. "
        "Fix it"
    )
    assert raised.value.code == "global/invalid-parameters" and len(seen) == 1  # a 4xx is not retried
    client, seen = api([httpx.Response(502)] * 3, [], retries=2)
    with pytest.raises(ApiError, match=r"^pool: list failed \(HTTP 502\)"):
        client.call("pool", "list", "GET", "/things")
    assert len(seen) == 3


def test_the_credential_never_shows() -> None:
    echo = {"error": {"code": "global/invalid-api-key", "message": f"key {KEY} is invalid"}}
    client, _ = api([httpx.Response(401, json=echo)], [])
    with pytest.raises(ApiError) as raised:
        client.call("pool", "list", "GET", "/things")
    assert KEY not in str(raised.value) and "***" in str(raised.value)
    client, _ = api([httpx.ConnectError(f"cannot reach https://{KEY}@example")] * 5, [])
    with pytest.raises(ApiError) as raised:
        client.call("pool", "list", "GET", "/things")
    assert KEY not in str(raised.value)
    assert KEY not in repr(client)


def test_calls_keep_to_the_rate_and_their_kinds_pace() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # a clock that only sleeping moves
        waits.append(seconds)
        now[0] += seconds

    client, _ = api([ok()] * 5, [], per_second=1.0, sleep=sleep, clock=lambda: now[0])
    client.call("pool", "one", "GET", "/a")
    client.call("pool", "two", "GET", "/a")
    assert waits == [1.0]
    client.call("pool", "launch", "POST", "/launch", pace=("launch", 12.0))
    client.call("pool", "launch", "POST", "/launch", pace=("launch", 12.0))
    client.call("pool", "three", "GET", "/a")
    assert waits == [1.0, 1.0, 12.0, 1.0]


def test_a_real_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    client = Api(f"http://127.0.0.1:{port}", KEY, "Example", retries=2, timeout=2, sleep=waits.append)
    with pytest.raises(ApiError, match=r"^pool: list failed: ConnectError"):
        client.call("pool", "list", "GET", "/things")
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize(
    "auth, header, value",
    [
        ("bearer", "authorization", f"Bearer {KEY}"),
        ("basic", "authorization", "Basic " + __import__("base64").b64encode(f"{KEY}:".encode()).decode()),
        ("header:x-portkey-api-key", "x-portkey-api-key", KEY),
    ],
)
def test_the_credential_travels_as_the_service_expects(auth: str, header: str, value: str) -> None:
    client, seen = api([ok()], [], auth=auth)
    client.call("pool", "list", "GET", "/things")
    assert seen[0].headers[header] == value


def test_a_credential_sent_in_the_body_travels_in_no_header_and_is_still_masked() -> None:
    echo = {"error": {"code": "invalid_client", "message": f"no client has the secret {KEY}"}}
    client, seen = api([ok({"access_token": "t"}), httpx.Response(403, json=echo)], [], auth="none")
    assert client.call("app", "get token", "POST", "/token", {"client_secret": KEY}) == {"data": {"access_token": "t"}}
    assert "authorization" not in seen[0].headers and KEY not in str(dict(seen[0].headers))
    with pytest.raises(ApiError) as raised:
        client.call("app", "get token", "POST", "/token", {"client_secret": KEY})
    assert KEY not in str(raised.value) and "***" in str(raised.value)
