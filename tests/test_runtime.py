"""Unit tests of compiler/integrations/runtime.py, the module every generated program ships: its
stack settings, secrets, tags and the generic component, under Pulumi mocks in this process."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from compiler.integrations import runtime


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def stack(**settings: Any) -> runtime.Stack:
    """A Stack with the given settings, as if read from stack config (no Pulumi config needed)."""
    made = object.__new__(runtime.Stack)
    values: dict[str, Any] = {
        "environment": "staging",
        "tier": "staging",
        "project": {"name": "demo", "compliance": ["soc2"]},
        "integrations": {},
        "gpu_pools": {},
        "secret_reads": {},
        "alert_webhooks": {},
        "components": {},
    }
    values.update(settings)
    for key, value in values.items():
        setattr(made, key, value)
    return made


@pytest.mark.parametrize(
    "section, expected",
    [
        ({}, None),
        ({"gong": {"enabled": False, "config": {}}}, None),
        ({"gong": {"enabled": True, "config": {"a": 1}}}, {"enabled": True, "config": {"a": 1}}),
        ({"gong": {"config": {}}}, {"config": {}}),
    ],
    ids=["absent", "disabled", "enabled", "enabled-by-default"],
)
def test_settings_are_none_where_not_deployed(section: dict[str, Any], expected: dict[str, Any] | None) -> None:
    assert stack().settings(section, "gong") == expected


def test_tags_and_comments_carry_ownership_and_compliance() -> None:
    class Named:
        name = "warehouse"

    s = stack()
    assert s.tags(Named()) == {  # type: ignore[arg-type]
        "managed-by": "sophia-iac",
        "project": "demo",
        "environment": "staging",
        "integration": "warehouse",
        "compliance-soc2": "in-scope",
    }
    assert s.comment(Named(), "Role") == (  # type: ignore[arg-type]
        "Role. Managed by sophia-iac (demo/staging, warehouse); compliance: soc2."
    )


@pulumi.runtime.test
def test_an_instance_without_a_module_deploys_as_a_component_of_its_settings() -> Any:
    pulumi.runtime.set_mocks(Mocks(), preview=False)
    meta = {"description": "Calls.", "labels": {"team": "data"}}
    settings = {"enabled": True, "protect": True, "config": {"baseUrl": "https://api.gong.io"}}
    s = stack(integrations={"gong": settings, "off": {"enabled": False}})
    s.secret = lambda key: pulumi.Output.secret(f"value-of-{key}")  # type: ignore[method-assign]
    s.secret_reads = {"gong": {"access-key": "gongAccessKey"}}
    gong = runtime.Instance("gong", "sophia:integrations:Gong", meta, runtime.component)
    assert runtime.component(s, runtime.Instance("off", "sophia:integrations:Gong", meta, runtime.component)) is None
    made = gong.deploy(s, gong)
    assert isinstance(made, runtime.Component)
    assert (made.name, made.config, made.protected, sorted(made.secrets)) == (
        "gong",
        {"baseUrl": "https://api.gong.io"},
        True,
        ["access-key"],
    )
    child = made.child(stateful=True)
    assert (child.protect, child.retain_on_delete, child.parent) == (True, True, made)
    assert made.child().protect is False
    pool = runtime.Instance("pool", "sophia:gpu:Pool", meta, runtime.component, pool=True)
    s.gpu_pools = {"pool": {"enabled": True}}
    deployed = runtime.begin(s, pool)
    assert deployed is not None and deployed.secrets == {}  # a pool reads no secret of an integration

    def registered(urn: str) -> None:
        assert urn.endswith("$sophia:integrations:Gong::gong"), urn

    return made.urn.apply(registered)
