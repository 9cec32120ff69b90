"""Stack settings and the component base every module of a generated program builds on.

Copied verbatim into each generated Pulumi project as ``program/runtime.py``, beside one
package per integration type (``program/<type>/deploy.py`` and the like), which import it as
``from .. import runtime``: the generated program never imports the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi


class Stack:
    """This stack's settings, read once from stack config (Pulumi.<stack>.yaml and ESC)."""

    def __init__(self, namespace: str) -> None:
        # Both projects (infrastructure and bootstrap) read their config in the project's namespace.
        self.config = pulumi.Config(namespace)
        self.environment: str = self.config.require("environment")
        self.tier: str = self.config.require("tier")
        self.protect: bool = self.config.require_bool("protect")
        self.account: str = self.config.require("account")
        self.region: str = self.config.require("region")
        self.project: dict[str, Any] = self.config.require_object("project")
        self.deploy: dict[str, Any] = self.config.require_object("deploy")
        self.esc: dict[str, str] = self.config.require_object("esc")
        self.alert_routes: dict[str, Any] = self.config.get_object("alertRoutes") or {}
        self.alert_route: str = self.config.get("alertRoute") or ""
        self.integrations: dict[str, Any] = self.config.get_object("integrations") or {}
        self.gpu_pools: dict[str, Any] = self.config.get_object("gpuPools") or {}
        # Bootstrap stacks only: what they create for the pipeline, and the alert routes they post to.
        self.access: dict[str, Any] = self.config.get_object("access") or {}
        self.alert_webhooks: dict[str, str] = self.config.get_object("alertWebhooks") or {}
        self.secret_reads: dict[str, dict[str, str]] = self.config.get_object("secrets") or {}
        # What one module makes for another in this run (resources a GPU pool must wait for).
        self.shared: dict[str, list[pulumi.Resource]] = {}
        # The integrations' components made so far in this run, by name (what ``dependsOn`` names).
        self.components: dict[str, Component] = {}

    @property
    def compliance(self) -> list[str]:
        return list(self.project.get("compliance", []))

    def settings(self, section: dict[str, Any], name: str) -> dict[str, Any] | None:
        """The settings of one integration or pool, or None where it is not deployed."""
        found = section.get(name)
        return found if found and found.get("enabled", True) else None

    def secret(self, key: str) -> pulumi.Output[str]:
        """A secret mapped into stack config by the ESC environment; always a secret Output."""
        return self.config.require_secret(key)

    def secrets(self, name: str) -> dict[str, pulumi.Output[str]]:
        """The secrets one integration's module reads in this stack (stack config ``secrets`` names exactly those)."""
        return {secret: self.secret(key) for secret, key in self.secret_reads.get(name, {}).items()}

    def alert_webhook(self, route: str) -> pulumi.Output[str]:
        """The Slack incoming-webhook URL of an alert route this stack posts to."""
        return self.secret(self.alert_webhooks[route])

    def tags(self, component: Component) -> dict[str, str]:
        """Tags for every resource that takes them: ownership, environment, compliance scope."""
        tags = {
            "managed-by": "sophia-iac",
            "project": str(self.project["name"]),
            "environment": self.environment,
            "integration": component.name,
        }
        tags.update({f"compliance-{regime}": "in-scope" for regime in self.compliance})
        return tags

    def comment(self, component: Component, what: str) -> str:
        """A comment for resources that take one instead of tags (Snowflake objects)."""
        scope = ", ".join(self.compliance) or "none"
        where = f"{self.project['name']}/{self.environment}, {component.name}"
        return f"{what}. Managed by sophia-iac ({where}); compliance: {scope}."


class Component(pulumi.ComponentResource):
    """One integration or GPU pool: its resources are parented to it."""

    def __init__(
        self,
        type_token: str,
        name: str,
        meta: dict[str, Any],
        settings: dict[str, Any],
        secrets: dict[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
        after: Sequence[pulumi.Resource] | None = None,
    ) -> None:
        super().__init__(type_token, name, None, opts)
        self.name = name
        # The components of the integrations it depends on: every child waits for their resources.
        self.after = list(after or [])
        self.meta = meta
        self.settings = settings
        self.config: dict[str, Any] = settings.get("config", {})
        self.secrets = secrets
        self.protected: bool = bool(settings.get("protect", False))

    def child(
        self,
        *,
        provider: pulumi.ProviderResource | None = None,
        stateful: bool = False,
        retain: bool = True,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> pulumi.ResourceOptions:
        """Options for a child resource; stateful ones are protected, and retained, where the spec says so.

        ``retain=False`` protects without retaining: what costs money while it exists (GPU instances)
        must not outlive its resource, only be hard to delete.
        """
        keep = stateful and self.protected
        waits = [*self.after, *(depends_on or [])] or None
        return pulumi.ResourceOptions(
            parent=self, provider=provider, protect=keep, retain_on_delete=keep and retain, depends_on=waits
        )

    def done(self, outputs: dict[str, Any] | None = None) -> Component:
        self.register_outputs(
            {
                "description": self.meta["description"],
                "labels": self.meta["labels"],
                "settings": self.settings,
                "secretNames": sorted(self.secrets),
                **(outputs or {}),
            }
        )
        return self


Deploy = Callable[[Stack, "Instance"], pulumi.ComponentResource | None]


@dataclass(frozen=True)
class Instance:
    """One integration or GPU pool of the spec, as the generated ``__main__.py`` lists it."""

    name: str
    type: str  # the component's Pulumi type token
    meta: dict[str, Any]  # description, labels and where it is declared
    deploy: Deploy
    pool: bool = False  # a GPU pool (settings under ``gpuPools``), else an integration


def files(stack: Stack, component: Component) -> str:
    """The directory of the component's data files for this stack, relative to the project (the
    working directory of ``pulumi``); ``names.program_files`` in the compiler renders them there."""
    return f"files/{component.name}/{stack.environment}"


def begin(stack: Stack, instance: Instance) -> Component | None:
    """The component of an instance this stack deploys, with its settings and secrets; None where it does not."""
    section = stack.gpu_pools if instance.pool else stack.integrations
    settings = stack.settings(section, instance.name)
    if settings is None:
        return None
    secrets = {} if instance.pool else stack.secrets(instance.name)
    # The generated __main__ lists an integration after those it depends on, so they are made by now.
    after = [stack.components[name] for name in settings.get("dependsOn", []) if name in stack.components]
    component = Component(instance.type, instance.name, instance.meta, settings, secrets, after=after)
    if not instance.pool:
        stack.components[instance.name] = component
    return component


def component(stack: Stack, instance: Instance) -> pulumi.ComponentResource | None:
    """How an instance of a type without a module of its own deploys: a component recording its settings."""
    found = begin(stack, instance)
    return found.done() if found is not None else None
