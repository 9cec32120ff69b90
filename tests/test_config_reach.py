"""No config key of an integration type is read by nothing.

Every property an integration type's schema declares must reach something: a resource of the
generated programs (run under mocks with their settings recorded, ``configReads``), the
application through ESC (the type's ``application`` hook), a validation (``config_problems``,
``references``, ``unique_keys``), or the health check (``rate_per_minute`` and the probe itself,
run against the fakes). A component's outputs, which only record its settings for people, are
not a use. The platform fixture specs must set every property, so each is observed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx
import pytest

from compiler.harness import StackRun
from compiler.harness_child import recorded, unrecorded
from compiler.integrations import REGISTRY
from compiler.integrations.base import GPU_POOLS, POOL_SSH_KEYS
from compiler.model import thaw
from compiler.package_data import data_dir
from compiler.probes import runner
from compiler.probes.jobs import jobs
from compiler.probes.redact import Redactor
from compiler.render import RenderContext, render_all
from compiler.targets import esc as esc_target
from compiler.targets import pulumi as pulumi_target
from tests.conftest import platform_model
from tests.fakes.server import Gauge
from tests.fakes.services import Credentials, all_fakes

ENVS = ("development", "staging", "production")


def schema_paths(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Each property path the schema declares (``connections[].schedule``); ``*`` for a free key."""
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        yield from schema_paths(sub, path)
    for keyword in ("patternProperties",):
        for sub in schema.get(keyword, {}).values():
            yield from schema_paths(sub, f"{prefix}.*" if prefix else "*")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from schema_paths(schema["additionalProperties"], f"{prefix}.*" if prefix else "*")
    if isinstance(schema.get("items"), dict):
        yield from schema_paths(schema["items"], f"{prefix}[]")
    for keyword in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(keyword, []):
            yield from schema_paths(sub, prefix)


def _pattern(path: str) -> re.Pattern[str]:
    """What reads cover ``path``: the path itself or anything below it (``*`` is any one key)."""
    parts = [".*?" if p == "*" else re.escape(p) for p in re.split(r"(\*)", path)]
    return re.compile("".join(parts).replace(".*?", "[^.\\[]+") + r"($|[.\[])")


def _static(entry: Any) -> set[str]:
    """Fields the compiler checks as references or unique keys (and a GPU host's SSH key names, which
    GpuPools must name: E211)."""
    found = {path for path, _ in entry.references} | ({POOL_SSH_KEYS} if GPU_POOLS in entry.roles else set())
    for key in entry.unique_keys:
        head, _, fields = key.partition("[].")
        found |= {f"{head}[].{f.removesuffix('[]')}" for f in fields.split("+")}
    return found


def _hooks(entry: Any, config: Mapping[str, Any]) -> set[str]:
    reads: set[str] = set()
    for hook in (entry.application, entry.config_problems, entry.rate_per_minute):
        if hook is not None:
            json.dumps(hook(recorded(thaw(config), "", reads)))
    return reads


def _compiler_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """What the compiler's targets read of each integration's config (workflows, ESC, docs, bootstrap
    wiring), rendering the model with its configs recorded; copying a config whole into stack
    config is not a use (the program's reads are)."""
    model = platform_model()
    reads: dict[str, set[str]] = {i.name: set() for i in model.integrations}
    integrations = tuple(
        replace(
            i,
            per_env={e: replace(r, config=recorded(thaw(r.config), "", reads[i.name])) for e, r in i.per_env.items()},
        )
        for i in model.integrations
    )
    for target in (pulumi_target, esc_target):  # the hooks are run on their own below
        monkeypatch.setattr(target, "thaw", unrecorded)
    render_all(RenderContext(replace(model, integrations=integrations), {}))
    return reads


def _probe_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """What each integration's probe reads of its development config, run against the fakes."""
    creds = Credentials.generate()
    for name, value in creds.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(runner, "DEFAULT_POLICY", runner.RetryPolicy(backoff_base=0.01, backoff_cap=0.05))
    fakes = all_fakes(creds, Gauge())
    for fake in fakes.values():
        fake.start()
    model = platform_model()
    reads: dict[str, set[str]] = {}
    try:
        overrides = {name: fake.url for name, fake in fakes.items()}
        found = jobs(model, "development", overrides, dict(os.environ))

        def watched(job: runner.Job) -> runner.Job:
            seen = reads.setdefault(job.name, set())

            def context(http: Any) -> Any:
                ctx = job.context(http)
                return replace(ctx, config=recorded(thaw(ctx.config), "", seen))

            return replace(job, context=context)

        async def run_all() -> None:
            async with httpx.AsyncClient() as client:
                await runner.run_probes([watched(j) for j in found], client, Redactor(), 4, runner.DEFAULT_POLICY)

        asyncio.run(run_all())
    finally:
        for fake in fakes.values():
            fake.stop()
    return reads


@pytest.fixture(scope="module")
def reads(stack_run: Callable[..., StackRun]) -> dict[str, set[str]]:
    """Every path of each integration's config something read, by integration name."""
    model = platform_model()
    out: dict[str, set[str]] = {i.name: _static(i.type) for i in model.integrations}
    for env in ENVS:
        for project in ("pulumi", "bootstrap"):
            for path in stack_run(env, project).config_reads:
                section, _, rest = path.partition(".")
                if section != "integrations":
                    continue
                for name in out:
                    if rest.startswith(f"{name}.config."):
                        out[name].add(rest.removeprefix(f"{name}.config."))
        for integration in model.integrations:
            out[integration.name] |= _hooks(integration.type, integration.per_env[env].config)
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, seen in [*_probe_reads(monkeypatch).items(), *_compiler_reads(monkeypatch).items()]:
            out[name] |= seen
    return out


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_config_key_of_the_type_reaches_something(reads: dict[str, set[str]], type_name: str) -> None:
    schema = json.loads((data_dir("schema") / "integrations" / f"{type_name}.json").read_text(encoding="utf-8"))
    names = [i.name for i in platform_model().integrations if i.type.name == type_name]
    assert names, f"the platform fixture specs hold no {type_name} integration"
    seen = set().union(*(reads[n] for n in names))
    unread = [p for p in schema_paths(schema) if not any(_pattern(p).match(r) for r in seen)]
    assert not unread, f"{type_name}: config keys nothing reads (or the platform fixture does not set): {unread}"


def test_the_check_sees_an_unread_key() -> None:
    """The matcher itself: a sibling or a parent's read does not cover a key."""
    assert _pattern("connections[].schedule").match("connections[].schedule")
    assert _pattern("rateLimit").match("rateLimit.requestsPerDay")
    assert not _pattern("rateLimit.requestsPerDay").match("rateLimit")
    assert not _pattern("sync").match("syncFrequency")
    assert _pattern("reviewerIds.*").match("reviewerIds.payready/platform")
