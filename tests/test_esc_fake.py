"""The fake of Pulumi ESC's environment endpoints (tests/fakes/esc_api.py) behaves as its docstring
says: read with ETag, conditional writes and their 409, the token check, secret encryption, opening,
and scripted faults; driven with httpx, and with the pulumi-esc-sdk client when it is installed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.fakes.esc_api import CONFLICT, REVISION_HEADER, Esc, Server, decrypt

TOKEN = "pul-" + "3f9a1c7e" * 5
ORG, PROJECT, ENV = "acme", "rotation", "snowflake-prod"
PATH = f"/api/esc/environments/{ORG}/{PROJECT}/{ENV}"
DEFINITION = "values:\n  snowflake:\n    account: acme-eu1\n    user: LOADER  # service user\n"

Service = tuple[Esc, Server, httpx.Client]
ZERO = {"line": 0, "column": 0, "byte": 0}


@pytest.fixture
def service() -> Iterator[Service]:
    fake = Esc({TOKEN})
    fake.put(ORG, PROJECT, ENV, DEFINITION)
    server = Server(fake)
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"token {TOKEN}"}, timeout=5)
    try:
        yield fake, server, client
    finally:
        client.close()
        server.stop()


def patch(client: httpx.Client, text: str, **headers: str) -> httpx.Response:
    return client.patch(PATH, content=text.encode(), headers={"Content-Type": "application/x-yaml", **headers})


def test_get_answers_the_yaml_with_its_etag_and_revision(service: Service) -> None:
    fake, _, client = service
    r = client.get(PATH)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-yaml"
    assert r.text == DEFINITION  # kept as sent, comments included
    assert r.headers["etag"] == fake.etag(ORG, PROJECT, ENV)
    assert r.headers[REVISION_HEADER] == "1"
    head = client.head(PATH)
    assert head.status_code == 200 and head.headers["etag"] == r.headers["etag"] and head.content == b""


def test_conditional_write_with_the_current_etag_saves_a_new_revision(service: Service) -> None:
    fake, _, client = service
    tag = client.get(PATH).headers["etag"]
    new = DEFINITION.replace("LOADER", "LOADER_V2")
    r = patch(client, new, ETag=tag)  # the header the official CLI sends
    assert r.status_code == 200 and r.json() == {}
    assert r.headers[REVISION_HEADER] == "2"
    assert "etag" not in r.headers  # read again for the next one
    after = client.get(PATH)
    assert after.text == new and after.headers["etag"] != tag
    r = patch(client, DEFINITION, **{"If-Match": after.headers["etag"]})  # the header the Cloud spec names
    assert r.status_code == 200 and fake.revision(ORG, PROJECT, ENV) == 3


def test_stale_etag_answers_409_and_changes_nothing(service: Service) -> None:
    fake, _, client = service
    tag = client.get(PATH).headers["etag"]
    fake.put(ORG, PROJECT, ENV, DEFINITION + "  role: LOADER_ROLE\n")  # another writer
    for header in ("ETag", "If-Match"):
        r = patch(client, "values: {}\n", **{header: tag})
        assert r.status_code == 409
        assert r.json() == {"code": 409, "message": CONFLICT}
    assert "LOADER_ROLE" in fake.definition(ORG, PROJECT, ENV)
    assert fake.revision(ORG, PROJECT, ENV) == 2
    current = fake.etag(ORG, PROJECT, ENV)
    assert patch(client, "values: {}\n", ETag=current, **{"If-Match": tag}).status_code == 409  # every one must match


def test_a_write_without_an_etag_is_unconditional(service: Service) -> None:
    fake, _, client = service
    fake.put(ORG, PROJECT, ENV, "values: {a: 1}\n")
    assert patch(client, "values: {a: 2}\n").status_code == 200
    assert fake.decrypted(ORG, PROJECT, ENV) == {"values": {"a": 2}}


@pytest.mark.parametrize("authorization", [None, "token wrong", f"Bearer {TOKEN}", TOKEN])
def test_a_bad_or_missing_token_answers_401(service: Service, authorization: str | None) -> None:
    fake, server, _ = service
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=server.url, headers=headers) as anonymous:
        assert anonymous.get(PATH).status_code == 401
        r = anonymous.patch(PATH, content=b"values: {}\n", headers={"ETag": fake.etag(ORG, PROJECT, ENV)})
        assert r.status_code == 401 and r.json()["code"] == 401
    assert fake.definition(ORG, PROJECT, ENV) == DEFINITION
    assert [c.status for c in fake.calls] == [401, 401]


def test_plaintext_secrets_are_stored_as_ciphertext(service: Service) -> None:
    fake, _, client = service
    doc = yaml.safe_load(DEFINITION)
    doc["values"]["snowflake"]["privateKey"] = {"fn::secret": "-----BEGIN PRIVATE KEY-----\nMIIE\n"}
    r = patch(client, yaml.safe_dump(doc), ETag=client.get(PATH).headers["etag"])
    assert r.status_code == 200
    stored = yaml.safe_load(client.get(PATH).text)["values"]["snowflake"]["privateKey"]
    assert set(stored) == {"fn::secret"} and set(stored["fn::secret"]) == {"ciphertext"}
    assert "MIIE" not in client.get(PATH).text
    assert decrypt(stored["fn::secret"]["ciphertext"]) == "-----BEGIN PRIVATE KEY-----\nMIIE\n"
    plain = client.get(PATH + "/decrypt")
    assert plain.status_code == 200 and plain.headers[REVISION_HEADER] == "2"
    assert yaml.safe_load(plain.text)["values"]["snowflake"]["privateKey"] == {
        "fn::secret": "-----BEGIN PRIVATE KEY-----\nMIIE\n"
    }
    # Writing the ciphertext form back (an unchanged read-modify-write) keeps it as it is.
    text = client.get(PATH).text
    assert patch(client, text).status_code == 200 and fake.definition(ORG, PROJECT, ENV) == text


@pytest.mark.parametrize(
    "text",
    ["values: {key: {fn::secret: 42}}\n", "values: {key: {fn::secret: '${other}'}}\n", "values: [unclosed\n", "- a\n"],
)
def test_an_invalid_definition_answers_400_with_diagnostics(service: Service, text: str) -> None:
    fake, _, client = service
    r = patch(client, text)
    assert r.status_code == 400
    assert r.json()["code"] == 400 and r.json()["diagnostics"][0]["summary"]
    assert fake.definition(ORG, PROJECT, ENV) == DEFINITION


def test_create_delete_and_unknown_environments(service: Service) -> None:
    fake, _, client = service
    other = f"/api/esc/environments/{ORG}/{PROJECT}/staging"
    assert client.get(other).status_code == 404
    assert patch(client, "values: {}\n").status_code == 200
    assert client.patch(other, content=b"values: {}\n").status_code == 404
    assert client.post(f"/api/esc/environments/{ORG}", json={"project": PROJECT, "name": "staging"}).status_code == 200
    assert client.post(f"/api/esc/environments/{ORG}", json={"project": PROJECT, "name": "staging"}).status_code == 409
    r = client.get(other)
    assert r.status_code == 200 and r.text == "" and r.headers[REVISION_HEADER] == "1"
    assert client.delete(other).status_code == 204
    assert client.get(other).status_code == 404
    assert (ORG, PROJECT, "staging") not in fake.environments


def test_open_resolves_literals_and_secrets(service: Service) -> None:
    fake, _, client = service
    fake.put(
        ORG,
        PROJECT,
        ENV,
        "values:\n  user: LOADER\n  key:\n    fn::secret: s3cret\n  login: ${environments.logins.sf}\n  n: [1, 2]\n",
    )
    opened = client.post(PATH + "/open", params={"duration": "2h"})
    assert opened.status_code == 200
    session = opened.json()["id"]
    r = client.get(f"{PATH}/open/{session}")
    properties = r.json()["properties"]
    trace = {"def": {"environment": f"{PROJECT}/{ENV}", "begin": ZERO, "end": ZERO}}
    assert properties["user"] == {"value": "LOADER", "trace": trace}
    assert properties["key"] == {"value": "s3cret", "secret": True, "trace": trace}
    assert properties["login"] == {"unknown": True, "trace": trace}
    assert [v["value"] for v in properties["n"]["value"]] == [1, 2]
    key = client.get(f"{PATH}/open/{session}", params={"property": "key"}).json()
    assert (key["value"], key["secret"]) == ("s3cret", True)
    assert client.get(f"{PATH}/open/nope").status_code == 404


def test_scripted_failures_answer_before_doing_anything(service: Service) -> None:
    fake, _, client = service
    fake.fail_next("patch", 429, times=2, retry_after=3)
    fake.fail_next("get", 503)
    tag = fake.etag(ORG, PROJECT, ENV)
    for _ in range(2):
        r = patch(client, "values: {a: 1}\n", ETag=tag)
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert fake.definition(ORG, PROJECT, ENV) == DEFINITION
    assert client.get(PATH).status_code == 503
    assert client.get(PATH).status_code == 200
    assert patch(client, "values: {a: 1}\n", ETag=tag).status_code == 200
    assert [c.status for c in fake.calls_to("patch")] == [429, 429, 200]
    with pytest.raises(ValueError):
        fake.fail_next("list")


def test_a_lost_answer_applies_the_write(service: Service) -> None:
    fake, _, client = service
    tag = fake.etag(ORG, PROJECT, ENV)
    fake.lose_answer_next("patch")
    r = patch(client, "values: {a: 1}\n", ETag=tag)
    assert r.status_code == 502
    assert fake.decrypted(ORG, PROJECT, ENV) == {"values": {"a": 1}}  # applied all the same
    assert patch(client, "values: {a: 1}\n", ETag=tag).status_code == 409  # a blind retry conflicts
    fake.lose_answer_next("patch", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        patch(client, "values: {a: 2}\n", ETag=fake.etag(ORG, PROJECT, ENV))
    assert fake.decrypted(ORG, PROJECT, ENV) == {"values": {"a": 2}}
    assert fake.calls_to("patch")[-1].status == 0


def test_dropped_connection_without_doing_anything(service: Service) -> None:
    fake, _, client = service
    fake.fail_next("patch", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        patch(client, "values: {a: 1}\n")
    assert fake.definition(ORG, PROJECT, ENV) == DEFINITION


def test_calls_are_recorded(service: Service) -> None:
    fake, _, client = service
    tag = client.get(PATH).headers["etag"]
    patch(client, "values: {}\n", ETag=tag)
    get, write = fake.calls
    assert (get.method, get.route, get.status) == ("GET", "get", 200)
    assert (write.route, write.body, write.headers["etag"], write.headers["content-type"]) == (
        "patch",
        "values: {}\n",
        tag,
        "application/x-yaml",
    )
    assert write.headers["authorization"] == f"token {TOKEN}"
