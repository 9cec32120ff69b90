"""Secret rotation: methods, `secrets`, and `rotate` against fakes of ESC and OpenRouter on 127.0.0.1.

The OpenRouter API key of the platform fixture's production environment is rotated by the runner:
its key made through the management API (tests/fakes/openrouter_keys.py), written into the ESC
secrets environment with its record (tests/fakes/esc_api.py), checked with the real health check, and
the replaced key revoked only after the policy's overlap (7 days). A crash is injected after each step.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from compiler import homes, rotation
from compiler.integrations.openrouter import rotate as openrouter_rotate
from compiler.rotation import state as records
from compiler.rotation.esc import Esc
from compiler.rotation.runner import Outcome, Runner
from compiler.targets.esc import rotated_definition, rotators_definition
from tests.conftest import Result, platform_model
from tests.fakes import esc_api
from tests.fakes.openrouter_keys import OpenRouter
from tests.fakes.openrouter_keys import Server as OpenRouterServer

TOKEN = "pul-" + "t0k3n" * 8
MANAGEMENT = "sk-or-v1-" + "m4n4g3" * 10
OLD_KEY = "sk-or-v1-" + "0ld" * 20
ORG, PROJECT, SECRETS_ENV = "payready", "sophia-ai", "production-secrets"
ROTATED_ENV, ROTATORS_ENV = "production-rotated", "production-rotators"
PATH = "openrouter.apiKey"
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class Crash(Exception):
    """A runner dying at one step."""


@dataclass
class World:
    esc: esc_api.Esc
    esc_url: str
    openrouter: OpenRouter
    openrouter_url: str
    clock: list[datetime]

    def runner(self, after: Callable[[str], None] = lambda step: None) -> Runner:
        client = Esc(ORG, TOKEN, self.esc_url, sleep=lambda seconds: None)
        environ = {"OPENROUTER_MANAGEMENT_KEY": MANAGEMENT}
        return Runner(
            platform_model(),
            "production",
            client,
            environ,
            {"openrouter": self.openrouter_url},
            now=lambda: self.clock[0],
            after=after,
        )

    def rotate(self, **kwargs: Any) -> list[Outcome]:
        after = kwargs.pop("after", lambda step: None)
        return self.runner(after).run(**{"due": True, "secret": None, "dry_run": False, **kwargs})

    def values(self) -> dict[str, Any]:
        return dict(self.esc.decrypted(ORG, PROJECT, ROTATED_ENV)["values"])

    def current_key(self) -> str:
        """The value the pipeline reads: the rotated environment's, else (before the first rotation) the one
        it imports from the secrets environment (ESC merges imports under the importer's values)."""
        for env in (ROTATED_ENV, SECRETS_ENV):
            found = self.esc.decrypted(ORG, PROJECT, env)["values"].get("openrouter", {}).get("apiKey")
            if found is not None:
                return str(found["fn::secret"])
        raise AssertionError("no value at openrouter.apiKey")

    def record(self) -> dict[str, Any]:
        return dict(self.values().get(records.RECORDS, {}).get(PATH, {}))

    def later(self, **delta: float) -> None:
        self.clock[0] += timedelta(**delta)

    def mine(self) -> list[dict[str, Any]]:
        """The environment's keys in OpenRouter."""
        return [k for k in self.openrouter.keys.values() if str(k["name"]).startswith("sophia-ai-production")]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr("compiler.probes.runner.DEFAULT_POLICY", _fast_policy())
    store = esc_api.Esc(tokens={TOKEN})
    initial = {
        "values": {"openrouter": {"apiKey": {"fn::secret": OLD_KEY}, "managementKey": {"fn::secret": MANAGEMENT}}}
    }
    store.put(ORG, PROJECT, SECRETS_ENV, yaml.safe_dump(initial))
    # As the bootstrap creates them (generated/esc/production-rotated.yaml, production-rotators.yaml).
    store.put(ORG, PROJECT, ROTATED_ENV, yaml.safe_dump(rotated_definition(production())))
    store.put(ORG, PROJECT, ROTATORS_ENV, yaml.safe_dump(declared_rotators()))
    service = OpenRouter(MANAGEMENT)
    with esc_api.Server(store) as esc_server:
        served = OpenRouterServer(service)
        try:
            yield World(store, esc_server.url, service, served.url, [START])
        finally:
            served.stop()


def production() -> Any:
    return next(e for e in platform_model().environments if e.name == "production")


def declared_rotators() -> dict[str, Any]:
    return rotators_definition(platform_model(), production())


def _fast_policy() -> Any:
    from compiler.probes.runner import RetryPolicy

    return RetryPolicy(backoff_base=0.01, backoff_cap=0.05)


def test_methods_are_chosen_from_the_policy_and_the_types_rotators() -> None:
    items = {(p.label, p.env.name): p for p in rotation.planned(platform_model())}
    assert items[("openrouter/api-key", "production")].method == rotation.WORKFLOW
    assert items[("openrouter/management-key", "production")].method == rotation.REMINDER
    automatic_unhandled = items[("snowflake/deployer-private-key", "production")]
    assert automatic_unhandled.method == rotation.REMINDER and "no rotator" in automatic_unhandled.why
    # The service user's key pair: Pulumi ESC's snowflake-user rotator, read from the rotated environment.
    by_esc = items[("snowflake/private-key", "production")]
    assert (by_esc.method, by_esc.esc_environment) == (rotation.ESC, f"{PROJECT}/{ROTATORS_ENV}")
    # The public key the user is created with rotates along; its value is read where people put it.
    along = items[("snowflake/service-public-key", "production")]
    assert (along.method, along.esc_environment) == (rotation.ESC, f"{PROJECT}/{SECRETS_ENV}")
    assert along.owner == "snowflake/private-key" and by_esc.owner is None
    # Airbyte reads the same key: from where the rotator writes it, and nobody is reminded of it.
    shared = items[("airbyte/snowflake-private-key", "production")]
    assert shared.esc_environment == f"{PROJECT}/{ROTATORS_ENV}"
    assert (shared.method, shared.owner, shared.why) == (rotation.ESC, "snowflake/private-key", "")
    assert items[("openrouter/api-key", "production")].esc_environment == f"{PROJECT}/{ROTATED_ENV}"


def test_a_full_rotation_writes_the_new_key_and_its_record_and_keeps_the_old_one_valid(world: World) -> None:
    assert [o.action for o in world.rotate()] == ["rotated"]  # no record yet: due
    (made,) = world.mine()
    assert world.current_key() == world.openrouter.values[made["hash"]]
    assert made["limit"] == 1500.0 and made["limit_reset"] == "monthly"  # the spec's budget from the start
    assert world.record() == {"rotatedAt": "2026-12-01T06:00:00Z", "current": made["hash"], "retiring": []}
    assert [o.action for o in world.rotate()] == ["skipped"]  # not due again for 90 days

    world.later(days=91)
    assert [o.action for o in world.rotate()] == ["rotated"]
    old, new = sorted(world.mine(), key=lambda k: k["created_at"])
    assert world.current_key() == world.openrouter.values[new["hash"]]
    assert world.record()["retiring"] == [{"id": old["hash"], "revokeAfter": "2027-03-09T06:00:00Z"}]
    assert old["hash"] in world.openrouter.keys  # still valid during the overlap

    world.later(days=6)
    world.rotate()
    assert old["hash"] in world.openrouter.keys  # 6 of 7 days: kept
    world.later(days=1, seconds=1)
    assert [o.action for o in world.rotate()] == ["revoked", "skipped"]
    assert list(world.openrouter.keys) == [new["hash"]] and world.record()["retiring"] == []


def test_dry_run_changes_nothing(world: World) -> None:
    revision = world.esc.revision(ORG, PROJECT, ROTATED_ENV)
    assert [(o.action, o.secret) for o in world.rotate(dry_run=True)] == [("would-rotate", "openrouter/api-key")]
    assert world.esc.revision(ORG, PROJECT, ROTATED_ENV) == revision and world.openrouter.keys == {}
    assert world.current_key() == OLD_KEY


@pytest.mark.parametrize("step", ["claimed", "created", "verified"])
def test_a_crash_before_the_write_leaves_the_old_key_and_a_rerun_finishes_with_one_new_key(
    world: World, step: str
) -> None:
    def crash(at: str) -> None:
        if at == step:
            raise Crash(step)

    with pytest.raises(Crash):
        world.rotate(after=crash)
    assert world.current_key() == OLD_KEY  # nothing written: the application keeps working
    assert world.rotate() == [Outcome("openrouter/api-key", "skipped", "another runner is rotating it")]
    world.later(minutes=31)  # the crashed runner's claim has lapsed
    assert [o.action for o in world.rotate()] == ["rotated"]
    (made,) = world.mine()  # the crashed run's key (if it made one) was revoked, not left behind
    assert world.current_key() == world.openrouter.values[made["hash"]] and "pending" not in world.record()


def test_a_crash_after_the_write_is_a_finished_rotation(world: World) -> None:
    def crash(at: str) -> None:
        if at == "written":
            raise Crash(at)

    with pytest.raises(Crash):
        world.rotate(after=crash)
    (made,) = world.mine()
    assert world.current_key() == world.openrouter.values[made["hash"]]
    assert [o.action for o in world.rotate()] == ["skipped"]  # not due: no second new key


def test_a_crash_during_revocation_is_finished_by_the_next_run(world: World) -> None:
    world.rotate()
    world.later(days=91)
    world.rotate()
    world.later(days=8)

    def crash(at: str) -> None:
        if at == "revoked":
            raise Crash(at)

    with pytest.raises(Crash):
        world.rotate(after=crash)
    assert len(world.mine()) == 1 and world.record()["retiring"] == []  # revoked and recorded before the crash
    assert [o.action for o in world.rotate()] == ["skipped"]


def test_a_lost_esc_answer_and_a_concurrent_edit_are_survived(world: World) -> None:
    world.esc.lose_answer_next("patch", times=1)  # the claim is applied, its answer lost
    outcomes = world.rotate()
    assert [o.action for o in outcomes] == ["rotated"] and len(world.mine()) == 1, outcomes

    world.later(days=91)

    def edit(at: str) -> None:
        if at == "verified":  # someone edits the environment between the claim and the write
            definition = yaml.safe_load(world.esc.definition(ORG, PROJECT, ROTATED_ENV))
            definition["values"]["edited"] = "by hand"
            world.esc.put(ORG, PROJECT, ROTATED_ENV, yaml.safe_dump(definition))

    assert [o.action for o in world.rotate(after=edit)] == ["rotated"]
    assert world.values()["edited"] == "by hand" and len(world.mine()) == 2


def test_a_new_key_failing_its_health_check_is_revoked_and_the_old_one_kept(world: World) -> None:
    world.openrouter.fail("GET", "/key", 401)  # the new key is refused
    assert [o.action for o in world.rotate()] == ["failed"]
    assert world.current_key() == OLD_KEY and world.mine() == [] and "pending" not in world.record()


def test_two_runners_started_at_once_rotate_the_secret_once(world: World) -> None:
    barrier = threading.Barrier(2)
    results: list[list[Outcome]] = []

    def run() -> None:
        barrier.wait()
        results.append(world.rotate())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    actions = sorted(o.action for outcome in results for o in outcome)
    assert actions == ["rotated", "skipped"] and len(world.mine()) == 1


def test_secrets_lists_each_secret_with_its_method_and_due_date(
    world: World, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import PLATFORM_SPECS

    world.clock[0] = datetime.now(UTC)
    world.rotate()
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("SOPHIA_IAC_ESC_URL", world.esc_url)
    result = cli("secrets", "--specs", str(PLATFORM_SPECS), "--env", "production", "--format", "json")
    assert result.code == 0, result.err
    rows = {r["secret"]: r for r in json.loads(result.out)}
    key = rows["openrouter/api-key"]
    assert (key["method"], key["status"], key["policy"]) == ("workflow", "ok", "ninety-day")
    due = datetime.fromisoformat(key["nextDue"].replace("Z", "+00:00")) - timedelta(days=90)
    assert abs((due - world.clock[0]).total_seconds()) < 2
    assert rows["gong/access-key"]["method"] == "reminder" and rows["gong/access-key"]["status"] == "unknown"
    text = cli("secrets", "--specs", str(PLATFORM_SPECS), "--env", "production")
    assert "openrouter/api-key" in text.out and "workflow" in text.out and "reminder*" in text.out


def test_the_rotator_finds_only_keys_made_under_the_name_it_asks_for(world: World) -> None:
    runner = world.runner()
    item = next(p for p in rotation.planned(platform_model(), "production") if p.label == "openrouter/api-key")
    _, ctx = runner._rotator(item)
    made, _ = openrouter_rotate.create(ctx, "api-key", "sophia-ai-production (20261201T060000Z)")
    openrouter_rotate.create(ctx, "api-key", "sophia-ai-production (other)")
    assert openrouter_rotate.find(ctx, "api-key", "sophia-ai-production (20261201T060000Z)") == [made]
    openrouter_rotate.revoke(ctx, "api-key", made)
    openrouter_rotate.revoke(ctx, "api-key", made)  # gone already: fine


# ---------------------------------------------------------------------- the GitHub secret that carries it

GH_TOKEN = "ghs_" + "s3cr3t" * 6


@pytest.fixture
def carried(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Any, Any]]:
    """The same world, where the key is also carried by the GitHub secret OPENROUTER_API_KEY of the
    production environment (a GitHub fake on 127.0.0.1 holding the key pair it seals to)."""
    from dataclasses import replace

    from compiler.rotation.remind import GitHub as Client
    from tests.fakes.github_api import GitHub as FakeGitHub
    from tests.fakes.github_api import Server as GitHubServer

    model = platform_model()
    integrations = tuple(
        replace(i, secrets=tuple(replace(s, github_secret="OPENROUTER_API_KEY") for s in i.secrets))
        if i.name == "openrouter"
        else i
        for i in model.integrations
    )
    monkeypatch.setattr("tests.test_rotation.platform_model", lambda: replace(model, integrations=integrations))
    hub = FakeGitHub()
    hub.add_repo("payready/sophia-ai", environments=["production"])
    hub.add_token(GH_TOKEN, "sophia-iac[bot]", ["secrets:write", "environments:write"], app=True)
    server = GitHubServer(hub)
    try:
        yield world, hub, Client("payready/sophia-ai", GH_TOKEN, server.url, sleep=lambda s: None)
    finally:
        server.stop()


def test_the_github_secret_carrying_the_key_is_updated_after_esc(carried: tuple[World, Any, Any]) -> None:
    world, hub, client = carried
    runner = world.runner()
    runner.github = client
    assert [o.action for o in runner.run(due=True, secret=None, dry_run=False)] == ["rotated"]
    assert hub.secret_value("payready/sophia-ai", "OPENROUTER_API_KEY", "production") == world.current_key()
    assert "carry" not in world.record()


def test_a_crash_between_esc_and_github_is_carried_over_by_the_next_run(carried: tuple[World, Any, Any]) -> None:
    world, hub, client = carried

    def crash(at: str) -> None:
        if at == "written":
            raise Crash(at)

    runner = world.runner(crash)
    runner.github = client
    with pytest.raises(Crash):
        runner.run(due=True, secret=None, dry_run=False)
    assert set(world.record()["carry"]) == {"id"}
    assert hub.secret_value("payready/sophia-ai", "OPENROUTER_API_KEY", "production") is None
    again = world.runner()
    again.github = client
    assert [o.action for o in again.run(due=True, secret=None, dry_run=False)] == ["carried", "skipped"]
    assert hub.secret_value("payready/sophia-ai", "OPENROUTER_API_KEY", "production") == world.current_key()
    assert len(world.mine()) == 1 and "carry" not in world.record()


def test_without_a_github_token_nothing_starts(carried: tuple[World, Any, Any]) -> None:
    world, _, _ = carried
    (outcome,) = world.rotate()
    assert outcome.action == "failed" and "needs GITHUB_TOKEN" in outcome.detail
    assert world.mine() == [] and world.record() == {}


def test_a_run_whose_claim_lapsed_and_was_taken_over_writes_nothing_and_revokes_only_its_own_key(
    world: World,
) -> None:
    """A (slow) claims and makes K1; its lease runs out; B takes over, rotates to K2. A must not write K1."""
    taken_over: list[list[Outcome]] = []

    def slow(at: str) -> None:
        if at == "verified" and not taken_over:
            world.later(minutes=31)  # A's lease has run out while it verified
            taken_over.append(world.rotate())  # B finishes a rotation meanwhile

    (outcome,) = world.rotate(after=slow)
    assert [o.action for o in taken_over[0]] == ["rotated"]
    assert outcome.action == "failed" and "took the rotation over" in outcome.detail
    (made,) = world.mine()  # B's key, the one in ESC; A revoked its own
    assert world.current_key() == world.openrouter.values[made["hash"]]


def test_nothing_is_revoked_while_the_github_secret_still_holds_the_old_key(carried: tuple[World, Any, Any]) -> None:
    world, hub, client = carried
    runner = world.runner()
    runner.github = client
    runner.run(due=True, secret=None, dry_run=False)
    world.later(days=91)
    hub.fail("PUT", "/repos/payready/sophia-ai/environments/production/secrets/OPENROUTER_API_KEY", 403, times=1)
    again = world.runner()
    again.github = client
    assert [o.action for o in again.run(due=True, secret=None, dry_run=False)] == ["failed"]
    old = world.record()["retiring"][0]["id"]
    world.later(days=8)  # the overlap is over, but GitHub still holds the old key
    blocked = world.runner()
    blocked.github = None
    assert [o.action for o in blocked.run(due=True, secret=None, dry_run=False)] == ["failed"]
    assert old in world.openrouter.keys
    fixed = world.runner()
    fixed.github = client
    assert [o.action for o in fixed.run(due=True, secret=None, dry_run=False)] == ["carried", "revoked", "skipped"]
    assert old not in world.openrouter.keys
    assert hub.secret_value("payready/sophia-ai", "OPENROUTER_API_KEY", "production") == world.current_key()


def test_recorded_times_are_read_however_they_were_written() -> None:
    item = next(p for p in rotation.planned(platform_model(), "production") if p.label == "openrouter/api-key")
    unquoted = yaml.safe_load("rotatedAt: 2026-11-30T00:00:00Z")  # a hand edit: a YAML timestamp
    for record in (unquoted, {"rotatedAt": "2026-11-30T00:00:00"}, {"rotatedAt": "2026-11-30T00:00:00Z"}):
        assert rotation.status(item, record, START).status == "ok"
    assert rotation.status(item, {"rotatedAt": "yesterday"}, START).status == "unknown"


def test_a_policy_without_overlap_cannot_be_rotated_automatically() -> None:
    from dataclasses import replace

    item = next(p for p in rotation.planned(platform_model(), "production") if p.label == "openrouter/api-key")
    method, why = homes.method(item.integration, item.secret, replace(item.policy, overlap=None))
    assert method == rotation.REMINDER and "no overlap" in why


def test_a_github_5xx_on_the_secret_is_retried(carried: tuple[World, Any, Any]) -> None:
    world, hub, client = carried
    hub.fail("PUT", "/repos/payready/sophia-ai/environments/production/secrets/OPENROUTER_API_KEY", 502, times=1)
    runner = world.runner()
    runner.github = client
    assert [o.action for o in runner.run(due=True, secret=None, dry_run=False)] == ["rotated"]
    assert hub.secret_value("payready/sophia-ai", "OPENROUTER_API_KEY", "production") == world.current_key()


def test_the_first_rotation_retires_the_key_that_was_in_use_before(world: World) -> None:
    world.openrouter.keys["handmade"] = {"hash": "handmade", "name": "sophia-ai-production", "limit": 1500.0}
    world.openrouter.keys["other"] = {"hash": "other", "name": "someone-else"}
    assert [o.action for o in world.rotate()] == ["rotated"]
    assert world.record()["retiring"] == [{"id": "handmade", "revokeAfter": "2026-12-08T06:00:00Z"}]
    world.later(days=7, seconds=1)
    assert [o.action for o in world.rotate()] == ["revoked", "skipped"]
    assert "handmade" not in world.openrouter.keys and "other" in world.openrouter.keys


def test_in_github_actions_the_new_key_is_masked_in_the_log(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    runner = world.runner()
    runner.environ = {**runner.environ, "GITHUB_ACTIONS": "true"}
    runner.run(due=True, secret=None, dry_run=False)
    assert f"::add-mask::{world.current_key()}" in capsys.readouterr().out


class Reads(dict[str, str]):
    """An environment whose reads are recorded."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def test_the_rotate_job_exports_every_variable_the_rotation_reads(world: World) -> None:
    from tests.test_workflows import WORKFLOWS, load

    job = load(WORKFLOWS / "rotate-secrets.yml")["jobs"]["rotate-production"]
    (opened,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/esc-action@")]
    exported = set(opened["with"]["export-environment-variables"].split(","))
    assert exported == set(rotation.variables(platform_model(), "production"))
    # What the ESC environment would export, restricted as the job restricts it.
    everything = {"OPENROUTER_MANAGEMENT_KEY": MANAGEMENT, "OPENROUTER_API_KEY": OLD_KEY, "PORTKEY_API_KEY": "x"}
    environ = Reads({k: v for k, v in everything.items() if k in exported})
    runner = world.runner()
    runner.environ = environ
    assert [o.action for o in runner.run(due=True, secret=None, dry_run=False)] == ["rotated"]
    read = {name for name in environ.read if not name.startswith(("SOPHIA_IAC_", "GITHUB_", "RUNNER_"))}
    assert read and read <= exported, read - exported


def test_the_esc_rotator_is_declared_with_the_key_in_use_as_its_initial_state() -> None:
    declared = declared_rotators()
    assert "imports" not in declared  # it references single values, and only from the secrets environment
    secrets = f"${{environments.{PROJECT}.{SECRETS_ENV}"
    rotator = declared["values"]["sophiaIacRotators"]["snowflake"]["privateKey"]["fn::rotate::snowflake-user"]
    assert rotator == {
        "inputs": {
            "login": {
                "account": "PAYREADY-SOPHIA",
                "user": "SOPHIA_IAC_DEPLOYER",
                "privateKey": secrets + ".snowflake.deployerPrivateKey}",
            },
            "targetUser": "SOPHIA_PROD_SVC",
        },
        # Before its first rotation it opens with the key the user was created with; the first rotation
        # keeps that key's public half in RSA_PUBLIC_KEY_2.
        "state": {"account": "PAYREADY-SOPHIA", "privateKey": secrets + ".snowflake.privateKey}"},
    }
    assert declared["values"]["snowflake"] == {"privateKey": "${sophiaIacRotators.snowflake.privateKey.privateKey}"}


def test_what_differs_from_the_declared_rotators_and_rotated_values_is_found() -> None:
    from compiler.rotation.remind import created_drift

    store = esc_api.Esc(tokens={TOKEN})
    live = declared_rotators()
    rotator = live["values"]["sophiaIacRotators"]["snowflake"]["privateKey"]["fn::rotate::snowflake-user"]
    # ESC's state after a rotation is no difference.
    rotator["state"] = {"account": "PAYREADY-SOPHIA", "privateKey": {"fn::secret": {"ciphertext": "ZXNj"}}}
    store.put(ORG, PROJECT, ROTATORS_ENV, yaml.safe_dump(live))
    rotated = rotated_definition(production())
    rotated["values"] = {"openrouter": {"apiKey": {"fn::secret": {"ciphertext": "a2V5"}}}, records.RECORDS: {}}
    store.put(ORG, PROJECT, ROTATED_ENV, yaml.safe_dump(rotated))
    with esc_api.Server(store) as server:
        client = Esc(ORG, TOKEN, server.url, sleep=lambda seconds: None)
        assert created_drift(platform_model(), "production", client) == []

        rotator["inputs"]["targetUser"] = "SOPHIA_IAC_DEPLOYER"  # retargeted behind the specs
        store.put(ORG, PROJECT, ROTATORS_ENV, yaml.safe_dump(live))
        rotated["values"]["portkey"] = {"apiKey": "sk-elsewhere"}  # a value the rotator does not rotate
        rotated["imports"].append(f"{PROJECT}/production-bootstrap-secrets")
        store.put(ORG, PROJECT, ROTATED_ENV, yaml.safe_dump(rotated))
        assert created_drift(platform_model(), "production", client) == [
            f"{PROJECT}/{ROTATED_ENV}: imports ['{PROJECT}/{SECRETS_ENV}', '{PROJECT}/production-bootstrap-secrets'], "
            f"declared ['{PROJECT}/{SECRETS_ENV}']",
            f"{PROJECT}/{ROTATED_ENV}: portkey.apiKey is not sophia-iac's",
            f"{PROJECT}/{ROTATORS_ENV}: sophiaIacRotators.snowflake.privateKey.fn::rotate::snowflake-user differs "
            "from the specs",
        ]


def test_an_esc_rotated_secret_is_last_rotated_when_its_rotator_state_was_made() -> None:
    live = declared_rotators()
    rotator = live["values"]["sophiaIacRotators"]["snowflake"]["privateKey"]["fn::rotate::snowflake-user"]
    rotator["state"]["createdAt"] = "2026-11-01T06:00:00Z"
    doc = records.load(yaml.safe_dump(live))
    item = next(p for p in rotation.planned(platform_model(), "production") if p.label == "snowflake/private-key")
    found = rotation.status(item, records.record(doc, "snowflake.privateKey"), START)
    assert (rotation.iso(found.last_rotated), found.status) == ("2026-11-01T06:00:00Z", "ok")
    assert rotation.iso(found.next_due) == "2027-01-30T06:00:00Z"


def test_rotate_names_the_esc_command_for_an_esc_rotated_secret(world: World) -> None:
    (outcome,) = world.rotate(secret="snowflake/private-key", due=False)
    assert outcome.action == "skipped"
    assert "esc env rotate payready/sophia-ai/production-rotators" in outcome.detail
    assert world.openrouter.keys == {}


def test_esc_rotates_on_the_least_frequent_calendar_schedule_no_key_outlives_the_interval_on() -> None:
    from dataclasses import replace

    model = platform_model()
    env = next(e for e in model.environments if e.name == "production")
    # 90 days: monthly; a key is valid for two runs (slot 1, then slot 2): at most 62 days.
    assert homes.esc_schedule(model, env) == "0 6 1 * *"

    def with_interval(days: int, schedule: str | None = "30 4 * * 3") -> str | None:
        policies = tuple(
            replace(p, interval_seconds=days * 86400, schedule=schedule) if p.name == "ninety-day" else p
            for p in model.rotation_policies
        )
        return homes.esc_schedule(replace(model, rotation_policies=policies), env)

    assert with_interval(30) == "30 4 * * 3"  # weekly, on the policy's weekday
    assert with_interval(61) == "30 4 * * 3"
    assert with_interval(62) == "30 4 1 * *"
    assert with_interval(124) == "30 4 1 */2 *"
    assert with_interval(184) == "30 4 1 */3 *"
    assert with_interval(368) == "30 4 1 */6 *"
    assert with_interval(800) == "30 4 1 1 *"
    assert with_interval(13, None) == "0 6 * * *"  # never more often than daily
