"""stance.io's shared pieces: the input-format registry, chunking, atomic writes and the errors file."""

from __future__ import annotations

import io
import json

import pytest

from stance.io.atomic import atomic_path, write_atomic
from stance.io.errors import ERROR_FIELDS, merge_error_files, write_errors
from stance.io.formats import INPUT_FORMATS, SUFFIXES, input_format
from stance.io.lines import binary_lines
from stance.io.readers import chunked, unread_in_folders
from stance.io.records import InputError, InputPathError


def test_the_registry_knows_every_suffix_once_and_the_ray_engine_reads_from_it():
    suffixes = [s for f in INPUT_FORMATS.values() for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)) and set(suffixes) == SUFFIXES
    assert input_format("a/B.NDJSON") is INPUT_FORMATS["jsonl"] and input_format("notes.md") is None
    ray_engine = pytest.importorskip("stance.run.ray_engine")  # needs pyarrow only
    assert ray_engine.RAY_FORMATS == {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def test_binary_lines_are_the_lines_of_a_file(tmp_path):
    data = b'{"a": 1}\n\n{"b": 2}\r\n{"c": 3}'
    (tmp_path / "x.jsonl").write_bytes(data)
    with open(tmp_path / "x.jsonl", "rb") as fh:
        expected = list(fh)
    assert list(binary_lines(io.BytesIO(data), chunk=3)) == expected
    with pytest.raises(ValueError, match="chunk"):
        next(binary_lines(io.BytesIO(data), chunk=0))


def test_chunked():
    assert list(chunked(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        next(chunked([1], 0))


def test_atomic_path_replaces_on_success_and_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "first" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with atomic_path(target, tmp_name=".out.partial") as tmp:
        assert tmp.name == ".out.partial"
        tmp.write_bytes(b"second")
    assert target.read_text() == "second" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with pytest.raises(ValueError, match="tmp_name"), atomic_path(target, tmp_name="sub/x.tmp"):
        pass
    with pytest.raises(ValueError, match="str or bytes"):
        write_atomic(target, {"a": 1})  # type: ignore[arg-type]


def test_errors_file(tmp_path):
    write_errors(
        [InputError("in.jsonl", 2, None, "malformed JSON"), InputError("in.jsonl", 5, "é1", "duplicate id 'é1'")],
        tmp_path / "a.jsonl",
    )
    write_errors([], tmp_path / "b.jsonl")
    write_errors([InputError("more.csv", 3, "x", "missing or empty 'text'")], tmp_path / "c.jsonl")
    merge_error_files([tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"], tmp_path / "all.jsonl")
    text = (tmp_path / "all.jsonl").read_text(encoding="utf-8")
    assert "é1" in text  # UTF-8, not escaped
    rows = [json.loads(line) for line in text.splitlines()]
    assert [tuple(r) for r in rows] == [ERROR_FIELDS] * 3 and [r["line"] for r in rows] == [2, 5, 3]


def test_files_a_folder_does_not_read_are_counted_and_a_folder_with_none_to_read_is_refused(tmp_path):
    news = tmp_path / "news"
    (news / "herald").mkdir(parents=True)
    (news / "herald" / "0001.txt").write_text("A first article.")
    (news / "herald" / "0002.pdf").write_bytes(b"%PDF")
    (news / "meta.csv").write_text("id,text\n1,x\n")
    (news / ".DS_Store").write_bytes(b"")
    assert unread_in_folders([str(news), "-"]) == {str(news): {".csv": 1, ".pdf": 1}}
    (news / "herald" / "0001.txt").unlink()
    with pytest.raises(InputPathError, match="no .htm / .html / .jsonl / .ndjson / .txt file in this folder"):
        unread_in_folders([str(news)])
    assert unread_in_folders([str(news / "meta.csv")]) == {}  # a file given as input is not a folder scan
    (news / ".drafts").mkdir()
    (news / ".drafts" / "0003.txt").write_text("A hidden article is read, so the folder is not refused.")
    assert unread_in_folders([str(news)]) == {str(news): {".csv": 1, ".pdf": 1}}
