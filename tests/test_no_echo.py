"""No diagnostic, of any code and in any format, shows any part of a value that could be a credential."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CASES, Result

TOKENS = {
    "github": "ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5",
    "hubspot": "pat-na1-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
    "random": "Zx8Kq2Lm9Pw4Rt7Yv3Nb6Hc1Qa5Sd0FgJk2",
}
# Where a careless paste lands: (file, text to replace, replacement with {token}) -> the codes it raises.
PASTES = {
    "enum": ("environments.yaml", "tier: staging", "tier: {token}"),
    "pattern": ("environments.yaml", "region: us-east-1}", "region: {token}}"),
    "type": ("environments.yaml", 'account: "222222222222"', "account: [{token}]"),
    "unknown-key": ("environments.yaml", "  tier: staging", "  {token}: staging\n  tier: staging"),
    "integration-type": ("pipeline.yaml", "type: aws", "type: {token}"),
    "reference": ("policies.yaml", "routes: [platform]}", "routes: [{token}]}"),
}


@pytest.mark.parametrize("paste", sorted(PASTES))
@pytest.mark.parametrize("token", sorted(TOKENS))
@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_no_message_shows_any_part_of_a_pasted_credential(
    project: Callable[[Path], Path], cli: Callable[..., Result], paste: str, token: str, fmt: str
) -> None:
    root = project(CASES / "valid" / "minimal")
    name, old, new = PASTES[paste]
    path = root / "specs" / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new.replace("{token}", TOKENS[token]), 1))
    result = cli("validate", "--format", fmt)
    assert result.code == 1
    shown = result.out + result.err
    secret = TOKENS[token]
    fragments = {secret[i : i + 8] for i in range(len(secret) - 7)}
    assert not [f for f in fragments if f in shown], shown
    if fmt == "json":
        assert json.loads(result.out)["diagnostics"]
    if paste in ("enum", "pattern", "integration-type", "reference"):
        assert "[redacted]" in shown  # these messages quote the value: the quote is masked, not dropped
