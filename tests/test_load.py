"""Loading: YAML 1.2 semantics, locations, and bounded handling of hostile files."""

from __future__ import annotations

import pytest

from compiler import load
from compiler.load import load_bytes


def codes(raw: bytes) -> list[tuple[str, int, int]]:
    _, problems = load_bytes(raw, "x.yaml")
    return [(p.code, p.location.line, p.location.column) for p in problems if p.location]


def test_yaml_12_keeps_norway_and_friends_as_strings() -> None:
    docs, problems = load_bytes(b"a: NO\nb: yes\nc: on\nd: off\ne: 0o17\nf: 010\n", "x.yaml")
    assert not problems
    assert docs[0].data == {"a": "NO", "b": "yes", "c": "on", "d": "off", "e": 15, "f": 10}


def test_every_key_and_value_has_a_location() -> None:
    docs, _ = load_bytes(b"a:\n  b: [1, {c: x}]\n", "x.yaml")
    doc = docs[0]
    assert str(doc.position(("a", "b"), key=True)) == "x.yaml:2:3"
    assert str(doc.position(("a", "b", 1, "c"))) == "x.yaml:2:14"
    assert str(doc.locate(("a", "b", 1, "missing"))) == "x.yaml:2:10"


def test_duplicate_keys_are_all_reported_and_the_document_kept() -> None:
    docs, problems = load_bytes(b"a: 1\nb: 2\na: 3\nb: 4\n", "x.yaml")
    assert [(p.code, p.location.line) for p in problems if p.location] == [("E005", 3), ("E005", 4)]
    assert docs[0].data == {"a": 1, "b": 2}


def test_billion_laughs_is_refused_without_expanding() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 30)]
    assert codes("\n".join(lines).encode()) == [("E006", 5, 5)]


def test_oversized_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 100)
    assert codes(b"a: " + b"x" * 200) == [("E001", 1, 1)]


def test_non_utf8_points_at_the_byte() -> None:
    assert codes(b"a: ok\nb: caf\xe9\n") == [("E002", 2, 7)]


def test_tab_indentation() -> None:
    assert codes(b"a:\n  b: 1\n  \tc: 2\n") == [("E003", 3, 3)]


def test_tab_inside_a_quoted_value_is_fine() -> None:
    docs, problems = load_bytes(b'a: "x\\ty"\nb: "p\tq"\n', "x.yaml")
    assert not problems and docs[0].data == {"a": "x\ty", "b": "p\tq"}


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"a: [1, 2\nb: 3\n", "E004"),
        (b"a: *nope\n", "E004"),
        (b"a: !Ref x\n", "E007"),
        (b"1: x\n", "E007"),
        (b"<<: {a: 1}\n", "E007"),
        (b"[" * 5000 + b"]" * 5000, "E007"),
    ],
)
def test_bad_yaml_is_a_diagnostic(raw: bytes, code: str) -> None:
    assert [c for c, _, _ in codes(raw)] == [code]


def test_empty_documents_warn() -> None:
    docs, problems = load_bytes(b"---\n---\na: 1\n", "x.yaml")
    assert [d.data for d in docs] == [{"a": 1}]
    assert [p.code for p in problems] == ["W001"]
