"""Airbyte's dynamic providers (compiler/integrations/airbyte/providers.py), driven directly against a
fake of Airbyte's public API on 127.0.0.1 (tests/fakes/airbyte_api.py), and the pure schedule and
drift helpers the deploy and the health check share."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compiler.harness import StackRun, secret_value
from compiler.integrations import http
from compiler.integrations.airbyte import declared, providers
from tests.conftest import platform_model
from tests.fakes import airbyte_api
from tests.fakes.airbyte_api import Airbyte, Server

CLIENT_ID = "5d8c1f6e-0b7a-4c3e-9f21-7a6b5c4d3e2f"
CLIENT_SECRET = "YWlyYnl0ZS1jbGllbnQtc2VjcmV0LWZvci10ZXN0cw=="
WORKSPACE = "3f0c6a52-8b1e-4d7a-9c2f-5e6b7a8d9c01"
OTHER_WORKSPACE = "7a2e9d14-0c3b-4f6a-8e51-2b9d6c4f8a37"
HUBSPOT_TOKEN = "pat-na1-" + "0f3b9c2e" * 5
SNOWFLAKE_PASSWORD = 'sn0w"fl4ke-' + "Pw9x" * 6  # the quote is escaped in the JSON an answer echoes

Service = tuple[Airbyte, Server, list[float]]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    waits: list[float] = []
    monkeypatch.setattr(providers, "SLEEP", waits.append)
    fake = Airbyte(CLIENT_ID, CLIENT_SECRET, {WORKSPACE, OTHER_WORKSPACE})
    server = Server(fake)
    try:
        yield fake, server, waits
    finally:
        server.stop()


def access(server: Server) -> dict[str, Any]:
    return {"api_url": server.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "workspace_id": WORKSPACE}


def source_props(server: Server, **changes: Any) -> dict[str, Any]:
    configuration = {
        "sourceType": "hubspot",
        "credentials": {"credentials_title": "Private App", "access_token": HUBSPOT_TOKEN},
    }
    return {**access(server), "name": "hubspot", "configuration": configuration, **changes}


def destination_props(server: Server, **changes: Any) -> dict[str, Any]:
    configuration = {
        "destinationType": "snowflake",
        "host": "acme.snowflakecomputing.com",
        "password": SNOWFLAKE_PASSWORD,
    }
    return {**access(server), "name": "snowflake", "configuration": configuration, **changes}


SOURCE, DESTINATION, CONNECTION = (
    providers.SourceProvider(),
    providers.DestinationProvider(),
    providers.ConnectionProvider(),
)
CONNECTORS = [
    pytest.param(SOURCE, source_props, "sources", "sourceType", id="source"),
    pytest.param(DESTINATION, destination_props, "destinations", "destinationType", id="destination"),
]


def connection_props(server: Server, source_id: str, destination_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        **access(server),
        "name": "hubspot-to-snowflake",
        "source_id": source_id,
        "destination_id": destination_id,
        "schedule": "0 */12 * * *",
        "status": "active",
        "schema_changes": "propagate_columns",
    }
    return {**base, **changes}


def connected(server: Server, **changes: Any) -> tuple[str, dict[str, Any]]:
    """A source and a destination made, and a connection between them: its id and outputs."""
    source = SOURCE.create(source_props(server)).id
    destination = DESTINATION.create(destination_props(server)).id
    assert source and destination
    made = CONNECTION.create(connection_props(server, source, destination, **changes))
    assert made.id
    return made.id, made.outs


# ---------------------------------------------------------------------- quartz


@pytest.mark.parametrize(
    "cron, expected",
    [
        ("0 */12 * * *", "0 0 0,12 * * ?"),
        ("30 */2 * * *", "0 30 0,2,4,6,8,10,12,14,16,18,20,22 * * ?"),
        ("0 * * * *", "0 0 * * * ?"),
        ("5,35 9-17/2 * * *", "0 5,35 9,11,13,15,17 * * ?"),
        ("0 6 1,15 * *", "0 0 6 1,15 * ?"),
        ("0 6 */10 * *", "0 0 6 1,11,21,31 * ?"),
        ("15 3 5/7 * *", "0 15 3 5,12,19,26 * ?"),
        ("0 0 1 jan,Jul *", "0 0 0 1 1,7 ?"),
        ("0 0 * JAN-MAR *", "0 0 0 * 1-3 ?"),
        ("15 3 * * 1-5", "0 15 3 ? * 2-6"),
        ("15 3 * * MON-FRI", "0 15 3 ? * 2-6"),
        ("0 0 * * 0", "0 0 0 ? * 1"),
        ("0 0 * * 7", "0 0 0 ? * 1"),
        ("0 0 * * SAT,sun", "0 0 0 ? * 1,7"),
        ("0 0 * * 5-7", "0 0 0 ? * 1,6-7"),
        ("0 0 * * */2", "0 0 0 ? * 1,3,5,7"),
        ("0 0 * * 1/3", "0 0 0 ? * 2,5"),
        ("0 0 * * 0-6", "0 0 0 * * ?"),
        ("0 0 ? * *", "0 0 0 * * ?"),
        ("0 12 * 6 */1", "0 0 12 * 6 ?"),
        ("@daily", "0 0 0 * * ?"),
        ("@weekly", "0 0 0 ? * 1"),
        ("@hourly", "0 0 * * * ?"),
    ],
)
def test_quartz_converts_ranges_steps_lists_and_names(cron: str, expected: str) -> None:
    assert declared.quartz(cron) == expected


@pytest.mark.parametrize(
    "cron, why",
    [
        ("0 0 1 * 1", "restricts both day-of-month and day-of-week"),
        ("0 0 */2 * MON", "restricts both day-of-month and day-of-week"),
        ("0 0 * *", "not a five-field"),
        ("0 0 0 * * ?", "not a five-field"),
        ("60 * * * *", "not a valid cron expression"),
        ("0 24 * * *", "not a valid cron expression"),
        ("0 0 0 * *", "not a valid cron expression"),
        ("0 0 * 13 *", "not a valid cron expression"),
        ("0 0 * * 8", "not a valid cron expression"),
        ("0 0 1-31 * 3", "restricts both day-of-month and day-of-week"),
        ("0 0 L * *", "uses L or #"),
        ("0 0 * * 1#2", "uses L or #"),
        ("0 0 MON * *", "not a valid cron expression"),
        ("0 0 * FOO *", "not a valid cron expression"),
        ("*/0 * * * *", "not a valid cron expression"),
        ("0 0 1,,2 * *", "not a valid cron expression"),
    ],
)
def test_quartz_refuses_what_it_cannot_express(cron: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        declared.quartz(cron)


# ---------------------------------------------------------------------- drift


def held_connection(**changes: Any) -> dict[str, Any]:
    held = {
        "connectionId": "c",
        "schedule": {"scheduleType": "cron", "cronExpression": "0 0 */12 * * ? UTC"},
        "status": "active",
        "nonBreakingSchemaUpdatesBehavior": "propagate_columns",
    }
    return {**held, **changes}


DECLARED = {
    "name": "hubspot-to-snowflake",
    "schedule": "0 */12 * * *",
    "status": "active",
    "schema_changes": "propagate_columns",
}


def test_a_connection_as_declared_has_no_drift() -> None:
    assert declared.connection_drift(DECLARED, held_connection()) == []
    manual = {**DECLARED, "schedule": None}
    assert declared.connection_drift(manual, held_connection(schedule={"scheduleType": "manual"})) == []


@pytest.mark.parametrize(
    "held, drift",
    [
        (
            {"schedule": {"scheduleType": "cron", "cronExpression": "0 0 6 * * ? UTC"}},
            [("schedule", "0 0 0,12 * * ? UTC", "0 0 6 * * ? UTC")],
        ),
        (
            {"schedule": {"scheduleType": "cron", "cronExpression": "0 0 */12 * * ? America/New_York"}},
            [("schedule", "0 0 0,12 * * ? UTC", "0 0 */12 * * ? America/New_York")],
        ),
        (
            {"schedule": {"scheduleType": "basic", "basicTiming": "Every 24 HOURS"}},
            [("schedule", "0 0 0,12 * * ? UTC", "basic Every 24 HOURS")],
        ),
        ({"schedule": {"scheduleType": "manual"}}, [("schedule", "0 0 0,12 * * ? UTC", "manual")]),
        ({"status": "inactive"}, [("status", "active", "inactive")]),
        (
            {"nonBreakingSchemaUpdatesBehavior": "ignore", "status": "deprecated"},
            [("status", "active", "deprecated"), ("schemaChanges", "propagate_columns", "ignore")],
        ),
    ],
    ids=["schedule", "time zone", "basic", "manual", "status", "status and policy"],
)
def test_drift_names_what_differs_with_both_values(held: dict[str, Any], drift: list[tuple[str, Any, Any]]) -> None:
    assert declared.connection_drift(DECLARED, held_connection(**held)) == drift


def test_the_body_takes_defaults_and_refuses_what_airbyte_would() -> None:
    assert declared.connection_body({"name": "n"}) == {
        "name": "n",
        "schedule": {"scheduleType": "manual"},
        "status": "active",
        "nonBreakingSchemaUpdatesBehavior": "ignore",
    }
    with pytest.raises(ValueError, match="schema_changes: 'propagate' is not one of"):
        declared.connection_body({**DECLARED, "schema_changes": "propagate"})
    check = CONNECTION.check({}, {**DECLARED, "schedule": "0 0 1 * 1", "status": "paused"})
    assert [f.property for f in check.failures] == ["schedule", "status"]
    assert "restricts both" in check.failures[0].reason and "'paused' is not one of" in check.failures[1].reason
    assert CONNECTION.check({}, DECLARED).failures == []


# ---------------------------------------------------------------------- tokens


def test_a_token_is_fetched_once_and_again_only_when_a_call_answers_401(service: Service) -> None:
    fake, server, _ = service
    made = SOURCE.create(source_props(server))
    assert made.id
    SOURCE.read(made.id, made.outs)
    SOURCE.update(made.id, made.outs, source_props(server, name="hubspot-crm"))
    (token,) = fake.tokens
    assert fake.token_requests() == 1
    assert fake.calls[0][2] == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant-type": "client_credentials",
    }
    fake.expire_tokens()
    DESTINATION.create(destination_props(server))  # a create that answered 401 did nothing: made again
    assert fake.token_requests() == 2 and len(fake.live("destinations")) == 1 and token not in fake.tokens
    fake.fail("GET", "/sources", 401, times=2)
    with pytest.raises(http.ApiError, match=r"HTTP 401"):
        SOURCE.read(made.id, made.outs)
    assert fake.token_requests() == 3  # one new token per call, not a loop


def test_wrong_client_credentials_are_a_clear_error_that_shows_neither(service: Service) -> None:
    _, server, _ = service
    wrong = "d3JvbmctY2xpZW50LXNlY3JldC1mb3ItdGVzdHM="
    with pytest.raises(http.ApiError) as raised:
        SOURCE.create(source_props(server, client_secret=wrong))
    assert "hubspot: get access token failed (HTTP 403)" in str(raised.value)
    assert wrong not in str(raised.value) and CLIENT_ID not in str(raised.value)


# ---------------------------------------------------------------------- sources and destinations


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_a_connector_is_created_read_updated_and_deleted(
    service: Service, provider: Any, props: Any, kind: str, type_key: str
) -> None:
    fake, server, _ = service
    declared = props(server)
    made = provider.create(declared)
    held = fake.held[kind][made.id]
    assert (held["name"], held["workspaceId"], held[type_key]) == (
        declared["name"],
        WORKSPACE,
        declared["configuration"][type_key],
    )
    assert type_key not in held["configuration"] and made.outs[f"{kind[:-1]}_id"] == made.id
    held["name"] = "renamed-in-the-ui"
    assert provider.read(made.id, made.outs).outs["name"] == "renamed-in-the-ui"
    changed = {**declared["configuration"], "start_date": "2024-01-01T00:00:00Z"}
    news = props(server, configuration=changed)
    assert provider.diff(made.id, made.outs, news).changes and not provider.diff(made.id, made.outs, news).replaces
    provider.update(made.id, made.outs, news)
    assert held["configuration"]["start_date"] == "2024-01-01T00:00:00Z" and held["name"] == declared["name"]
    assert fake.calls[-1][0] == "PUT"
    provider.delete(made.id, made.outs)
    assert fake.live(kind) == {}
    provider.delete(made.id, made.outs)  # already gone: done


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_a_new_type_or_workspace_replaces_a_connector_and_new_access_only_updates(
    service: Service, provider: Any, props: Any, kind: str, type_key: str
) -> None:
    _, server, _ = service
    made = provider.create(props(server))
    other_type = {**made.outs["configuration"], type_key: "postgres"}
    assert provider.diff(made.id, made.outs, props(server, configuration=other_type)).replaces == ["configuration"]
    assert provider.diff(made.id, made.outs, props(server, workspace_id=OTHER_WORKSPACE)).replaces == ["workspace_id"]
    rotated = provider.diff(made.id, made.outs, props(server, client_secret="cm90YXRlZC1zZWNyZXQ="))
    assert rotated.changes and rotated.replaces == []
    assert not provider.diff(made.id, made.outs, props(server)).changes


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_a_connector_deleted_outside_pulumi_is_gone_on_refresh_though_a_get_still_answers(
    service: Service, provider: Any, props: Any, kind: str, type_key: str
) -> None:
    fake, server, _ = service
    made = provider.create(props(server))
    fake.held[kind][made.id]["deleted"] = True  # deleted in the UI: a tombstone
    assert provider.read(made.id, made.outs).id is None


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_a_lost_create_adopts_what_it_made_and_never_an_older_namesake(
    service: Service, provider: Any, props: Any, kind: str, type_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, server, _ = service
    monkeypatch.setattr(providers, "PAGE", 2)  # the one it made is on a later page
    for _ in range(2):
        provider.create(props(server, name="unrelated"))
    fake.fail_after("POST", f"/{kind}", 502)
    made = provider.create(props(server))
    assert (
        made.id in fake.live(kind) and [r["name"] for r in fake.live(kind).values()].count(props(server)["name"]) == 1
    )
    fake.held[kind][made.id]["createdAt"] = int(time.time()) - 3600  # an older one of the same name
    fake.fail("POST", f"/{kind}", 503)  # the request never got through
    with pytest.raises(http.ApiError, match=f"no {kind[:-1]} of this name appeared, so none was adopted"):
        provider.create(props(server))
    assert len(fake.live(kind)) == 3


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_429_waits_its_retry_after_and_a_5xx_is_retried(
    service: Service, provider: Any, props: Any, kind: str, type_key: str
) -> None:
    fake, server, waits = service
    fake.fail("POST", f"/{kind}", 429, {"Retry-After": "7"})
    made = provider.create(props(server))
    assert 7.0 in waits and len(fake.live(kind)) == 1
    fake.fail("PUT", f"/{kind}/{made.id}", 503)
    provider.update(made.id, made.outs, props(server, name="renamed"))
    assert fake.held[kind][made.id]["name"] == "renamed" and len(waits) == 2


@pytest.mark.parametrize("provider, props, kind, type_key", CONNECTORS)
def test_no_credential_or_configuration_secret_shows_in_an_error(
    service: Service, provider: Any, props: Any, kind: str, type_key: str
) -> None:
    fake, server, _ = service
    secrets = (HUBSPOT_TOKEN, SNOWFLAKE_PASSWORD, CLIENT_ID, CLIENT_SECRET)
    echo = f"invalid configuration {props(server)['configuration']} for client {CLIENT_ID}:{CLIENT_SECRET}"
    fake.fail("POST", f"/{kind}", 400, detail=echo)
    with pytest.raises(http.ApiError) as raised:
        provider.create(props(server))
    assert "HTTP 400" in str(raised.value) and "***" in str(raised.value)
    assert not [s for s in secrets if s in str(raised.value) or json.dumps(s)[1:-1] in str(raised.value)]
    (token,) = fake.tokens
    fake.fail("GET", f"/{kind}", 500, times=5, detail=f"token {token} broke")
    with pytest.raises(http.ApiError) as raised:
        provider.read("any", props(server))
    assert token not in str(raised.value) and "HTTP 500" in str(raised.value)


# ---------------------------------------------------------------------- connections


def test_a_connection_is_created_with_its_quartz_schedule_and_the_shared_body(service: Service) -> None:
    fake, server, _ = service
    id_, outs = connected(server)
    held = fake.held["connections"][id_]
    assert held["schedule"] == {"scheduleType": "cron", "cronExpression": "0 0 0,12 * * ?"}
    assert (held["status"], held["nonBreakingSchemaUpdatesBehavior"]) == ("active", "propagate_columns")
    posted = next(body for method, path, body in fake.calls if (method, path) == ("POST", "/v1/connections"))
    assert posted == {
        **declared.connection_body(outs),
        "sourceId": outs["source_id"],
        "destinationId": outs["destination_id"],
    }
    assert CONNECTION.read(id_, outs).outs["drift"] == []


def test_a_refresh_records_drift_and_the_next_update_patches_it_back(service: Service) -> None:
    fake, server, _ = service
    id_, outs = connected(server)
    held = fake.held["connections"][id_]
    held.update(status="inactive", schedule={"scheduleType": "cron", "cronExpression": "0 0 6 * * ?"})
    read = CONNECTION.read(id_, outs).outs
    assert read["drift"] == [["schedule", "0 0 0,12 * * ? UTC", "0 0 6 * * ? UTC"], ["status", "active", "inactive"]]
    declared = connection_props(server, outs["source_id"], outs["destination_id"])
    assert CONNECTION.diff(id_, read, declared).changes and not CONNECTION.diff(id_, outs, declared).changes
    assert CONNECTION.update(id_, read, declared).outs["drift"] == []
    assert held["status"] == "active" and held["schedule"]["cronExpression"] == "0 0 0,12 * * ?"


def test_a_new_schedule_is_patched_and_a_new_source_replaces_the_connection_first_deleting_it(service: Service) -> None:
    fake, server, _ = service
    id_, outs = connected(server)
    manual = connection_props(server, outs["source_id"], outs["destination_id"], schedule=None, status="inactive")
    diff = CONNECTION.diff(id_, outs, manual)
    assert diff.changes and diff.replaces == []
    CONNECTION.update(id_, outs, manual)
    held = fake.held["connections"][id_]
    assert held["schedule"] == {"scheduleType": "manual"} and held["status"] == "inactive"
    assert fake.calls[-1][0] == "PATCH" and "sourceId" not in fake.calls[-1][2]
    moved = connection_props(server, "another-source", outs["destination_id"])
    replaced = CONNECTION.diff(id_, outs, moved)
    assert replaced.replaces == ["source_id"] and replaced.delete_before_replace


def test_a_connection_deleted_here_or_outside_pulumi_is_gone(service: Service) -> None:
    fake, server, _ = service
    id_, outs = connected(server)
    fake.held["connections"][id_]["deleted"] = True  # deleted in the UI: GET answers it as deprecated
    assert CONNECTION.read(id_, outs).id is None
    CONNECTION.delete(id_, outs)  # already gone: done
    other, outs = connected(server)
    CONNECTION.delete(other, outs)
    assert fake.live("connections") == {} and CONNECTION.read("no-such-connection", outs).id is None


def test_a_lost_connection_create_adopts_the_one_it_made(service: Service) -> None:
    fake, server, _ = service
    source = SOURCE.create(source_props(server)).id
    destination = DESTINATION.create(destination_props(server)).id
    assert source and destination
    other = DESTINATION.create(destination_props(server, name="warehouse")).id
    assert other
    CONNECTION.create(connection_props(server, source, other))  # same name, another destination: not it
    fake.fail_after("POST", "/connections", 504)
    made = CONNECTION.create(connection_props(server, source, destination))
    assert fake.held["connections"][made.id]["destinationId"] == destination and len(fake.live("connections")) == 2


def test_connection_calls_wait_on_429_and_retry_a_5xx(service: Service) -> None:
    fake, server, waits = service
    id_, outs = connected(server)
    fake.fail("PATCH", f"/connections/{id_}", 429, {"Retry-After": "11"})
    fake.fail("PATCH", f"/connections/{id_}", 502)
    CONNECTION.update(id_, outs, {**outs, "schema_changes": "propagate_fully"})
    assert 11.0 in waits and fake.held["connections"][id_]["nonBreakingSchemaUpdatesBehavior"] == "propagate_fully"
    fake.fail("GET", f"/connections/{id_}", 503)
    assert CONNECTION.read(id_, outs).id == id_


def test_a_connection_error_shows_no_credential(service: Service) -> None:
    fake, server, _ = service
    id_, outs = connected(server)
    fake.fail("PATCH", f"/connections/{id_}", 400, detail=f"bad request from {CLIENT_ID} / {CLIENT_SECRET}")
    with pytest.raises(http.ApiError) as raised:
        CONNECTION.update(id_, outs, {**outs, "status": "inactive"})
    assert "hubspot-to-snowflake: update connection failed (HTTP 400)" in str(raised.value)
    assert CLIENT_ID not in str(raised.value) and CLIENT_SECRET not in str(raised.value)


def test_a_credential_cut_short_by_the_answer_length_is_still_masked(service: Service) -> None:
    fake, server, _ = service
    before = json.dumps(airbyte_api._problem(400, "MARK")).index("MARK")
    fake.fail("POST", "/sources", 400, detail="y" * (300 - before - 12) + CLIENT_SECRET)
    with pytest.raises(http.ApiError) as raised:
        SOURCE.create(source_props(server))
    assert str(raised.value).endswith("y***") and CLIENT_SECRET[:12] not in str(raised.value)
    (token,) = fake.tokens
    fake.fail("GET", "/sources", 502, times=5, detail="y" * (300 - before - 12) + token)
    with pytest.raises(http.ApiError) as raised:
        SOURCE.read("any", source_props(server))
    assert str(raised.value).endswith("y***") and token[:12] not in str(raised.value)


def test_every_resource_keeps_credentials_and_configuration_encrypted() -> None:
    assert providers.SECRET_OUTPUTS == ["client_id", "client_secret", "configuration"]


@pytest.fixture(scope="module")
def runs(stack_run: Callable[..., StackRun]) -> dict[str, StackRun]:
    return {env: stack_run(env) for env in ("development", "production")}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_program_keeps_the_workspace_sources_destinations_and_connections(
    runs: dict[str, StackRun], env: str
) -> None:
    config = next(i for i in platform_model().integrations if i.type.name == "airbyte").per_env[env].config
    made = {r["name"]: r for r in runs[env].resources if r["type"].startswith("pulumi-python:dynamic/airbyte:")}
    expected = {
        *(f"airbyte.source.{s['name']}" for s in config["sources"]),
        *(f"airbyte.destination.{d['name']}" for d in config["destinations"]),
        *(f"airbyte.connection.{c['name']}" for c in config["connections"]),
    }
    assert set(made) == expected
    hubspot = made["airbyte.source.hubspot"]["inputs"]
    configuration = secret_value(hubspot["configuration"])  # credentials inside: the whole of it is secret
    assert configuration["sourceType"] == "hubspot"
    assert configuration["credentials"]["access_token"].startswith("mock-secret-for-airbyteHubspotToken")
    assert configuration["start_date"] == "2024-01-01T00:00:00Z"
    snowflake = secret_value(made["airbyte.destination.snowflake"]["inputs"]["configuration"])
    assert snowflake["database"] == {"development": "SOPHIA_DEV", "production": "SOPHIA_PROD"}[env]
    for connection in config["connections"]:
        record = made[f"airbyte.connection.{connection['name']}"]
        inputs = record["inputs"]
        assert (inputs["schedule"], inputs["schema_changes"], inputs["status"]) == (
            connection["schedule"],
            connection["schemaChanges"],
            connection.get("status", "active"),
        )
        assert inputs["workspace_id"] == config["workspaceId"]
        ends = {made[f"airbyte.source.{connection['source']}"]["urn"], made["airbyte.destination.snowflake"]["urn"]}
        assert ends <= set(record["dependencies"])
        assert sorted(record["additionalSecretOutputs"]) == ["client_id", "client_secret", "configuration"]
    # dependsOn: [snowflake]: every resource waits for the Snowflake objects its destination loads into.
    snowflake = next(r for r in runs[env].resources if r["name"] == "snowflake" and not r["custom"])
    made_there = {r["urn"] for r in runs[env].resources if r["parent"] == snowflake["urn"]}
    assert made_there and all(made_there <= set(r["dependencies"]) for r in made.values())
