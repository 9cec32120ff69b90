"""Where the compiler's own data (schemas, templates) lives.

In a wheel they are packaged under ``compiler/_data``; in a source checkout
or an editable install they are the repository's ``schema/`` and ``templates/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name
