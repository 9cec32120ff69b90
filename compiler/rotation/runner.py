"""``sophia-iac rotate``: rotate an environment's due (or named) secrets, in an order that is safe at
every point, and revoke the credentials whose overlap window has passed.

For one secret, each step ends in a state from which a crash leaves the old credential valid and a
re-run finishes the rotation without a second new credential:

1. claim: record a pending rotation in ESC (conditional on the definition's etag: of two runners
   started at once, one claims and the other leaves the secret alone while the claim is leased);
2. clean up: credentials a crashed run issued under the pending name were never written anywhere, so
   they are revoked (nothing orphaned, nothing doubled);
3. issue the new credential in the service (its rotator), under the pending name;
4. verify it with the integration's health check, the new value in place of the old; a credential
   that fails is revoked and the old one stays;
5. write it into ESC with its record in one conditional write: current = the new id, the replaced one
   retiring until ``overlap`` has passed, the claim released;
6. later runs revoke what is retiring once its time has come, and drop it from the record.

``--dry-run`` reads ESC (when it can) and says what it would do, changing nothing.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType, ModuleType
from typing import Any

import httpx

from ..errors import SophiaIacError
from ..integrations.http import ApiError
from ..model import Model
from ..probes import runner as probes
from ..probes.jobs import jobs
from ..probes.redact import Redactor
from ..probes.results import Result
from . import DUE, ESC, OVERDUE, UNKNOWN, WORKFLOW, Planned, iso, overlap, parse_time, planned, status
from . import state as records
from .context import RotateContext
from .esc import Conflict, Esc, Unknown

LEASE = timedelta(minutes=30)  # how long a claim keeps other runners off a secret


@dataclass
class Outcome:
    secret: str  # integration/secret
    action: str  # rotated, revoked, skipped, failed, would-rotate, ...
    detail: str = ""


@dataclass
class Runner:
    model: Model
    env: str
    esc: Esc | None
    environ: Mapping[str, str] = field(repr=False)
    endpoints: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))  # noqa: UP017
    sleep: Callable[[float], None] = field(default=lambda seconds: None, repr=False)
    runner_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Where GitHub Actions secrets that carry a value are written (None: no token given).
    github: Any = None
    # Called after each step of a rotation ("claimed", "created", "verified", "written", "carried",
    # "revoked"): where the tests inject a crash.
    after: Callable[[str], None] = field(default=lambda step: None, repr=False)

    def run(self, *, due: bool, secret: str | None, dry_run: bool) -> list[Outcome]:
        out: list[Outcome] = []
        everything = planned(self.model, self.env)
        by_esc = [p for p in everything if p.method == ESC and secret in (p.label, p.secret.name)]
        everything = [p for p in everything if p.owner is None]  # rotated by rotating their owner
        if by_esc:
            rotators = next(e for e in self.model.environments if e.name == self.env).esc_rotators
            return out + [
                Outcome(
                    p.label,
                    "skipped",
                    f"rotated by Pulumi ESC on its schedule; to rotate it now: esc env rotate "
                    f"{self.model.project.organization}/{rotators}",
                )
                for p in by_esc
            ]
        items = [p for p in everything if p.method == WORKFLOW]
        if secret is not None:
            chosen = [p for p in items if secret in (p.label, p.secret.name)]
            if not chosen:
                known = ", ".join(p.label for p in items) or "none"
                raise SophiaIacError(f"no secret rotated by sophia-iac is named {secret!r} in {self.env} ({known})")
            items = chosen
        seen: set[tuple[str, str]] = set()
        for item in items:
            where = (item.esc_environment, item.secret.esc)
            if where in seen:  # two integrations reading one ESC value: it is rotated once
                continue
            seen.add(where)
            try:
                out += self._one(item, forced=secret is not None, due_only=due, dry_run=dry_run)
            except (SophiaIacError, ApiError) as exc:  # one secret's failure stops no other
                out.append(Outcome(item.label, "failed", str(exc)))
        return out

    def record(self, secret: str) -> list[Outcome]:
        """Record that a person rotated ``secret`` (a reminder's) now: its ``rotatedAt`` in ESC."""
        items = [p for p in planned(self.model, self.env) if secret in (p.label, p.secret.name)]
        if not items:
            raise SophiaIacError(f"no secret named {secret!r} in {self.env}")
        now = self.now()
        out = []
        for where in sorted({(p.esc_environment, p.secret.esc) for p in items}):
            item = next(p for p in items if (p.esc_environment, p.secret.esc) == where)

            def change(doc: Any, record: dict[str, Any]) -> bool:
                record["rotatedAt"] = iso(now)
                return True

            self._update(item, change)
            out.append(Outcome(item.label, "recorded", f"rotated by hand at {iso(now)}"))
        return out

    # ------------------------------------------------------------------ one secret

    def _one(self, item: Planned, *, forced: bool, due_only: bool, dry_run: bool) -> list[Outcome]:
        if self.esc is None:
            raise SophiaIacError("rotating needs ESC: set PULUMI_ACCESS_TOKEN (and the organization in the Project)")
        text, _ = self.esc.get(item.esc_environment)
        doc = records.load(text)
        record = records.record(doc, item.secret.esc)
        now = self.now()
        out: list[Outcome] = []
        carry = record.get("carry")
        if isinstance(carry, dict) and not dry_run:  # a run that stopped after writing ESC: carry first
            self._carry(item, self._written_value(item), str(carry.get("id")))
            out.append(Outcome(item.label, "carried", f"GitHub secret {item.secret.github_secret}"))
        elif isinstance(carry, dict):
            out.append(Outcome(item.label, "would-carry", f"GitHub secret {item.secret.github_secret}"))
        if not isinstance(carry, dict) or not dry_run:  # nothing revoked while GitHub still holds the old value
            out += self._revoke_retired(item, record, now, dry_run)
        where = status(item, record, now)
        state = where.status
        if not (forced or state in (DUE, OVERDUE, UNKNOWN)):
            return [*out, Outcome(item.label, "skipped", f"not due (next {where.next_due})")]
        pending = record.get("pending")
        if isinstance(pending, dict) and pending.get("runner") != self.runner_id and _leased(pending, now):
            return [*out, Outcome(item.label, "skipped", "another runner is rotating it")]
        if dry_run:
            return [*out, Outcome(item.label, "would-rotate", f"status {state}")]
        seen = (record.get("rotatedAt"), record.get("current"))
        return [*out, self._rotate(item, forced, seen)]

    def _rotate(self, item: Planned, forced: bool, seen: tuple[Any, Any]) -> Outcome:
        if item.secret.github_secret and self.github is None:  # refuse before anything changes
            raise SophiaIacError(
                f"{item.label} is also carried by the GitHub secret {item.secret.github_secret}: "
                "rotating it needs GITHUB_TOKEN (secrets: write)"
            )
        module, ctx = self._rotator(item)
        # Before the first rotation, whatever credentials are in use are retired with the one ESC holds.
        before = [] if seen[1] else [str(i) for i in module.existing(ctx, item.secret.name)]
        claimed = self._claim(item, self.now(), forced, seen, module.base_name(ctx))
        if claimed is None:
            return Outcome(item.label, "skipped", "another runner claimed or rotated it first")
        name = str(claimed["name"])
        kept = self._renew(item, name)  # never revoked here: what ESC holds or is still retiring
        for stale in module.find(ctx, item.secret.name, name):  # a stopped run's: never written anywhere
            if stale not in kept:
                module.revoke(ctx, item.secret.name, stale)
        self.after("claimed")
        new_id, value = module.create(ctx, item.secret.name, name)
        if self.environ.get("GITHUB_ACTIONS") == "true":  # GitHub masks what ESC exported, not this
            print(f"::add-mask::{value}", flush=True)
        self.after("created")
        passed, detail = self._verify(item, value)
        self.after("verified")
        if not passed:
            module.revoke(ctx, item.secret.name, new_id)
            self._release(item)
            return Outcome(item.label, "failed", f"the new credential failed its health check ({detail}); kept the old")
        if not self._write(item, new_id, value, name, before):  # the claim was lost (this run was too slow)
            module.revoke(ctx, item.secret.name, new_id)
            return Outcome(item.label, "failed", "another runner took the rotation over; revoked this run's key")
        self.after("written")
        if item.secret.github_secret:
            self._carry(item, value, new_id)
            self.after("carried")
        return Outcome(item.label, "rotated", f"new credential {new_id}")

    def _renew(self, item: Planned, name: str) -> set[str]:
        """Extend this run's claim before the slow steps; fail if it is no longer this run's. Returns
        the credentials the record holds (current and retiring), read in the same write."""
        now = self.now()
        kept: set[str] = set()

        def change(doc: Any, record: dict[str, Any]) -> bool:
            pending: Any = record.get("pending")
            if not _holds(pending, self.runner_id, name):
                raise SophiaIacError("another runner took the rotation over")
            record["pending"] = {**pending, "leaseUntil": iso(now + LEASE)}
            kept.clear()
            kept.update({str(record.get("current"))} | {str(r.get("id")) for r in record.get("retiring") or []})
            return True

        self._update(item, change)
        return kept

    def _rotator(self, item: Planned) -> tuple[ModuleType, RotateContext]:
        module = importlib.import_module(f"compiler.integrations.{item.integration.type.module}.rotate")
        config = item.integration.per_env[self.env].config
        secrets = MappingProxyType({s.name: s for s in item.integration.secrets})
        endpoint = self.endpoints.get(item.integration.type.name)
        ctx = RotateContext(
            item.integration.name, self.env, config, secrets, self.model.project, endpoint, self.environ, self.sleep
        )
        return module, ctx

    # ------------------------------------------------------------------ ESC writes, each conditional

    def _update(self, item: Planned, change: Callable[[Any, dict[str, Any]], bool]) -> bool:
        """Apply ``change(doc, record)`` to the freshest definition and write it if it returns True,
        again after a conflict or a write whose outcome is unknown; False when it declined."""
        assert self.esc is not None
        for _ in range(5):
            text, etag = self.esc.get(item.esc_environment)
            doc = records.load(text)
            record = records.record(doc, item.secret.esc)
            if not change(doc, record):
                return False
            records.set_record(doc, item.secret.esc, record)
            try:
                self.esc.patch(item.esc_environment, records.dump(doc), etag)
                return True
            except (Conflict, Unknown):
                continue  # read again: the change function sees whether it already happened
        raise SophiaIacError(f"{item.label}: ESC kept changing while writing the rotation; try again")

    def _claim(
        self, item: Planned, now: datetime, forced: bool, seen: tuple[Any, Any], base: str
    ) -> dict[str, Any] | None:
        name = f"{base} ({now.strftime('%Y%m%dT%H%M%SZ')})"
        claim = {"name": name, "runner": self.runner_id, "startedAt": iso(now), "leaseUntil": iso(now + LEASE)}
        taken: dict[str, Any] = {}

        def change(doc: Any, record: dict[str, Any]) -> bool:
            taken.clear()  # what an earlier, conflicting attempt claimed is not held
            pending = record.get("pending")
            if isinstance(pending, dict) and pending.get("runner") == self.runner_id:
                taken.update(pending)  # ours already (a lost answer that was applied)
                return False
            if isinstance(pending, dict) and _leased(pending, now):
                return False
            if not forced and status(item, record, now).status not in (DUE, OVERDUE, UNKNOWN):
                return False  # rotated by another runner since this one looked
            if (record.get("rotatedAt"), record.get("current")) != seen:
                return False  # rotated by another runner since this one looked (a forced run too)
            # A lapsed claim is taken over under its own name, so its credentials are found and revoked.
            mine = {**claim, "name": pending["name"]} if isinstance(pending, dict) and pending.get("name") else claim
            record["pending"] = mine
            taken.update(mine)
            return True

        self._update(item, change)
        return taken or None

    def _release(self, item: Planned) -> None:
        def change(doc: Any, record: dict[str, Any]) -> bool:
            if not isinstance(record.get("pending"), dict) or record["pending"].get("runner") != self.runner_id:
                return False
            record.pop("pending")
            return True

        self._update(item, change)

    def _write(self, item: Planned, new_id: str, value: str, name: str, before: Sequence[str] = ()) -> bool:
        """Write the new value and its record, if this run still holds the claim; False if it does not."""
        now = self.now()
        held = [True]

        def change(doc: Any, record: dict[str, Any]) -> bool:
            if record.get("current") == new_id:
                return False  # written already (its answer was lost)
            if not _holds(record.get("pending"), self.runner_id, name):
                held[0] = False
                return False
            old = record.get("current")
            retiring = list(record.get("retiring") or [])
            revoke_after = iso(now + overlap(item.policy))
            for replaced in [old] if old else [i for i in before if i != new_id]:
                retiring.append({"id": replaced, "revokeAfter": revoke_after})
            record.update(rotatedAt=iso(now), current=new_id, retiring=retiring)
            if item.secret.github_secret:
                record["carry"] = {"id": new_id}  # until the GitHub secret carries it too
            record.pop("pending", None)
            records.set_secret(doc, item.secret.esc, value)
            return True

        self._update(item, change)
        return held[0]

    def _carry(self, item: Planned, value: str, carried: str) -> None:
        """Write the value into the GitHub secret that carries it, then say so in the record (only if the
        record still waits for that credential: a newer rotation's carry is its own)."""
        if self.github is None:
            raise SophiaIacError(f"{item.label}: GITHUB_TOKEN is needed to update {item.secret.github_secret}")
        self.github.set_secret(self.env, str(item.secret.github_secret), value)

        def change(doc: Any, record: dict[str, Any]) -> bool:
            carry = record.get("carry")
            if not isinstance(carry, dict) or str(carry.get("id")) != carried:
                return False
            record.pop("carry")
            return True

        self._update(item, change)

    def _written_value(self, item: Planned) -> str:
        assert self.esc is not None
        node: Any = records.load(self.esc.decrypt(item.esc_environment))["values"]
        for part in item.secret.esc.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        value = node.get("fn::secret") if isinstance(node, dict) else node
        if not isinstance(value, str):
            raise SophiaIacError(f"{item.label}: no value at {item.secret.esc} in {item.esc_environment}")
        return value

    def _revoke_retired(self, item: Planned, record: dict[str, Any], now: datetime, dry_run: bool) -> list[Outcome]:
        due = [r for r in record.get("retiring") or [] if _time(r.get("revokeAfter")) <= now]
        if not due:
            return []
        if dry_run:
            return [Outcome(item.label, "would-revoke", str(r["id"])) for r in due]
        module, ctx = self._rotator(item)
        out = []
        for entry in due:
            module.revoke(ctx, item.secret.name, str(entry["id"]))

            def change(doc: Any, record: dict[str, Any], gone: str = str(entry["id"])) -> bool:
                kept = [r for r in record.get("retiring") or [] if str(r.get("id")) != gone]
                if len(kept) == len(record.get("retiring") or []):
                    return False
                record["retiring"] = kept
                return True

            self._update(item, change)
            self.after("revoked")
            out.append(Outcome(item.label, "revoked", str(entry["id"])))
        return out

    # ------------------------------------------------------------------ verification

    def _verify(self, item: Planned, value: str) -> tuple[bool, str]:
        environ = {**self.environ, item.secret.env_var: value}
        (job,) = [j for j in jobs(self.model, self.env, self.endpoints, environ) if j.name == item.integration.name]
        if job.skip_reason is not None or job.probe is None:  # unverified is not good enough
            return False, f"its health check cannot run ({job.skip_reason or 'no probe'})"

        async def check() -> Result:
            async with httpx.AsyncClient() as client:
                return await probes.run_one(job, client, Redactor([value]), probes.DEFAULT_POLICY)

        result = asyncio.run(check())
        return result.status == "success", result.error or "ok"


def _holds(pending: Any, runner: str, name: str) -> bool:
    """Whether the pending rotation is this runner's, under this name."""
    return isinstance(pending, dict) and pending.get("runner") == runner and pending.get("name") == name


def _leased(pending: Mapping[str, Any], now: datetime) -> bool:
    return _time(pending.get("leaseUntil")) > now


def _time(value: object) -> datetime:
    """A recorded time; the distant past when there is none."""
    return parse_time(value) or datetime.min.replace(tzinfo=timezone.utc)  # noqa: UP017


def summary(outcomes: Sequence[Outcome]) -> str:
    if not outcomes:
        return "nothing to rotate\n"
    return "".join(f"{o.action:<13} {o.secret}  {o.detail}".rstrip() + "\n" for o in outcomes)
