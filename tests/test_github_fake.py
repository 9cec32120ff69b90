"""The GitHub REST API fake (tests/fakes/github_api.py) behaves as its docstring says, driven over HTTP with
httpx and PyNaCl the way a secret-rotation runner would: fetch the public key, seal, PUT, and the fake
holds the plaintext it opened."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from tests.fakes.github_api import IMPROPERLY_ENCRYPTED, GitHub, Server

REPO = "acme/platform"
OTHER = "acme/website"
SECRETS = f"/repos/{REPO}/actions/secrets"
PROD = f"/repos/{REPO}/environments/production/secrets"
ISSUES = f"/repos/{REPO}/issues"
# Token strings built in pieces so the repository's secret scanner does not take them for real ones.
WRITER = "github_pat_" + "11WRITER0" * 3
READER = "github_pat_" + "11READER0" * 3
ISSUER = "github_pat_" + "11ISSUER0" * 3
NO_PUSH = "github_pat_" + "11NOPUSH0" * 3
ELSEWHERE = "github_pat_" + "11ELSEWH0" * 3
REPO_ONLY = "github_pat_" + "11REPONL0" * 3
APP = "ghs_" + "AppInstallationToken0" * 2

Service = tuple[GitHub, httpx.Client]


@pytest.fixture
def service() -> Iterator[Service]:
    fake = GitHub()
    fake.add_repo(REPO, environments=["production", "staging"], collaborators=["alice", "bob", "rotation-bot"])
    fake.add_repo(OTHER)
    everything = ["secrets:write", "environments:write", "issues:write"]
    fake.add_token(WRITER, "rotation-bot", everything)
    fake.add_token(READER, "auditor", ["secrets:read", "environments:read", "issues:read"])
    fake.add_token(ISSUER, "rotation-bot", ["issues:write"])
    fake.add_token(NO_PUSH, "outsider", ["issues:write"], push=False)
    fake.add_token(ELSEWHERE, "rotation-bot", everything, repositories=[OTHER])
    fake.add_token(REPO_ONLY, "rotation-bot", ["secrets:write", "issues:write"])
    fake.add_token(APP, "rotation-app[bot]", ["issues:read"], app=True)
    server = Server(fake)
    client = httpx.Client(base_url=server.url, headers=headers(WRITER), timeout=10)
    try:
        yield fake, client
    finally:
        client.close()
        server.stop()


def headers(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {
        "Authorization": f"{scheme} {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def seal(public_key: str, value: str) -> str:
    """What a client does: libsodium sealed box to the fetched key, base64."""
    box = SealedBox(PublicKey(base64.b64decode(public_key)))
    return base64.b64encode(box.encrypt(value.encode())).decode()


def put_secret(client: httpx.Client, base: str, name: str, value: str, **extra: Any) -> httpx.Response:
    key = client.get(f"{base}/public-key", **extra).json()
    body = {"encrypted_value": seal(key["key"], value), "key_id": key["key_id"]}
    return client.put(f"{base}/{name}", json=body, **extra)


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


# ---------------------------------------------------------------------------------------------- secrets


def test_a_sealed_repository_secret_is_opened_and_held_in_plaintext(service: Service) -> None:
    fake, client = service
    key = client.get(f"{SECRETS}/public-key")
    assert key.status_code == 200 and set(key.json()) == {"key_id", "key"}
    assert len(base64.b64decode(key.json()["key"])) == 32  # a Curve25519 public key
    made = put_secret(client, SECRETS, "db_password", "hunter2-first")
    assert (made.status_code, made.json()) == (201, {})
    assert fake.secret_value(REPO, "DB_PASSWORD") == "hunter2-first"
    again = put_secret(client, SECRETS, "DB_PASSWORD", "hunter2-second")
    assert (again.status_code, again.content in (b"", b"null")) == (204, True)
    assert fake.secret_value(REPO, "db_password") == "hunter2-second"
    # What travelled was ciphertext only.
    assert not any("hunter2" in str(call.body) for call in fake.calls)


def test_reading_a_secret_gives_its_metadata_never_its_value(service: Service) -> None:
    _, client = service
    put_secret(client, SECRETS, "API_TOKEN", "s3cr3t-value")
    meta = client.get(f"{SECRETS}/API_TOKEN")
    assert meta.status_code == 200
    assert set(meta.json()) == {"name", "created_at", "updated_at"} and meta.json()["name"] == "API_TOKEN"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta.json()["updated_at"])
    assert "s3cr3t" not in meta.text
    assert client.get(f"{SECRETS}/NOT_THERE").status_code == 404


def test_an_environment_has_its_own_key_and_refuses_a_value_sealed_to_the_repositorys(service: Service) -> None:
    fake, client = service
    repo_key = client.get(f"{SECRETS}/public-key").json()
    env_key = client.get(f"{PROD}/public-key").json()
    assert repo_key["key_id"] != env_key["key_id"] and repo_key["key"] != env_key["key"]
    wrong = {"encrypted_value": seal(repo_key["key"], "prod-pw"), "key_id": repo_key["key_id"]}
    refused = client.put(f"{PROD}/DB_PASSWORD", json=wrong)
    assert refused.status_code == 422 and refused.json()["message"] == IMPROPERLY_ENCRYPTED
    assert put_secret(client, PROD, "DB_PASSWORD", "prod-pw").status_code == 201
    assert fake.secret_value(REPO, "DB_PASSWORD", "production") == "prod-pw"
    assert fake.secret_value(REPO, "DB_PASSWORD") is None
    assert fake.secret_value(REPO, "DB_PASSWORD", "staging") is None
    assert client.get(f"/repos/{REPO}/environments/nowhere/secrets/public-key").status_code == 404


def test_a_rotated_key_refuses_the_stale_key_id(service: Service) -> None:
    fake, client = service
    stale = client.get(f"{SECRETS}/public-key").json()
    new_id = fake.rotate_key(REPO)
    assert new_id != stale["key_id"] and client.get(f"{SECRETS}/public-key").json()["key_id"] == new_id
    body = {"encrypted_value": seal(stale["key"], "rotated"), "key_id": stale["key_id"]}
    refused = client.put(f"{SECRETS}/DB_PASSWORD", json=body)
    assert refused.status_code == 422
    assert refused.json() == {
        "message": IMPROPERLY_ENCRYPTED,
        "documentation_url": "https://docs.github.com/rest/actions/secrets#create-or-update-a-repository-secret",
        "status": "422",
    }
    assert fake.secret_value(REPO, "DB_PASSWORD") is None
    assert put_secret(client, SECRETS, "DB_PASSWORD", "rotated").status_code == 201  # re-fetch and retry
    assert fake.secret_value(REPO, "DB_PASSWORD") == "rotated"


def test_a_value_not_sealed_to_the_current_key_is_refused_even_with_its_key_id(service: Service) -> None:
    fake, client = service
    key_id = client.get(f"{SECRETS}/public-key").json()["key_id"]
    stranger = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    body = {"encrypted_value": seal(stranger, "x"), "key_id": key_id}
    assert client.put(f"{SECRETS}/X", json=body).status_code == 422
    assert fake.secret_value(REPO, "X") is None


def test_malformed_secret_bodies_get_githubs_422s(service: Service) -> None:
    _, client = service
    key_id = client.get(f"{SECRETS}/public-key").json()["key_id"]
    missing = client.put(f"{SECRETS}/X", json={"encrypted_value": "c2VjcmV0"})
    assert (missing.status_code, missing.json()["message"]) == (422, 'Invalid request.\n\n"key_id" wasn\'t supplied.')
    not_base64 = client.put(f"{SECRETS}/X", json={"encrypted_value": "plain text!", "key_id": key_id})
    assert not_base64.status_code == 422 and "does not match" in not_base64.json()["message"]


def test_deleting_a_secret(service: Service) -> None:
    fake, client = service
    put_secret(client, SECRETS, "OLD_KEY", "v")
    assert client.delete(f"{SECRETS}/OLD_KEY").status_code == 204
    assert fake.secret_value(REPO, "OLD_KEY") is None
    assert client.get(f"{SECRETS}/OLD_KEY").status_code == 404
    assert client.delete(f"{SECRETS}/OLD_KEY").status_code == 404


def test_listing_secrets_pages_with_a_link_header(service: Service) -> None:
    _, client = service
    for name in ("A", "B", "C"):
        put_secret(client, SECRETS, name, name.lower())
    first = client.get(SECRETS, params={"per_page": 2})
    assert first.json()["total_count"] == 3 and [s["name"] for s in first.json()["secrets"]] == ["A", "B"]
    second = client.get(links(first)["next"])
    assert [s["name"] for s in second.json()["secrets"]] == ["C"] and "next" not in links(second)
    assert "link" not in client.get(SECRETS).headers  # all on one page


# ---------------------------------------------------------------------------------------------- auth


def test_bearer_and_token_schemes_are_both_accepted(service: Service) -> None:
    _, client = service
    for scheme in ("Bearer", "token"):
        assert client.get(f"{SECRETS}/public-key", headers=headers(WRITER, scheme)).status_code == 200


def test_bad_credentials_are_a_401_with_githubs_body(service: Service) -> None:
    _, client = service
    wrong = client.get(f"{SECRETS}/public-key", headers=headers("github_pat_" + "nope0" * 6))
    assert wrong.status_code == 401
    assert wrong.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


def test_no_credentials_or_no_access_to_the_repository_look_like_a_missing_repository(service: Service) -> None:
    _, client = service
    anonymous = httpx.get(f"{client.base_url}{SECRETS}/public-key", timeout=10)
    assert (anonymous.status_code, anonymous.json()["message"]) == (404, "Not Found")
    assert client.get(f"{SECRETS}/public-key", headers=headers(ELSEWHERE)).status_code == 404
    assert client.get(f"/repos/{OTHER}/actions/secrets/public-key", headers=headers(ELSEWHERE)).status_code == 200


def test_a_token_without_the_permission_gets_a_403_naming_what_is_needed(service: Service) -> None:
    fake, client = service
    no_key = client.get(f"{SECRETS}/public-key", headers=headers(ISSUER))
    assert no_key.status_code == 403 and no_key.headers["x-accepted-github-permissions"] == "secrets=read"
    key = client.get(f"{SECRETS}/public-key").json()
    body = {"encrypted_value": seal(key["key"], "v"), "key_id": key["key_id"]}
    no_secrets = client.put(f"{SECRETS}/X", json=body, headers=headers(ISSUER))
    assert no_secrets.json() == {
        "message": "Resource not accessible by personal access token",
        "documentation_url": "https://docs.github.com/rest/actions/secrets#create-or-update-a-repository-secret",
        "status": "403",
    }
    # A reader can fetch the key but not write.
    assert client.get(f"{SECRETS}/public-key", headers=headers(READER)).status_code == 200
    read_only = put_secret(client, SECRETS, "X", "v", headers=headers(READER))
    assert read_only.status_code == 403 and read_only.headers["x-accepted-github-permissions"] == "secrets=write"
    # Environment secrets need the Environments permission as well as Secrets.
    env_key = client.get(f"{PROD}/public-key", headers=headers(REPO_ONLY))
    assert env_key.status_code == 403
    assert env_key.headers["x-accepted-github-permissions"] == "environments=read,secrets=read"
    key = client.get(f"{PROD}/public-key").json()
    body = {"encrypted_value": seal(key["key"], "v"), "key_id": key["key_id"]}
    env = client.put(f"{PROD}/X", json=body, headers=headers(REPO_ONLY))
    assert env.status_code == 403
    assert env.headers["x-accepted-github-permissions"] == "environments=write,secrets=write"
    app = client.post(ISSUES, json={"title": "t"}, headers=headers(APP))
    assert app.status_code == 403 and app.json()["message"] == "Resource not accessible by integration"
    assert fake.secret_value(REPO, "X") is None and fake.secret_value(REPO, "X", "production") is None


# ---------------------------------------------------------------------------------------------- issues


def test_the_issue_list_includes_pull_requests_a_client_must_filter_out(service: Service) -> None:
    fake, client = service
    client.post(ISSUES, json={"title": "Rotate DB_PASSWORD", "labels": ["secret-rotation"]})
    listed = client.get(ISSUES, params={"state": "open"}).json()
    assert len(listed) == 2
    pulls = [i for i in listed if "pull_request" in i]
    assert [p["number"] for p in pulls] == [1] and pulls[0]["pull_request"]["url"].endswith("/pulls/1")
    assert [i["title"] for i in listed if "pull_request" not in i] == ["Rotate DB_PASSWORD"]
    assert [i.title for i in fake.issues(REPO)] == ["Rotate DB_PASSWORD"]


def test_a_labelled_pull_request_matches_a_label_filter_too() -> None:
    fake = GitHub()
    fake.add_repo(REPO, pull_request_labels=["secret-rotation"])
    fake.add_token(WRITER, "rotation-bot", ["issues:read"])
    server = Server(fake)
    try:
        listed = httpx.get(f"{server.url}{ISSUES}?labels=secret-rotation", headers=headers(WRITER), timeout=10).json()
    finally:
        server.stop()
    assert [("pull_request" in i, i["number"]) for i in listed] == [(True, 1)]


def test_issue_filters_state_labels_and_creator(service: Service) -> None:
    _, client = service
    client.post(ISSUES, json={"title": "one", "labels": ["secret-rotation", "prod"]})
    client.post(ISSUES, json={"title": "two", "labels": ["secret-rotation"]})
    closed = client.post(ISSUES, json={"title": "three", "labels": ["secret-rotation", "prod"]}).json()
    client.patch(f"{ISSUES}/{closed['number']}", json={"state": "closed"})

    def titles(**params: str) -> list[str]:
        return [i["title"] for i in client.get(ISSUES, params=params).json() if "pull_request" not in i]

    assert titles(labels="secret-rotation,prod") == ["one"]  # all labels must match
    assert titles(labels="secret-rotation") == ["two", "one"]  # newest first
    assert titles(labels="secret-rotation", direction="asc") == ["one", "two"]
    assert titles(state="closed") == ["three"]
    assert titles(state="all", labels="prod") == ["three", "one"]
    assert titles(creator="rotation-bot") == ["two", "one"]
    assert titles(creator="someone-else") == []


def test_issues_page_with_per_page_and_page_and_a_link_header(service: Service) -> None:
    _, client = service
    for n in range(6):
        client.post(ISSUES, json={"title": f"issue {n}"})
    first = client.get(ISSUES, params={"per_page": 3})
    assert [i["number"] for i in first.json()] == [7, 6, 5]
    rels = links(first)
    assert set(rels) == {"next", "last"}
    assert "per_page=3" in rels["next"] and "page=2" in rels["next"] and "page=3" in rels["last"]
    seen, url = [i["number"] for i in first.json()], rels.get("next")
    while url:
        page = client.get(url)
        seen += [i["number"] for i in page.json()]
        url = links(page).get("next")
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    last = client.get(ISSUES, params={"per_page": 3, "page": 3})
    assert [i["number"] for i in last.json()] == [1] and set(links(last)) == {"prev", "first"}
    assert client.get(ISSUES, params={"per_page": 3, "page": 9}).json() == []
    assert len(client.get(ISSUES, params={"per_page": 500}).json()) == 7  # capped at 100, all fit


def test_creating_an_issue_creates_its_labels_and_assigns_collaborators(service: Service) -> None:
    fake, client = service
    made = client.post(ISSUES, json={"title": "Rotate", "body": "due", "labels": ["rot"], "assignees": ["alice"]})
    assert made.status_code == 201 and made.headers["location"].endswith(f"{ISSUES}/{made.json()['number']}")
    issue = made.json()
    assert (issue["state"], issue["user"]["login"], issue["body"]) == ("open", "rotation-bot", "due")
    assert [label["name"] for label in issue["labels"]] == ["rot"] and issue["labels"][0]["color"]
    assert [a["login"] for a in issue["assignees"]] == ["alice"] and issue["assignee"]["login"] == "alice"
    assert fake.issue(REPO, issue["number"]).labels == ["rot"]
    assert client.post(ISSUES, json={"body": "no title"}).status_code == 422


def test_a_non_collaborator_assignee_fails_the_call_with_422(service: Service) -> None:
    fake, client = service
    before = len(fake.issues(REPO))
    refused = client.post(ISSUES, json={"title": "Rotate", "assignees": ["alice", "mallory"]})
    assert refused.status_code == 422
    assert refused.json()["message"] == "Validation Failed"
    assert refused.json()["errors"] == [
        {"value": "mallory", "resource": "Issue", "field": "assignees", "code": "invalid"}
    ]
    assert len(fake.issues(REPO)) == before
    number = client.post(ISSUES, json={"title": "ok"}).json()["number"]
    assert client.patch(f"{ISSUES}/{number}", json={"assignees": ["mallory"]}).status_code == 422
    assert fake.issue(REPO, number).assignees == []


def test_without_push_access_labels_and_assignees_are_silently_dropped(service: Service) -> None:
    _, client = service
    made = client.post(ISSUES, json={"title": "t", "labels": ["x"], "assignees": ["mallory"]}, headers=headers(NO_PUSH))
    assert made.status_code == 201 and (made.json()["labels"], made.json()["assignees"]) == ([], [])


def test_updating_closing_reopening_and_commenting(service: Service) -> None:
    fake, client = service
    number = client.post(ISSUES, json={"title": "Rotate", "labels": ["a", "b"]}).json()["number"]
    changed = client.patch(f"{ISSUES}/{number}", json={"title": "Rotated", "labels": ["done"], "assignees": ["bob"]})
    assert changed.status_code == 200
    assert [label["name"] for label in changed.json()["labels"]] == ["done"]
    assert [a["login"] for a in changed.json()["assignees"]] == ["bob"]
    closed = client.patch(f"{ISSUES}/{number}", json={"state": "closed", "state_reason": "not_planned"}).json()
    assert (closed["state"], closed["state_reason"]) == ("closed", "not_planned") and closed["closed_at"]
    reopened = client.patch(f"{ISSUES}/{number}", json={"state": "open"}).json()
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == ("open", "reopened", None)
    assert client.patch(f"{ISSUES}/{number}", json={"state": "done"}).status_code == 422
    comment = client.post(f"{ISSUES}/{number}/comments", json={"body": "Rotated at 12:00"})
    assert comment.status_code == 201 and comment.headers["location"] == comment.json()["url"]
    assert comment.json()["body"] == "Rotated at 12:00" and comment.json()["user"]["login"] == "rotation-bot"
    assert client.get(f"{ISSUES}/{number}").json()["comments"] == 1
    assert [c["body"] for c in client.get(f"{ISSUES}/{number}/comments").json()] == ["Rotated at 12:00"]
    assert fake.issue(REPO, number).comments[0]["body"] == "Rotated at 12:00"
    assert client.post(f"{ISSUES}/999/comments", json={"body": "x"}).status_code == 404
    assert client.patch(f"{ISSUES}/999", json={"state": "closed"}).status_code == 404
    assert client.delete(f"{ISSUES}/{number}").status_code == 404  # no such route


# ---------------------------------------------------------------------------------------------- faults


def test_a_secondary_rate_limit_then_success(service: Service) -> None:
    fake, client = service
    fake.secondary_rate_limit("POST", ISSUES, status=403, retry_after=7)
    fake.secondary_rate_limit("POST", ISSUES, status=429, retry_after=3)
    first = client.post(ISSUES, json={"title": "t"})
    assert first.status_code == 403 and first.headers["retry-after"] == "7"
    assert "secondary rate limit" in first.json()["message"]
    second = client.post(ISSUES, json={"title": "t"})
    assert (second.status_code, second.headers["retry-after"]) == (429, "3")
    assert fake.issues(REPO) == []
    assert client.post(ISSUES, json={"title": "t"}).status_code == 201


def test_scripted_failures_last_the_given_number_of_calls(service: Service) -> None:
    fake, client = service
    fake.fail("GET", f"{SECRETS}/public-key", 503, times=2)
    statuses = [client.get(f"{SECRETS}/public-key").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [c.status for c in fake.calls] == statuses and all(c.method == "GET" for c in fake.calls)


def test_a_lost_answer_still_performs_the_write(service: Service) -> None:
    fake, client = service
    fake.lose_answer("PUT", f"{SECRETS}/DB_PASSWORD")
    lost = put_secret(client, SECRETS, "DB_PASSWORD", "written-anyway")
    assert lost.status_code == 502
    assert fake.secret_value(REPO, "DB_PASSWORD") == "written-anyway"
    assert put_secret(client, SECRETS, "DB_PASSWORD", "written-anyway").status_code == 204  # it existed
    fake.lose_answer("POST", ISSUES)
    assert client.post(ISSUES, json={"title": "once"}).status_code == 502
    assert [i.title for i in fake.issues(REPO)] == ["once"]


def test_calls_are_recorded_with_query_body_and_authorization(service: Service) -> None:
    fake, client = service
    client.get(ISSUES, params={"state": "open", "labels": "a"})
    call = fake.calls[-1]
    assert call.path == f"{ISSUES}?state=open&labels=a" and call.authorization == f"Bearer {WRITER}"
    assert call.status == 200 and call.body is None
