"""A large spec tree is read on two CPUs: every other file in a forked process. The result is the
serial one exactly (documents, diagnostics, locations), and a helper that fails costs nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from compiler import fork, load, pipeline
from compiler.diagnostics import render
from tests.conftest import PLATFORM_SPECS

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the parallel path needs fork")

# Problems of every stage a file meets on its own, in files on both sides of the split.
BROKEN = {
    "zz-syntax.yaml": "apiVersion: sophia-iac/v1\nkind: Integration\nmetadata: {name: [unclosed\n",
    "zz-kind.yaml": "apiVersion: sophia-iac/v1\nkind: Integraton\nmetadata: {name: typo}\n",
    "zz-dupe.yaml": "apiVersion: sophia-iac/v1\nkind: Nope\nkind: Other\n",
    "zz-empty.yaml": "---\n---\n# nothing\n",
    "zz-secret.yaml": (
        "apiVersion: sophia-iac/v1\nkind: Integration\nmetadata:\n  name: leak\nspec:\n  type: hubspot\n"
        "  config:\n    note: pat-na1-0b5f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n"
    ),
    "zz-number.yaml": "apiVersion: sophia-iac/v1\nkind: GpuPool\nmetadata: {name: nan}\nspec: {minCount: .nan}\n",
}


def tree(root: Path, copies: int, broken: bool) -> Path:
    specs = root / "specs"
    shutil.copytree(PLATFORM_SPECS, specs)
    template = (specs / "integrations" / "gong.yaml").read_text()
    for i in range(copies):
        text = template.replace("name: gong", f"name: gong-{i}", 1)
        text = text.replace("esc: gong.", f"esc: gong_{i}.")
        (specs / "integrations" / f"gong-{i}.yaml").write_text(text)
    if broken:
        for name, text in BROKEN.items():
            (specs / "integrations" / name).write_text(text)
    return specs


def analyse(specs: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> pipeline.Analysis:
    with monkeypatch.context() as m:
        m.chdir(specs.parent)
        if not parallel:
            m.setenv("SOPHIA_IAC_JOBS", "1")
        return pipeline.analyse(["specs"])


def spawned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the helper processes started (the real fork still runs)."""
    started: list[int] = []
    real = fork.start

    def counting(compute):  # type: ignore[no-untyped-def]
        child = real(compute)
        started.append(child.pid if child else 0)
        return child

    monkeypatch.setattr(fork, "start", counting)
    return started


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "with-problems"])
def test_two_processes_give_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool) -> None:
    specs = tree(tmp_path, pipeline.PARALLEL_MIN_FILES + 10, broken)
    started = spawned(monkeypatch)
    serial = analyse(specs, monkeypatch, parallel=False)
    assert not started
    parallel = analyse(specs, monkeypatch, parallel=True)
    assert len(started) == 1 and started[0] > 0
    assert render(parallel.diagnostics, "json") == render(serial.diagnostics, "json")
    assert [(d.file, d.data, d.start) for d in parallel.documents] == [
        (d.file, d.data, d.start) for d in serial.documents
    ]
    assert (parallel.model is None) == broken and parallel.model == serial.model
    # Half the documents came back from the helper, their node graphs left behind; each locates
    # every key and value exactly where the serial load does.
    deferred = [d for d in parallel.documents if isinstance(d.root, load._Root)]
    assert len(deferred) >= (pipeline.PARALLEL_MIN_FILES + 10) // 2
    for doc, same in zip(parallel.documents, serial.documents, strict=True):
        for path in paths(doc.data)[:40]:
            assert doc.locate(path) == same.locate(path)
            assert doc.locate(path, key=True) == same.locate(path, key=True)
    if broken:
        codes = {d.code for d in parallel.diagnostics}
        assert {"E004", "E102", "E005", "W001", "E301", "E108"} <= codes


def test_a_failing_helper_costs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = tree(tmp_path, pipeline.PARALLEL_MIN_FILES, broken=True)
    serial = analyse(specs, monkeypatch, parallel=False)
    parent = os.getpid()
    real = pipeline._one_file

    def dies_in_the_helper(path: Path) -> pipeline._FileResult:
        if os.getpid() != parent:
            raise MemoryError("the helper process runs out of memory")
        return real(path)

    monkeypatch.setattr(pipeline, "_one_file", dies_in_the_helper)
    started = spawned(monkeypatch)
    parallel = analyse(specs, monkeypatch, parallel=True)
    assert len(started) == 1
    assert render(parallel.diagnostics, "json") == render(serial.diagnostics, "json")
    assert [d.data for d in parallel.documents] == [d.data for d in serial.documents]
    assert not any(isinstance(d.root, load._Root) for d in parallel.documents)


def test_small_trees_and_threaded_callers_stay_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    started = spawned(monkeypatch)
    analyse(tree(tmp_path / "small", 3, broken=False), monkeypatch, parallel=True)
    assert not started
    big = tree(tmp_path / "big", pipeline.PARALLEL_MIN_FILES, broken=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        analyse(big, monkeypatch, parallel=True)  # another thread runs: no fork
    finally:
        stop.set()
        other.join()
    assert not started


def paths(data: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def test_an_ignored_sigchld_still_gives_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SIGCHLD ignored (inherited from whoever started us) the kernel reaps the helper itself."""
    import signal

    specs = tree(tmp_path, pipeline.PARALLEL_MIN_FILES, broken=True)
    serial = analyse(specs, monkeypatch, parallel=False)
    started = spawned(monkeypatch)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        parallel = analyse(specs, monkeypatch, parallel=True)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert len(started) == 1
    assert render(parallel.diagnostics, "json") == render(serial.diagnostics, "json")


def test_a_failure_in_the_main_process_stops_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = tree(tmp_path, pipeline.PARALLEL_MIN_FILES, broken=False)
    parent = os.getpid()
    real = pipeline._one_file
    calls = []

    def fails_here(path: Path) -> pipeline._FileResult:
        if os.getpid() == parent:
            calls.append(path)
            if len(calls) == 3:  # the main process's third file, while the helper works
                raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(pipeline, "_one_file", fails_here)
    started = spawned(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        analyse(specs, monkeypatch, parallel=True)
    assert len(started) == 1
    with pytest.raises(ProcessLookupError):  # stopped and reaped: not even a zombie is left
        os.kill(started[0], 0)


def test_a_file_of_many_documents_is_composed_again_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents sent from the helper locate through their file's text, composed once for all of them,
    and what is sent never carries a node graph."""
    import pickle

    text = "".join(f"---\nkind: Thing{i}\nspec: {{items: [a, b]}}\n" for i in range(300))
    docs, _ = load.load_bytes(text.encode(), "many.yaml")
    moved = pickle.loads(pickle.dumps(load.portable(docs, text)))
    composed = []
    real = load._compose_all
    monkeypatch.setattr(load, "_compose_all", lambda t: composed.append(1) or real(t))
    for doc, same in zip(moved, docs, strict=True):
        assert doc.locate(("spec", "items", 1)) == same.locate(("spec", "items", 1))
    assert len(composed) == 1
    again = pickle.dumps(moved)  # located once: the cached graphs stay behind
    assert b"ruamel" not in again and len(again) < 2 * len(text.encode()) + 40_000
