"""Reminders for hand-rotated secrets: one GitHub issue per environment, opened once, then updated, closed
when nothing is due, assigned to the policies' assignees, and the policies' Slack routes told; tested
against fakes of GitHub (tests/fakes/github_api.py), ESC (tests/fakes/esc_api.py) and a Slack webhook."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from compiler.rotation import remind as reminders
from compiler.rotation import state as records
from compiler.rotation.esc import Esc
from compiler.rotation.runner import Runner
from tests.conftest import platform_model
from tests.fakes import esc_api, json_server
from tests.fakes.github_api import GitHub
from tests.fakes.github_api import Server as GitHubServer

REPO = "payready/sophia-ai"
GH_TOKEN = "ghs_" + "r3m1nd" * 6
ESC_TOKEN = "pul-" + "t0k3n" * 8
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
HOOK = "SLACK_PLATFORM_WEBHOOK"  # the platform route's webhook, as ESC exports it


@dataclass
class World:
    github: GitHub
    github_url: str
    esc: esc_api.Esc
    esc_url: str
    slack: list[Any]
    slack_url: str

    def remind(self, now: datetime = NOW, dry_run: bool = False) -> reminders.Reminded:
        client = reminders.GitHub(REPO, GH_TOKEN, self.github_url, sleep=lambda s: None)
        esc = Esc("payready", ESC_TOKEN, self.esc_url, sleep=lambda s: None)
        environ = {HOOK: self.slack_url}
        return reminders.remind(platform_model(), "production", esc, client, environ, now, dry_run=dry_run)

    def open_reminders(self) -> list[Any]:
        return [i for i in self.github.issues(REPO) if i.state == "open" and reminders.LABEL in i.labels]


@pytest.fixture
def world() -> Iterator[World]:
    github = GitHub()
    github.add_repo(REPO, collaborators=["payready-platform-bot"])
    github.add_token(GH_TOKEN, "sophia-iac[bot]", ["issues:write"], app=True)
    store = esc_api.Esc(tokens={ESC_TOKEN})
    for name in ("production-secrets", "production-bootstrap-secrets"):
        store.put("payready", "sophia-ai", name, yaml.safe_dump({"values": {}}))
    posts: list[Any] = []

    def slack(method: str, path: str, body: Any, authorization: str) -> tuple[int, Any, dict[str, str]]:
        posts.append(body)
        return 200, "ok", {}

    hub, hook = GitHubServer(github), json_server.Server(slack)
    with esc_api.Server(store) as esc_server:
        try:
            yield World(github, hub.url, store, esc_server.url, posts, hook.url + "/services/T/B/x")
        finally:
            hub.stop()
            hook.stop()


def test_one_issue_is_opened_then_updated_never_duplicated_and_closed_when_nothing_is_due(world: World) -> None:
    first = world.remind()
    assert first.action == "opened" and first.notified == ("platform",)
    (issue,) = world.open_reminders()
    assert issue.assignees == ["payready-platform-bot"]
    assert "`sophia-ai/production-secrets` `gong.accessKey`" in issue.body  # once, though two integrations read it
    assert issue.body.count("`gong.accessKey`") == 1
    assert "`openrouter/api-key`" not in issue.body  # rotated by the runner, not by people
    assert "Rotate" in world.slack[0]["text"] and f"issues/{issue.number}" in world.slack[0]["text"]

    assert world.remind().action == "unchanged" and len(world.slack) == 1  # nothing new: no message
    # A person rotates Gong's key and records it: the issue is updated, not duplicated.
    esc = Esc("payready", ESC_TOKEN, world.esc_url, sleep=lambda s: None)
    runner = Runner(platform_model(), "production", esc, {}, now=lambda: NOW)
    assert [o.action for o in runner.record("gong/access-key")] == ["recorded"]
    assert world.remind().action == "updated" and len(world.open_reminders()) == 1
    (issue,) = world.open_reminders()
    assert "`gong.accessKey`" not in issue.body and "`gong.accessKeySecret`" in issue.body

    # Everything recorded as rotated: the issue is closed.
    record_all(world)
    assert world.remind().action == "closed" and world.open_reminders() == []
    assert world.remind().action == "none"


def record_all(world: World) -> None:
    """Every hand-rotated secret recorded as rotated on 30 November."""
    for item, _, _ in reminders.reminder(platform_model(), "production", {}, NOW).due:
        name = item.esc_environment.split("/", 1)[1]
        definition = records.load(world.esc.definition("payready", "sophia-ai", name))
        records.set_record(definition, item.secret.esc, {"rotatedAt": "2026-11-30T00:00:00Z"})
        world.esc.put("payready", "sophia-ai", name, records.dump(definition))


def test_a_recorded_rotation_is_due_again_after_its_interval(world: World) -> None:
    record_all(world)
    assert world.remind().action == "none"
    later = world.remind(now=NOW + timedelta(days=90))
    assert later.action == "opened" and "2026-11-30T00:00:00Z" in world.open_reminders()[0].body


def test_dry_run_opens_nothing(world: World) -> None:
    assert world.remind(dry_run=True).action == "would-open"
    assert world.open_reminders() == [] and world.slack == []


def test_remind_fails_when_an_environment_written_by_rotation_holds_what_the_specs_do_not_declare(
    world: World, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    from compiler.targets.esc import rotated_definition, rotators_definition
    from tests.conftest import PLATFORM_SPECS

    model = platform_model()
    production = next(e for e in model.environments if e.name == "production")
    rotated = rotated_definition(production)
    world.esc.put("payready", "sophia-ai", "production-rotated", yaml.safe_dump(rotated))
    world.esc.put(
        "payready", "sophia-ai", "production-rotators", yaml.safe_dump(rotators_definition(model, production))
    )
    for name, value in {
        "GITHUB_TOKEN": GH_TOKEN,
        "GITHUB_API_URL": world.github_url,
        "PULUMI_ACCESS_TOKEN": ESC_TOKEN,
        "SOPHIA_IAC_ESC_URL": world.esc_url,
        HOOK: world.slack_url,
    }.items():
        monkeypatch.setenv(name, value)
    args = ("remind", "--env", "production", "--specs", str(PLATFORM_SPECS))
    assert cli(*args).code == 0  # as the bootstrap created them

    rotated["values"]["slack"] = {"botToken": "xoxb-elsewhere"}  # written behind the specs
    world.esc.put("payready", "sophia-ai", "production-rotated", yaml.safe_dump(rotated))
    result = cli(*args)
    assert result.code == 1
    assert "sophia-ai/production-rotated: slack.botToken is not sophia-iac's" in result.err
    assert "xoxb-elsewhere" not in result.out + result.err
