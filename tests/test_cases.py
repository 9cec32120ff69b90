"""Example spec trees under tests/cases: valid ones compile, invalid ones give exactly the expected diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CASES, Result, golden

VALID = sorted(p for p in (CASES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", VALID, ids=[p.name for p in VALID])
def test_valid_case(case: Path, project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    project(case)
    result = cli("validate")
    assert result.code == 0, result.out
    expected = case / "expected.txt"
    if expected.exists() or result.out:
        golden(expected, result.out)
    assert cli("compile").code == 0
    assert cli("compile", "--check").code == 0


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_invalid_case(case: Path, project: Callable[[Path], Path], cli: Callable[..., Result]) -> None:
    project(case)
    result = cli("validate")
    assert result.code == 1
    golden(case / "expected.txt", result.out)
    assert "Traceback" not in result.out + result.err
