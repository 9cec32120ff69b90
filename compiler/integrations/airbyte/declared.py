"""What one environment's Airbyte spec declares of a connection, in Airbyte's terms, and how it
compares with what Airbyte holds: the schedule (five-field UTC cron as Airbyte's Quartz form), status
and schema-change policy. Shared by the program's providers (the request bodies), the compiler (which
refuses a schedule Airbyte cannot take) and the health check (which reports drift), so they cannot
disagree. No Pulumi import: the health check runs without the Pulumi SDK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SCHEMA_CHANGES = ("ignore", "disable_connection", "propagate_columns", "propagate_fully")
STATUSES = ("active", "inactive")


def quartz(cron: str) -> str:
    """The Quartz form Airbyte runs (in UTC) of a five-field UTC cron expression, from croniter's
    reading of it.

    Seconds are 0; whichever of day-of-month and day-of-week is unrestricted becomes ``?``; days of
    the week are renumbered (cron 0 or 7 = Sunday, Quartz 1 = Sunday). ValueError for an invalid
    expression, for one restricting both day-of-month and day-of-week (cron matches either; Quartz
    can only restrict one), and for what Quartz has no plain list for (``L``, ``#``).
    """
    from croniter import croniter  # here: the compiler imports this module at start-up

    if len(cron.split()) != 5 and not cron.strip().startswith("@"):
        raise ValueError(f"{cron!r} is not a five-field cron expression")
    try:
        parsed = croniter(cron)
    except (ValueError, KeyError) as problem:  # croniter's errors are ValueErrors
        raise ValueError(f"{cron!r} is not a valid cron expression: {problem}") from None
    fields = parsed.expanded
    if parsed.nth_weekday_of_month or any(v != "*" and not isinstance(v, int) for f in fields for v in f):
        raise ValueError(f"{cron!r} uses L or #, which Airbyte's Quartz schedule is not given here")
    minute, hour, dom, month, dow = (["*"] if f == ["*"] else f for f in fields)
    every_day, every_weekday = dom == ["*"], dow == ["*"]
    if not every_day and not every_weekday:
        raise ValueError(
            f"{cron!r} restricts both day-of-month and day-of-week, which Quartz cannot express; restrict one"
        )
    text = [_spans(f) for f in (minute, hour, dom, month)]
    if every_weekday:
        return f"0 {text[0]} {text[1]} {text[2]} {text[3]} ?"
    return f"0 {text[0]} {text[1]} ? {text[3]} {_spans(sorted({int(d) % 7 + 1 for d in dow}))}"


def _spans(values: list[Any]) -> str:
    """Sorted numbers as a Quartz list, consecutive runs as ranges: [1, 2, 3, 7] -> ``1-3,7``; ``*`` as is."""
    if values == ["*"]:
        return "*"
    runs: list[list[int]] = []
    for value in sorted(int(v) for v in values):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def schedule(cron: str | None) -> dict[str, str]:
    """Airbyte's ``schedule`` for a five-field UTC cron, or manual syncs only when there is none."""
    if not cron:
        return {"scheduleType": "manual"}
    return {"scheduleType": "cron", "cronExpression": quartz(cron)}


# ---------------------------------------------------------------------- connection settings and drift


def connection_settings(props: Mapping[str, Any]) -> dict[str, Any]:
    """The declared schedule, status and schema-change policy of a connection, as Airbyte's API takes them.

    ``props`` holds ``schedule`` (five-field UTC cron, or none for manual), ``status`` (active by
    default) and ``schema_changes`` (ignore by default). ValueError for a value Airbyte does not take.
    """
    found = problems(props)
    if found:
        raise ValueError("; ".join(f"{key}: {problem}" for key, problem in found))
    return {
        "schedule": schedule(props.get("schedule")),
        "status": props.get("status") or "active",
        "nonBreakingSchemaUpdatesBehavior": props.get("schema_changes") or "ignore",
    }


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(prop, why) for each connection setting Airbyte would not take."""
    out = []
    try:
        schedule(props.get("schedule"))
    except ValueError as problem:
        out.append(("schedule", str(problem)))
    for key, default, allowed in (("status", "active", STATUSES), ("schema_changes", "ignore", SCHEMA_CHANGES)):
        if (props.get(key) or default) not in allowed:
            out.append((key, f"{props.get(key)!r} is not one of {', '.join(allowed)}"))
    return out


def connection_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The body of ``PATCH /connections/{id}`` for a connection's props (a create adds its source and
    destination ids): the one place deploy and drift check take the declared settings from."""
    return {"name": props["name"], **connection_settings(props)}


def connection_drift(declared: Mapping[str, Any], held: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """How the connection Airbyte holds (``GET /connections/{id}``) differs from its declared props:
    ``(what, declared, held)`` for its ``schedule``, ``status`` and ``schemaChanges``, in that order.

    A schedule reads ``manual``, ``<Quartz expression> <time zone>`` as Airbyte answers it, or
    ``basic <timing>`` (set in Airbyte's UI); declared crons are compared in their Quartz form, in UTC.
    """
    settings = connection_settings(declared)
    pairs = (
        ("schedule", _schedule_text(settings["schedule"], "UTC"), _schedule_text(held.get("schedule") or {}, "")),
        ("status", settings["status"], held.get("status")),
        ("schemaChanges", settings["nonBreakingSchemaUpdatesBehavior"], held.get("nonBreakingSchemaUpdatesBehavior")),
    )
    return [(what, want, have) for what, want, have in pairs if _meaning(want) != _meaning(have)]


def _schedule_text(value: Mapping[str, Any], zone: str) -> str:
    kind = str(value.get("scheduleType") or "manual")
    if kind == "cron":
        return " ".join(filter(None, (str(value.get("cronExpression") or ""), zone)))
    if kind == "basic":
        return f"basic {value.get('basicTiming') or ''}".strip()
    return kind


def _meaning(value: Any) -> Any:
    """What a setting means, for comparison: a Quartz schedule in UTC as the times it fires at (so
    ``0 0 */12 * * ? UTC`` set in Airbyte equals the ``0 0 0,12 * * ? UTC`` written here), other text
    without case or spacing differences."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.upper().split())
    fields = text.split(" ")
    if len(fields) != 7 or fields[0] != "0" or fields[6] != "UTC":
        return text
    minute, hour, dom, month, dow = fields[1:6]
    # Quartz numbers the days of the week from 1 (Sunday), cron from 0; names mean the same day in both.
    dow = "*" if dow == "?" else re.sub(r"(?<![/0-9])([1-7])(?![0-9])", lambda m: str(int(m.group(1)) - 1), dow)
    from croniter import croniter

    try:
        return croniter(f"{minute} {hour} {dom.replace('?', '*')} {month} {dow}").expanded
    except (ValueError, KeyError):
        return text


def connection_props(connection: Mapping[str, Any]) -> dict[str, Any]:
    """A connection's settings props from its spec entry (``connections[]``)."""
    return {
        "name": connection["name"],
        "schedule": connection.get("schedule"),
        "status": connection.get("status", "active"),
        "schema_changes": connection.get("schemaChanges", "ignore"),
    }
