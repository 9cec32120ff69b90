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


def instance(server: Server, index: int = 0, **changes: Any) -> dict[str, Any]:
    """The props the program gives instance ``index`` of the production pool."""
    props: dict[str, Any] = {
        "api_url": server.url,
        "api_key": KEY,
        "pool": "inference",
        "owner": "sophia-ai/production",
        "name": f"inference-production-{index}",
        "index": index,
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


PROVIDER = providers.GpuInstanceProvider()


def test_an_instance_launches_in_the_first_region_with_its_key_and_file_system(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    first = PROVIDER.create(instance(server, 0, count=2))
    second = PROVIDER.create(instance(server, 1, count=2))
    assert (first.outs["region"], second.outs["region"]) == ("us-east-1", "us-east-1")
    assert [i["name"] for i in fake.running()] == ["inference-production-0", "inference-production-1"]
    assert first.id == first.outs["instance_id"] == fake.running()[0]["id"]
    body = next(c.body for c in fake.calls if c.path.endswith("/launch"))
    assert body["ssh_key_names"] == ["sophia-ops"] and body["file_system_names"] == ["models-east"]
    assert "quantity" not in body  # one instance per launch call
    assert all(c.authorization == f"Bearer {KEY}" for c in fake.calls)
    assert any(w > 10 for w in waits)  # the second launch kept the API's 12-second launch limit


def test_a_full_region_falls_through_to_the_next(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.capacity["us-east-1"] = 0
    created = PROVIDER.create(instance(server))
    assert created.outs["region"] == "us-west-2"
    assert launches(fake) == ["us-east-1", "us-west-2"]
    assert fake.running()[0]["file_system_names"] == ["models-west"]  # the file system of the region it landed in


def test_every_region_full_is_a_clear_error_and_nothing_is_launched(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.capacity.update({"us-east-1": 0, "us-west-2": 0})
    with pytest.raises(http.ApiError, match=r"no capacity for gpu_1x_a100_sxm4 in any region of the pool"):
        PROVIDER.create(instance(server))
    assert fake.running() == [] and launches(fake) == ["us-east-1", "us-west-2"]


def test_over_budget_at_the_live_price_launches_nothing(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.prices["gpu_1x_a100_sxm4"] = 250  # the live price went up to $2.50/h
    with pytest.raises(http.ApiError) as raised:
        PROVIDER.create(instance(server, count=3))
    message = str(raised.value)
    for part in ("pool inference", "3 x gpu_1x_a100_sxm4", "$2.50/h", "$7.50/h", "$6.00", "nothing was launched"):
        assert part in message
    assert launches(fake) == []


def test_429_waits_for_retry_after_and_a_5xx_is_retried(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    fake.fail("GET", "/instance-types", 429, {"Retry-After": "7"})
    fake.fail("GET", "/instances", 503)
    PROVIDER.create(instance(server))
    assert 7.0 in waits
    assert len(fake.running()) == 1


def test_errors_name_the_resource_and_call_and_never_show_the_key(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.fail("GET", "/instance-types", 500, times=10)
    with pytest.raises(http.ApiError) as raised:
        PROVIDER.create(instance(server))
    assert str(raised.value).startswith("inference-production-0: list instance types failed (HTTP 500)")
    wrong = instance(server, api_key="secret_wrong_" + "a" * 24)
    with pytest.raises(http.ApiError) as denied:
        providers.SshKeyProvider().create({**wrong, "name": "ops", "public_key": "ssh-ed25519 AAAA"})
    assert "global/invalid-api-key" in str(denied.value) and "secret_wrong" not in str(denied.value)


def test_lowering_the_count_terminates_only_the_newest(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    made = [PROVIDER.create(instance(server, k, count=3)) for k in range(3)]
    PROVIDER.delete(made[2].id, made[2].outs)  # Pulumi deletes the highest-numbered resource
    assert [i["name"] for i in fake.running()] == ["inference-production-0", "inference-production-1"]
    # The instances that stay are not touched by the new count.
    assert not PROVIDER.diff(made[0].id, made[0].outs, instance(server, 0, count=2)).replaces


def test_max_count_bounds_every_launch(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    with pytest.raises(http.ApiError, match="instance 4 is beyond maxCount 4"):
        PROVIDER.create(instance(server, 4, count=5))
    assert launches(fake) == []


def test_a_refresh_drops_an_instance_terminated_outside_pulumi(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    made = PROVIDER.create(instance(server))
    assert PROVIDER.read(made.id, made.outs).outs["region"] == "us-east-1"
    fake.instances[made.id]["status"] = "terminated"  # someone used the dashboard
    assert PROVIDER.read(made.id, made.outs).id is None  # refresh drops it; the next up launches it again


def test_a_new_type_replaces_the_instance_deleting_it_first(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    made = PROVIDER.create(instance(server))
    diff = PROVIDER.diff(made.id, made.outs, instance(server, instance_type="gpu_1x_a10"))
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


def test_an_instance_already_gone_is_deleted_without_error(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    made = PROVIDER.create(instance(server))
    del fake.instances[made.id]  # purged outside Pulumi: terminating it gives 404
    PROVIDER.delete(made.id, made.outs)


def test_a_lost_answer_to_a_launch_does_not_launch_twice(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.fail_after("POST", "/instance-operations/launch", 502)  # launched, but the answer was a 502
    made = PROVIDER.create(instance(server))
    assert [i["id"] for i in fake.running()] == [made.id]


def test_an_instance_a_cancelled_deploy_launched_is_adopted_not_launched_again(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    body = {
        "region_name": "us-west-2",
        "instance_type_name": "gpu_1x_a100_sxm4",
        "ssh_key_names": ["sophia-ops"],
        "name": "inference-production-0",
        "tags": [{"key": providers.OWNER_TAG, "value": "sophia-ai/production"}],
    }
    fake.handle("POST", "/api/v1/instance-operations/launch", body, f"Bearer {KEY}")  # then the deploy died
    made = PROVIDER.create(instance(server))
    assert (made.outs["region"], len(fake.running()), launches(fake)) == ("us-west-2", 1, ["us-west-2"])


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


def test_deleting_an_instance_waits_until_it_is_terminated(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    made = PROVIDER.create(instance(server))
    waits.clear()
    PROVIDER.delete(made.id, made.outs)
    assert fake.instances[made.id]["status"] == "terminated"
    assert providers.POLL_SECONDS in waits  # it saw it terminating and waited


def test_a_pasted_key_with_its_newline_works_and_a_key_never_shows(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    assert PROVIDER.create(instance(server, api_key=KEY + "\n")).outs["region"] == "us-east-1"
    with pytest.raises(http.ApiError) as raised:
        PROVIDER.create(instance(server, 1, api_key=KEY[:10] + "\x00" + KEY[10:]))
    assert KEY[:10] not in str(raised.value) and "characters no key has" in str(raised.value)


def test_a_new_api_url_or_key_updates_in_place_and_a_renamed_key_is_deleted_first(cloud: Any) -> None:
    _, server, _ = cloud
    olds = {"api_url": server.url, "api_key": KEY, "name": "ops", "public_key": "ssh-ed25519 AAAA"}
    moved = providers.SshKeyProvider().diff("k", olds, {**olds, "api_url": "https://cloud.lambda.ai/api/v1"})
    assert moved.changes and moved.replaces == []
    renamed = providers.SshKeyProvider().diff("k", olds, {**olds, "name": "ops-2"})
    assert renamed.replaces == ["name"] and renamed.delete_before_replace


def test_a_lost_launch_is_waited_for_not_launched_again_nor_elsewhere(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    fake.list_lag = 2  # the launched instance shows up only on the third listing
    fake.capacity["us-east-1"] = 1  # and it took the region's last slot
    fake.fail_after("POST", "/instance-operations/launch", 504)
    made = PROVIDER.create(instance(server))
    assert [i["id"] for i in fake.running()] == [made.id] and made.outs["region"] == "us-east-1"
    assert launches(fake) == ["us-east-1"] and providers.POLL_SECONDS in waits


def test_an_instance_of_the_same_name_that_is_not_ours_is_never_adopted(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    body = {
        "region_name": "us-west-1",
        "instance_type_name": "gpu_1x_a10",
        "ssh_key_names": ["sophia-ops"],
        "name": "inference-production-0",
        "tags": [{"key": providers.OWNER_TAG, "value": "another-project/production"}],
    }
    fake.handle("POST", "/api/v1/instance-operations/launch", body, f"Bearer {KEY}")
    made = PROVIDER.create(instance(server))
    ours = fake.instances[made.id]
    assert (ours["instance_type"]["name"], ours["region"]["name"]) == ("gpu_1x_a100_sxm4", "us-east-1")
    assert ours["tags"] == [{"key": providers.OWNER_TAG, "value": "sophia-ai/production"}]


def test_a_preempted_instance_is_deleted_at_once(cloud: Any) -> None:
    fake, server, waits = cloud
    with_key(fake)
    made = PROVIDER.create(instance(server))
    fake.instances[made.id]["status"] = "preempted"
    waits.clear()
    PROVIDER.delete(made.id, made.outs)
    assert waits == [] or max(waits) < providers.POLL_SECONDS


def test_the_budget_is_compared_in_cents(cloud: Any) -> None:
    fake, server, _ = cloud
    with_key(fake)
    fake.prices["gpu_1x_a100_sxm4"] = 110  # 3 x $1.10 is exactly the $3.30 budget
    assert PROVIDER.create(instance(server, count=3, hourly_budget_usd=3.3)).outs["region"] == "us-east-1"
