"""What a type's rotator (``compiler/integrations/<type>/rotate.py``) sees: one integration in one
environment, its config, the credentials it manages the secret with, and the clock.

A rotator module provides, for the secrets its type lists in ``IntegrationType.rotators``:

- ``create(ctx, secret, name) -> (id, value)``: issue a new credential under ``name``;
- ``find(ctx, secret, name) -> list[id]``: the credentials issued under ``name`` (a lost answer's);
- ``revoke(ctx, secret, id)``: revoke one (gone already is fine);
- ``existing(ctx, secret) -> list[id]``: the credentials already in use before the first rotation,
  which it retires after the overlap like any replaced credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SophiaIacError
from ..model import Project, Secret


class RotateError(SophiaIacError):
    """A rotator could not do what it was asked."""


@dataclass(frozen=True)
class RotateContext:
    integration: str
    env: str
    config: Mapping[str, Any]
    secrets: Mapping[str, Secret]
    project: Project
    endpoint: str | None
    environ: Mapping[str, str] = field(repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def secret(self, name: str) -> str:
        """The value of one of the integration's secrets, from the variable its ESC environment exports."""
        ref = self.secrets.get(name)
        value = self.environ.get(ref.env_var, "").strip() if ref else ""
        if not value:
            variable = ref.env_var if ref else name
            raise RotateError(f"{self.integration}: the credential to rotate with is missing ({variable} is not set)")
        return value

    def base_url(self, default: str) -> str:
        return (self.endpoint or default).rstrip("/")
