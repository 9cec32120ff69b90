"""The integration types, found by discovery: one package per type under this directory.

A type's package holds everything about it that is Python:

- ``__init__.py``: ``ENTRY``, its :class:`IntegrationType` (what the compiler knows of it);
- ``probe.py``: ``async def probe(ctx)``, the health check ``sophia-iac test-integrations`` runs;
- ``deploy.py`` when ``ENTRY.deploys`` is set: the module the generated infrastructure program
  imports for it (otherwise its instances deploy as a plain component of their settings);
- ``bootstrap.py`` when ``ENTRY.bootstrap`` is set: its module in the bootstrap program;
- any other module: code those program modules share, shipped with whichever of them a project uses.

Its schema is ``schema/integrations/<name>.json``. Nothing is listed by hand: every package here
is a type, and a package missing one of its files, holding a file its entry does not declare, or
whose name does not match its entry's is an error when this module is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..package_data import data_dir
from .base import CATEGORIES, IntegrationType, RegistryError

HERE = Path(__file__).parent


def _discover() -> dict[str, IntegrationType]:
    found: dict[str, IntegrationType] = {}
    schemas = data_dir("schema") / "integrations"
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda i: i.name):
        if not info.ispkg:
            continue
        entry = getattr(importlib.import_module(f"{__name__}.{info.name}"), "ENTRY", None)
        if not isinstance(entry, IntegrationType):
            raise RegistryError(
                f"compiler/integrations/{info.name}/__init__.py defines no ENTRY = IntegrationType(...)"
            )
        entry.check_files(HERE / info.name, info.name, schemas)
        found[entry.name] = entry
    return found


REGISTRY: dict[str, IntegrationType] = _discover()


@cache
def probe_of(entry: IntegrationType) -> Callable[[Any], Any]:
    """The type's probe (``probe.py``), imported when the first integration of the type is probed."""
    module = importlib.import_module(f"{__name__}.{entry.module}.probe")
    probe: Callable[[Any], Any] = module.probe
    return probe


def with_role(role: str) -> list[IntegrationType]:
    """The types that fill ``role`` (see ``base.ROLES``)."""
    return [entry for entry in REGISTRY.values() if role in entry.roles]


__all__ = ["CATEGORIES", "REGISTRY", "IntegrationType", "RegistryError", "probe_of", "with_role"]
