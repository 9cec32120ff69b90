"""The results document, in the strategy document's shape, and its text summary.

Each integration is one result: ``name``, ``status`` (success, failure or
skipped), ``tests`` (each request made: name, status, duration, detail),
``start_time``, ``end_time`` (ISO 8601, UTC), ``duration`` (seconds),
``error`` (a string, or null) and ``drift``: where the service holds other
settings than the spec declares (each ``item``, ``declared``, ``held``). A
service that answered as expected but drifted is a success with drift; the
summary counts those as ``drifted``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUCCESS, FAILURE, SKIPPED = "success", "failure", "skipped"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class TestRecord:
    """One request a check made (or one reason it made none)."""

    name: str
    status: str
    duration: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "duration": round(self.duration, 3), "detail": self.detail}


@dataclass(frozen=True)
class Drift:
    """One setting the service holds otherwise than the spec declares."""

    item: str
    declared: Any
    held: Any

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "declared": self.declared, "held": self.held}

    def __str__(self) -> str:
        return f"{self.item}: the spec declares {self.declared!r}, the service holds {self.held!r}"


@dataclass(frozen=True)
class Result:
    """One integration's outcome."""

    name: str
    type: str
    status: str
    tests: tuple[TestRecord, ...]
    start_time: datetime
    end_time: datetime
    error: str | None
    attempts: int
    drift: tuple[Drift, ...] = ()

    @property
    def duration(self) -> float:
        return (self.end_time - self.start_time).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "tests": [t.to_json() for t in self.tests],
            "start_time": iso(self.start_time),
            "end_time": iso(self.end_time),
            "duration": round(self.duration, 3),
            "error": self.error,
            "attempts": self.attempts,
            "drift": [d.to_json() for d in self.drift],
        }


def document(env: str, results: Sequence[Result], start: datetime, end: datetime) -> dict[str, Any]:
    """The whole run: environment, counts, timing and one entry per integration."""
    counts = {status: sum(r.status == status for r in results) for status in (SUCCESS, FAILURE, SKIPPED)}
    counts["drifted"] = sum(bool(r.drift) for r in results)
    return {
        "environment": env,
        "summary": {"total": len(results), **counts},
        "start_time": iso(start),
        "end_time": iso(end),
        "duration": round((end - start).total_seconds(), 3),
        "results": [r.to_json() for r in results],
    }


def write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def summary_text(doc: dict[str, Any]) -> str:
    """A few lines for the terminal: one per integration, then the counts."""
    width = max((len(r["name"]) for r in doc["results"]), default=0)
    lines = [_line(r, width) for r in doc["results"]]
    s = doc["summary"]
    lines.append(
        f"{doc['environment']}: {s['success']} succeeded ({s['drifted']} drifted from the spec), "
        f"{s['failure']} failed, {s['skipped']} skipped in {doc['duration']:.2f}s"
    )
    return "\n".join(lines) + "\n"


def _line(result: dict[str, Any], width: int) -> str:
    label = {SUCCESS: "ok", FAILURE: "FAIL", SKIPPED: "skip"}[result["status"]]
    why = result["error"] or next((t["detail"] for t in result["tests"] if t["status"] == SKIPPED), "")
    tail = f"  {why}" if result["status"] != SUCCESS and why else ""
    drift = [str(Drift(**d)) for d in result.get("drift", [])]
    if drift and result["status"] == SUCCESS:
        label, tail = "DRIFT", "  " + "; ".join(drift)
    return f"{label:<5}  {result['name']:<{width}}  {result['duration']:6.2f}s{tail}"
