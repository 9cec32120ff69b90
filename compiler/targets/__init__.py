"""Output targets, registered here and nowhere else."""

from __future__ import annotations

from ..render import Target
from .docs import DocsTarget
from .esc import EscTarget
from .pulumi import PulumiTarget
from .workflows import WorkflowsTarget

TARGETS: dict[str, Target] = {t.name: t for t in (PulumiTarget(), EscTarget(), DocsTarget(), WorkflowsTarget())}
