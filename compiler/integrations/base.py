"""The registry entry every integration type provides."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = ("data-sources", "ai-services", "infrastructure", "devops", "alerting")


@dataclass(frozen=True)
class IntegrationType:
    """What the compiler knows about one integration type.

    Adding a type means: one schema (``schema/integrations/<name>.json``),
    one template set (``templates/pulumi/integrations/<name>.py.j2`` when it
    needs more than the generic module) and one entry like this.
    """

    name: str
    title: str
    category: str
    component: str
    automatic_rotation: bool
    docs: str
    requirements: tuple[str, ...] = ()
    # Config fields naming another thing, checked like every other reference:
    # dotted path (``[]`` walks a list) -> "secret" (this integration's secrets)
    # or "alert-route" (the Project's alert routes).
    references: tuple[tuple[str, str], ...] = ()
    # Config list fields whose items name a resource (``roles[].name``): each must be unique.
    # ``a[].x+y[]`` makes the key from several fields of one item (one resource per combination).
    unique_keys: tuple[str, ...] = ()
    # Whether it owns resources the deploy pipeline depends on (rendered into the bootstrap project).
    bootstrap: bool = False
    # Secrets its Pulumi module always reads, besides those its config names through ``references``.
    program_secrets: tuple[str, ...] = ()
    # The project whose module reads its secrets: "pulumi" (infrastructure) or "bootstrap".
    secrets_project: str = "pulumi"

    @property
    def schema(self) -> str:
        return f"integrations/{self.name}.json"
