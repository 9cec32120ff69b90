"""Run one function in a forked process and take its result back, pickled through a pipe.

Used to load a large spec tree on two CPUs. The helper process computes, sends and exits
without cleanup (``os._exit``: no buffered output of the parent is written twice); whatever
goes wrong in it (an exception, a signal, a result that does not unpickle) makes
``Child.result`` return None, and the caller does the work itself. Nothing is forked while
other threads run (a fork copies only the calling thread, so their locks could stay held).
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Child:
    """A forked process computing one value."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd

    def result(self) -> Any | None:
        """The function's return value, once the process has sent it; None if it failed."""
        try:
            with os.fdopen(self.fd, "rb") as pipe:
                payload = pipe.read()
        finally:
            code = self._reap()
        if code not in (0, None) or not payload:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # a truncated or corrupt payload: the caller recomputes
            return None

    def abandon(self) -> None:
        """Stop the process and release it (the caller failed before it needed the result)."""
        try:
            os.close(self.fd)  # a helper blocked writing gets EPIPE
        except OSError:
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self._reap()

    def _reap(self) -> int | None:
        """The process's exit code; None where it was reaped by someone else (SIGCHLD ignored, a reaper
        of the host program): then only a payload that unpickles counts, as with ``subprocess``."""
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)


@contextmanager
def helper(compute: Callable[[], Any]) -> Iterator[Child | None]:
    """A helper process computing ``compute()`` while the block runs; stopped if the block fails."""
    child = start(compute)
    try:
        yield child
    except BaseException:
        if child is not None:
            child.abandon()
        raise


def available() -> bool:
    """Whether a helper process may be forked here: a fork, more than one CPU, no other thread."""
    if os.environ.get("SOPHIA_IAC_JOBS") == "1" or not hasattr(os, "fork"):
        return False
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return cpus > 1 and threading.active_count() == 1


def start(compute: Callable[[], Any]) -> Child | None:
    """Fork a process that computes ``compute()`` and sends it back; None if no process could be made."""
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:  # no memory or process slots left: the caller does the work itself
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # pragma: no cover - runs in the helper process, which exits without reporting coverage
        code = 1
        try:
            os.close(read_fd)
            payload = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return Child(pid, read_fd)
