"""Reading specs: whatever sits under specs/, a fault is a located E008 naming the path, never a hang, a
traceback, or another file's content in a message."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CASES, Result


def _secret_file(root: Path) -> Path:
    outside = root.parent / f"{root.name}-outside.yaml"
    outside.write_text("password: hunter2-not-for-your-logs\n: bad yaml [\n")
    return outside


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda specs, root: (specs / "gone.yaml").symlink_to(root / "nothing.yaml"), "a symbolic link to nothing"),
        (
            lambda specs, root: (specs / "leak.yaml").symlink_to(_secret_file(root)),
            "a symbolic link out of the specs directory",
        ),
        (lambda specs, root: os.mkfifo(specs / "pipe.yaml"), "not a regular file"),
    ],
    ids=["dangling-link", "link-out-of-tree", "fifo"],
)
def test_an_unreadable_spec_entry_is_a_located_diagnostic(
    project: Callable[[Path], Path], cli: Callable[..., Result], make: Callable[[Path, Path], None], message: str
) -> None:
    root = project(CASES / "valid" / "minimal")
    make(root / "specs", root)
    for command in (["validate"], ["compile"]):
        result = cli(*command)
        assert result.code == 1, result.out + result.err
        (line,) = [x for x in result.out.splitlines() if "E008" in x]
        assert line.startswith("specs/") and line.endswith(f"error[E008]: cannot read file: it is {message}")
        assert "hunter2" not in result.out + result.err and "Traceback" not in result.err
    assert not (root / "generated").exists()


def test_links_inside_the_tree_and_directories_named_like_specs_are_read(
    project: Callable[[Path], Path], cli: Callable[..., Result]
) -> None:
    root = project(CASES / "valid" / "minimal")
    specs = root / "specs"
    (specs / "more.yaml").mkdir()
    shutil.move(specs / "gong.yaml", specs / "more.yaml" / "gong.yaml")
    (specs / "alias.yml").symlink_to(specs / "more.yaml" / "gong.yaml")
    result = cli("validate")
    # The same document twice (through the link) is a duplicate name, reported, not a crash.
    assert result.code == 1 and "E201" in result.out
    (specs / "alias.yml").unlink()
    assert cli("validate").code == 0
