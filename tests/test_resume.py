"""`stance score --resume` goes on only with the inputs and settings its run began with; a run never reads its own output."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from stance.run.local import OutputCompleteError, OutputExistsError, score_collection
from stance.run.options import ScoreOptions
from stance.run.resume import InputState


class Interrupted(Exception):
    pass


def options(model_dir, **kw) -> ScoreOptions:
    return ScoreOptions(model=str(model_dir), use_ner=False, shard_articles=2, chunk_articles=2, **kw)


def folder_of_articles(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"{i:04d}.txt").write_text(f"Canada and Mexico met on day {i}. Critics say nothing changed.\n")
    return root


def interrupted_run(inputs, out, opts, after_commits: int = 1) -> None:
    """A run stopped (as by a crash) once ``after_commits`` shards are committed."""
    calls = 0

    def stop(articles: int, sentences: int) -> None:
        nonlocal calls
        calls += 1
        if calls > after_commits:
            raise Interrupted

    with pytest.raises(Interrupted):
        score_collection([str(i) for i in inputs], out, opts, on_progress=stop)
    assert not out.exists() and Path(str(out) + ".parts").exists()


def test_a_file_added_to_a_folder_stops_the_resume_instead_of_skipping_it(tmp_path, tiny_model_dir):
    """Before, the new file's article was never scored and the article after the committed point was scored twice."""
    news = folder_of_articles(tmp_path / "news", 6)
    out = tmp_path / "out.parquet"
    interrupted_run([news], out, options(tiny_model_dir))
    (news / "0000a.txt").write_text("A new article about Canada.\n")
    with pytest.raises(OutputExistsError, match=r"input files changed since the run began \(1 file added \(.*0000a\.txt\)\)"):
        score_collection([str(news)], out, options(tiny_model_dir), resume=True)
    (news / "0000a.txt").unlink()
    summary = score_collection([str(news)], out, options(tiny_model_dir), resume=True)  # as it was: goes on
    assert summary.resumed_records == 2 and summary.articles_scored == 6
    assert sorted(pd.read_parquet(out)["doc_id"].unique()) == [f"{i:04d}" for i in range(6)]


def test_a_file_rewritten_in_place_with_its_size_and_time_is_caught_by_the_last_committed_record(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"doc{i}", "text": f"Canada spoke on day {i}."}) for i in range(6)]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    interrupted_run([src], out, options(tiny_model_dir))
    stat = src.stat()
    src.write_text(src.read_text().replace('"doc1"', '"docX"'))  # same size
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(OutputExistsError, match=r"committed record 2 was \[.*'doc1'\], and is now \[.*'docX'\]"):
        score_collection([str(src)], out, options(tiny_model_dir), resume=True)


def test_other_settings_are_named_when_a_resume_is_refused(tmp_path, tiny_model_dir):
    news = folder_of_articles(tmp_path / "news", 4)
    out = tmp_path / "out.parquet"
    interrupted_run([news], out, options(tiny_model_dir))
    with pytest.raises(OutputExistsError, match=r"max_chars \(1000000 then, 500 now\)"):
        score_collection([str(news)], out, options(tiny_model_dir, max_chars=500), resume=True)


def test_the_requested_backend_not_the_decided_one_is_what_resume_compares():
    """One worker decided "auto" before the run began, more workers after: the same run looked like another."""
    asked, decided = ScoreOptions(), ScoreOptions(backend="openvino", requested_backend="auto")
    assert asked.fingerprint(["a"], Path("o.parquet")) == decided.fingerprint(["a"], Path("o.parquet"))
    assert ScoreOptions(backend="torch").fingerprint(["a"], Path("o.parquet")) != asked.fingerprint(["a"], Path("o.parquet"))


def test_resume_on_a_finished_output_whose_inputs_grew_is_refused_not_a_silent_no_op(tmp_path, tiny_model_dir):
    """A folder scored nightly with --resume: the second night said "complete" and never scored the new files."""
    news = folder_of_articles(tmp_path / "news", 3)
    out = tmp_path / "out.parquet"
    score_collection([str(news)], out, options(tiny_model_dir))
    with pytest.raises(OutputCompleteError):
        score_collection([str(news)], out, options(tiny_model_dir), resume=True)
    (news / "0003.txt").write_text("Mexico replied.\n")
    with pytest.raises(OutputExistsError, match="is complete, but its input files changed since") as refused:
        score_collection([str(news)], out, options(tiny_model_dir), resume=True)
    assert not isinstance(refused.value, OutputCompleteError)


def test_an_output_inside_an_input_folder_is_not_read_back_as_input(tmp_path, tiny_model_dir):
    news = folder_of_articles(tmp_path / "news", 3)
    out = news / "scores.jsonl"  # its errors file, news/scores.errors.jsonl, is JSONL too
    first = score_collection([str(news)], out, options(tiny_model_dir))
    again = score_collection([str(news)], out, options(tiny_model_dir), overwrite=True)
    assert first.articles_read == again.articles_read == 3 and again.errors == 0
    assert InputState.of([str(news)]).files != InputState.of([str(news)], [out.resolve()]).files


def test_an_errors_file_in_a_folder_not_yet_made_is_written_there(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine."}) + "\n" + json.dumps({"id": "b"}) + "\n")
    errors = tmp_path / "logs" / "run1" / "errors.jsonl"
    summary = score_collection([str(src)], tmp_path / "out.parquet", options(tiny_model_dir), errors_path=errors)
    assert summary.errors == 1 and json.loads(errors.read_text())["id"] == "b"


def test_drop_field_leaves_a_large_input_field_off_every_row(tmp_path, tiny_model_dir):
    """A 280 KB `html` field was copied onto each of an article's sentence rows (an 865 MB CSV of one article)."""
    from typer.testing import CliRunner

    from stance.cli.main import app

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine. Mexico too.", "html": "<p>" * 1000, "desk": "World"}) + "\n")
    out = tmp_path / "out.jsonl"
    base = ["score", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"]
    r = CliRunner().invoke(app, [*base, "--drop-field", "html"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all("html" not in row and row["desk"] == "World" for row in rows)
    r = CliRunner().invoke(app, [*base, "--drop-field", "text", "--overwrite"])
    assert r.exit_code == 2 and "--drop-field cannot drop text" in r.output


def test_an_input_field_named_like_an_output_column_is_kept_with_a_prefix(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    row = {"id": "a", "text": "Canada is fine.", "section": "Politics", "start": 3, "input_section": "World"}
    src.write_text(json.dumps(row) + "\n")
    score_collection([str(src)], tmp_path / "out.parquet", options(tiny_model_dir))
    row = pd.read_parquet(tmp_path / "out.parquet").iloc[0]
    assert row["section"] == "body" and row["input_section"] == "Politics" and row["input_start"] == "3"
    assert row["input_input_section"] == "World", "a field already named input_section is kept too"


def test_a_csv_output_carries_a_field_longer_than_the_csv_module_default(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine.", "html": "<p>" + "x" * 200_000}) + "\n")
    csv.field_size_limit(131072)  # the module's default, which merging the shards hit (reading a CSV input raised it)
    score_collection([str(src)], tmp_path / "out.csv", options(tiny_model_dir))
    assert len(pd.read_csv(tmp_path / "out.csv")["html"][0]) == 200_003
