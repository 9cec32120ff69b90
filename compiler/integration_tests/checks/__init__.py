"""The registry of checks: one module per integration type, one ``check`` each."""

from __future__ import annotations

from ..context import Check
from . import (
    airbyte,
    aws,
    estuary,
    github,
    gong,
    hubspot,
    lambda_labs,
    openrouter,
    portkey,
    pulumi_esc,
    slack,
    snowflake,
    vercel,
)

CHECKS: dict[str, Check] = {
    "airbyte": airbyte.check,
    "aws": aws.check,
    "estuary": estuary.check,
    "github": github.check,
    "gong": gong.check,
    "hubspot": hubspot.check,
    "lambda-labs": lambda_labs.check,
    "openrouter": openrouter.check,
    "portkey": portkey.check,
    "pulumi-esc": pulumi_esc.check,
    "slack": slack.check,
    "snowflake": snowflake.check,
    "vercel": vercel.check,
}

__all__ = ["CHECKS"]
