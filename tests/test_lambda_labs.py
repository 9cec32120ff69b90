"""The Lambda Labs dynamic providers, driven directly (create, read, diff, update, delete) against a
fake of the Lambda Cloud API on 127.0.0.1 (tests/fakes/lambda_cloud.py, which says what it simplifies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from compiler.integrations import http
from compiler.integrations.lambda_labs import providers
from tests.fakes.lambda_cloud import LambdaCloud, Server

KEY = "secret_sophia-ops_" + "x7Kq2LmN9pQrStUvWxYz0123"


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LambdaCloud, Server, list[float]]]:
    waits: list[float] = []
    monkeypatch.setattr(providers, "SLEEP", waits.append)  # every wait is recorded, none is slept
    fake = LambdaCloud(api_key=KEY)
    server = Server(fake)
    try:
        yield fake, server, waits
    finally:
        server.stop()


def pool(server: Server, **changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "api_url": server.url,
        "api_key": KEY,
        "prefix": "inference-production",
        "instance_type": "gpu_1x_a100_sxm4",
        "regions": ["us-east-1", "us-west-2"],
        "count": 1,
        "max_count": 4,
        "hourly_budget_usd": 6,
        "ssh_key_name": "sophia-ops",
        "file_systems": {"us-east-1": "models-east", "us-west-2": "models-west"},
    }
    return {**props, **changes}


def with_key(fake: LambdaCloud) -> None:
    fake.ssh_keys["k-1"] = {"id": "k-1", "name": "sophia-ops", "public_key": "ssh-ed25519 AAAA ops"}
    for fs_id, (name, region) in {"fs-1": ("models-east", "us-east-1"), "fs-2": ("models-west", "us-west-2")}.items():
        fake.file_systems[fs_id] = {"id": fs_id, "name": name, "region": {"name": region}}


def launches(fake: LambdaCloud) -> list[str]:
    return [c.body["region_name"] for c in fake.calls if c.path.endswith("/instance-operations/launch")]


def test_a_pool_launches_its_instances_in_the_first_region_with_their_key_and_file_system(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    created = providers.GpuPoolProvider().create(pool(server, count=2))
    assert created.id == "inference-production"
    assert [(i["name"], i["region"]) for i in created.outs["instances"]] == [
        ("inference-production-0", "us-east-1"),
        ("inference-production-1", "us-east-1"),
    ]
    assert created.outs["regions_used"] == ["us-east-1"]
    bodies = [c.body for c in fake.calls if c.path.endswith("/launch")]
    assert len(bodies) == 2
    first = bodies[0]
    assert first["ssh_key_names"] == ["sophia-ops"] and first["file_system_names"] == ["models-east"]
    assert "quantity" not in first  # one instance per launch call
    assert all(c.authorization == f"Bearer {KEY}" for c in fake.calls)
    assert providers.LAUNCH_INTERVAL in waits or any(w > 11 for w in waits)  # launches are paced


def test_a_full_region_falls_through_to_the_next(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.capacity["us-east-1"] = 0
    created = providers.GpuPoolProvider().create(pool(server))
    assert [i["region"] for i in created.outs["instances"]] == ["us-west-2"]
    assert launches(fake) == ["us-east-1", "us-west-2"]
    assert fake.running()[0]["file_system_names"] == ["models-west"]  # the file system of the region it landed in


def test_every_region_full_is_a_clear_error_and_nothing_stays_launched(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.capacity.update({"us-east-1": 1, "us-west-2": 0})  # room for the first of two instances only
    with pytest.raises(http.ApiError, match=r"no capacity for gpu_1x_a100_sxm4 in any region of the pool"):
        providers.GpuPoolProvider().create(pool(server, count=2))
    assert fake.running() == []  # the one it launched was terminated again


def test_over_budget_at_the_live_price_launches_nothing(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.prices["gpu_1x_a100_sxm4"] = 250  # the live price went up to $2.50/h
    with pytest.raises(http.ApiError) as raised:
        providers.GpuPoolProvider().create(pool(server, count=3))
    message = str(raised.value)
    for part in ("inference-production", "3 x gpu_1x_a100_sxm4", "$2.50/h", "$7.50/h", "$6.00", "nothing was launched"):
        assert part in message
    assert launches(fake) == []


def test_429_waits_for_retry_after_and_a_5xx_is_retried(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    fake.fail("GET", "/instance-types", 429, {"Retry-After": "7"})
    fake.fail("POST", "/instance-operations/launch", 502)
    created = providers.GpuPoolProvider().create(pool(server))
    assert len(created.outs["instances"]) == 1
    assert 7.0 in waits
    assert launches(fake) == ["us-east-1", "us-east-1"]  # the 502, then the launch that worked


def test_errors_name_the_resource_and_call_and_never_show_the_key(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.fail("GET", "/instance-types", 500, times=10)
    with pytest.raises(http.ApiError) as raised:
        providers.GpuPoolProvider().create(pool(server))
    assert str(raised.value).startswith("inference-production: list instance types failed (HTTP 500)")
    wrong = pool(server, api_key="secret_wrong_" + "a" * 24)
    with pytest.raises(http.ApiError) as denied:
        providers.SshKeyProvider().create({**wrong, "name": "ops", "public_key": "ssh-ed25519 AAAA"})
    assert "global/invalid-api-key" in str(denied.value) and "secret_wrong" not in str(denied.value)


def test_scaling_down_terminates_the_newest_and_delete_terminates_all(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    provider = providers.GpuPoolProvider()
    three = provider.create(pool(server, count=3)).outs
    assert provider.diff("inference-production", three, pool(server, count=1)).changes
    one = provider.update("inference-production", three, pool(server, count=1)).outs
    assert [i["name"] for i in one["instances"]] == ["inference-production-0"]
    assert [i["name"] for i in fake.running()] == ["inference-production-0"]
    two = provider.update("inference-production", one, pool(server, count=2)).outs
    assert [i["name"] for i in two["instances"]] == ["inference-production-0", "inference-production-1"]
    provider.delete("inference-production", two)
    assert fake.running() == []


def test_max_count_bounds_every_operation(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    with pytest.raises(http.ApiError, match="count 5 exceeds maxCount 4"):
        providers.GpuPoolProvider().create(pool(server, count=5))
    assert launches(fake) == []


def test_a_refresh_drops_an_instance_terminated_outside_pulumi_and_the_next_update_replaces_it(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    provider = providers.GpuPoolProvider()
    outs = provider.create(pool(server, count=2)).outs
    fake.instances[outs["instances"][1]["id"]]["status"] = "terminated"  # someone used the dashboard
    refreshed = provider.read("inference-production", outs).outs
    assert [i["name"] for i in refreshed["instances"]] == ["inference-production-0"]
    assert provider.diff("inference-production", refreshed, pool(server, count=2)).changes
    healed = provider.update("inference-production", refreshed, pool(server, count=2)).outs
    assert sorted(i["name"] for i in healed["instances"]) == ["inference-production-0", "inference-production-1"]


def test_a_new_type_replaces_the_pool(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    outs = providers.GpuPoolProvider().create(pool(server)).outs
    diff = providers.GpuPoolProvider().diff("p", outs, pool(server, instance_type="gpu_1x_a10"))
    assert diff.replaces == ["instance_type"] and diff.delete_before_replace


def test_ssh_keys_and_file_systems_are_created_read_replaced_and_deleted(cloud: Any) -> None:
    fake, server, _ = cloud
    base = {"api_url": server.url, "api_key": KEY}
    keys = providers.SshKeyProvider()
    key = keys.create({**base, "name": "sophia-ops", "public_key": "ssh-ed25519 AAAA ops"})
    assert fake.ssh_keys[key.id]["public_key"] == "ssh-ed25519 AAAA ops"
    assert keys.read(key.id, key.outs).outs["name"] == "sophia-ops"
    assert keys.diff(key.id, key.outs, {**key.outs, "public_key": "ssh-ed25519 BBBB"}).replaces == ["public_key"]
    keys.delete(key.id, key.outs)
    assert fake.ssh_keys == {}
    assert keys.read(key.id, key.outs).id is None  # gone outside Pulumi: refresh drops it
    keys.delete(key.id, key.outs)  # deleting what is already gone is not an error

    systems = providers.FileSystemProvider()
    made = systems.create({**base, "name": "models-east", "region": "us-east-1"})
    assert made.outs["mount_point"] == "/lambda/nfs/models-east"
    assert systems.read(made.id, made.outs).outs["region"] == "us-east-1"
    assert systems.diff(made.id, made.outs, {**made.outs, "region": "us-west-2"}).replaces == ["region"]
    systems.delete(made.id, made.outs)
    assert fake.file_systems == {}
    assert [c.method + " " + c.path.removeprefix("/api/v1") for c in fake.calls if c.method != "GET"] == [
        "POST /ssh-keys",
        "DELETE /ssh-keys/" + key.id,
        "DELETE /ssh-keys/" + key.id,
        "POST /filesystems",
        "DELETE /filesystems/" + made.id,
    ]


def test_firewall_rules_are_one_resource_replaced_whole(cloud: Any) -> None:
    fake, server, _ = cloud
    rules = [{"protocol": "tcp", "port_range": [22, 22], "source_network": "203.0.113.0/24", "description": "SSH"}]
    props = {"api_url": server.url, "api_key": KEY, "rules": rules}
    firewall = providers.FirewallRulesProvider()
    made = firewall.create(props)
    assert fake.firewall == rules
    more = [*rules, {"protocol": "icmp", "source_network": "0.0.0.0/0", "description": "ping"}]
    assert firewall.diff(made.id, made.outs, {**props, "rules": more}).changes
    firewall.update(made.id, made.outs, {**props, "rules": more})
    assert fake.firewall == more
    fake.firewall = []  # changed outside Pulumi
    assert firewall.read(made.id, made.outs).outs["rules"] == []
    firewall.delete(made.id, made.outs)
    assert fake.firewall == []


# What a review of the providers found; each was reproduced against the fake before it was fixed.


def test_one_instance_already_gone_does_not_spare_the_others(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    provider = providers.GpuPoolProvider()
    outs = provider.create(pool(server, count=3)).outs
    del fake.instances[outs["instances"][0]["id"]]  # purged outside Pulumi: terminating it gives 404
    provider.delete("inference-production", outs)
    assert fake.running() == []


def test_a_lost_answer_to_a_launch_does_not_launch_twice(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.fail_after("POST", "/instance-operations/launch", 502)  # launched, but the answer was a 502
    outs = providers.GpuPoolProvider().create(pool(server)).outs
    assert [i["name"] for i in fake.running()] == ["inference-production-0"]
    assert [i["id"] for i in outs["instances"]] == [i["id"] for i in fake.running()]


def test_a_lost_answer_to_a_create_adopts_what_was_created(cloud: Any) -> None:
    fake, server, _ = cloud
    base = {"api_url": server.url, "api_key": KEY}
    fake.fail_after("POST", "/filesystems", 504)
    made = providers.FileSystemProvider().create({**base, "name": "models-east", "region": "us-east-1"})
    assert list(fake.file_systems) == [made.id]
    fake.fail_after("POST", "/ssh-keys", 500)
    key = providers.SshKeyProvider().create({**base, "name": "ops", "public_key": "ssh-ed25519 AAAA ops"})
    assert list(fake.ssh_keys) == [key.id]
    with pytest.raises(http.ApiError, match="a key of this name with another public key"):
        providers.SshKeyProvider().create({**base, "name": "ops", "public_key": "ssh-ed25519 BBBB other"})


def test_instances_a_failed_update_left_are_adopted_by_the_next_refresh(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    provider = providers.GpuPoolProvider()
    outs = provider.create(pool(server, count=1)).outs
    # An update launched inference-production-1, then the deploy was killed before state was written.
    fake.handle(
        "POST",
        "/api/v1/instance-operations/launch",
        {
            "region_name": "us-west-2",
            "instance_type_name": "gpu_1x_a100_sxm4",
            "ssh_key_names": ["sophia-ops"],
            "name": "inference-production-1",
        },
        f"Bearer {KEY}",
    )
    refreshed = provider.read("inference-production", outs).outs
    assert [(i["name"], i["region"]) for i in refreshed["instances"]] == [
        ("inference-production-0", "us-east-1"),
        ("inference-production-1", "us-west-2"),
    ]
    down = provider.update("inference-production", refreshed, pool(server, count=1)).outs
    assert [i["name"] for i in down["instances"]] == [i["name"] for i in fake.running()] == ["inference-production-0"]


def test_a_cancelled_launch_terminates_what_it_started(cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, server, _ = cloud
    with_key(fake)
    real = providers.GpuPoolProvider._launch_in
    calls = []

    def cancelled(self: Any, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the CI job was cancelled during the second launch
        return real(self, *args)

    monkeypatch.setattr(providers.GpuPoolProvider, "_launch_in", cancelled)
    with pytest.raises(KeyboardInterrupt):
        providers.GpuPoolProvider().create(pool(server, count=2))
    assert fake.running() == []


def test_deleting_a_pool_waits_until_its_instances_are_terminated(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    provider = providers.GpuPoolProvider()
    outs = provider.create(pool(server, count=2)).outs
    waits.clear()
    provider.delete("inference-production", outs)
    assert {i["status"] for i in fake.instances.values()} == {"terminated"}
    assert providers.POLL_SECONDS in waits  # it saw them terminating and waited


def test_a_pasted_key_with_its_newline_works_and_a_key_never_shows(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    created = providers.GpuPoolProvider().create(pool(server, api_key=KEY + "\n"))
    assert len(created.outs["instances"]) == 1
    with pytest.raises(http.ApiError) as raised:
        providers.GpuPoolProvider().create(pool(server, api_key=KEY[:10] + "\x00" + KEY[10:]))
    assert KEY[:10] not in str(raised.value) and "characters no key has" in str(raised.value)


def test_a_new_api_url_or_key_updates_in_place_and_a_renamed_key_is_deleted_first(cloud: Any) -> None:
    _, server, _ = cloud
    olds = {"api_url": server.url, "api_key": KEY, "name": "ops", "public_key": "ssh-ed25519 AAAA"}
    moved = providers.SshKeyProvider().diff("k", olds, {**olds, "api_url": "https://cloud.lambda.ai/api/v1"})
    assert moved.changes and moved.replaces == []
    renamed = providers.SshKeyProvider().diff("k", olds, {**olds, "name": "ops-2"})
    assert renamed.replaces == ["name"] and renamed.delete_before_replace
