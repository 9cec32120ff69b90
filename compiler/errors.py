"""The one exception root. User mistakes are diagnostics, not exceptions."""

from __future__ import annotations


class SophiaIacError(Exception):
    """Base of every exception the compiler raises on purpose."""


class UsageError(SophiaIacError):
    """The command line itself is wrong (exit code 2)."""


class OutputConflict(SophiaIacError):
    """Compile would overwrite a file it does not own (exit code 1)."""
