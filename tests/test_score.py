"""`stance score`: input formats, bad records, exactly-once output, resume after kill -9, offsets."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from stance.cli.main import app
from stance.run.local import OutputExistsError, score_collection
from stance.run.options import ScoreOptions
from tests.sample_articles import ARTICLES


def score(tmp_path, inputs, out_name="out.parquet", model_dir=None, **kw):
    options = ScoreOptions(model=str(model_dir), use_ner=False, shard_articles=kw.pop("shard_articles", 2), **kw)
    return score_collection([str(i) for i in inputs], tmp_path / out_name, options)


def write_jsonl(path: Path, objs) -> Path:
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs), encoding="utf-8")
    return path


def test_rows_offsets_and_schema(tmp_path, tiny_model_dir):
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    summary = score(tmp_path, [src], model_dir=tiny_model_dir)
    assert summary.articles_scored == 3 and summary.errors == 0
    df = pd.read_parquet(tmp_path / "out.parquet")
    assert list(df.columns[:9]) == [
        "doc_id",
        "sentence_id",
        "start",
        "end",
        "text",
        "section",
        "boilerplate",
        "mentions",
        "devices",
    ]
    assert {"outlet", "date", "topic"} <= set(df.columns)
    by_id = {a["id"]: a for a in ARTICLES}
    for _, row in df.iterrows():
        art = by_id[row.doc_id]
        source = art["title"] if row.section == "title" else art["text"]
        assert source[row.start : row.end] == row.text
        for m in row.mentions:
            assert row.text[m["start"] : m["end"]] == m["text"]
            assert m["stance"] in ("negative", "neutral", "positive")
            assert abs(sum(m["probs"].values()) - 1) < 1e-3
        for d in row.devices:
            assert row.text[d["start"] : d["end"]] == d["text"]
    a1 = df[df.doc_id == "a1"].sort_values("sentence_id")
    assert list(a1.sentence_id) == list(range(len(a1)))
    assert a1.iloc[0].section == "title"
    actors = {m["actor"] for ms in df.mentions for m in ms}
    assert {"Russia", "China"} <= actors  # the Kremlin, Beijing via the registry
    assert json.loads(df[df.doc_id == "a2"].iloc[0].topic) == {"name": "trade"}
    run = json.loads(next(tmp_path.glob("*.run.json")).read_text())
    assert run["counts"]["articles_scored"] == 3 and run["registry_hash"] and run["model"]["version"]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet", "txt-dir", "html-dir"])
def test_input_formats(tmp_path, tiny_model_dir, fmt):
    rows = [{k: v for k, v in a.items() if k in ("id", "text", "outlet")} for a in ARTICLES]
    if fmt == "jsonl":
        inputs = [write_jsonl(tmp_path / "in.jsonl", rows)]
    elif fmt == "json":
        (tmp_path / "in.json").write_text(json.dumps(rows))
        inputs = [tmp_path / "in.json"]
    elif fmt == "csv":
        pd.DataFrame(rows).to_csv(tmp_path / "in.csv", index=False)
        inputs = [tmp_path / "in.csv"]
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
        inputs = [tmp_path / "in.parquet"]
    else:
        d = tmp_path / "docs"
        d.mkdir()
        for r in rows:
            if fmt == "txt-dir":
                (d / f"{r['id']}.txt").write_text(r["text"])
            else:
                paras = "".join(f"<p>{p}</p>" for p in r["text"].split("\n") if p.strip())
                (d / f"{r['id']}.html").write_text(
                    f"<html><head><title>T {r['id']}</title></head><body><nav>Home | World</nav><article>{paras}</article>"
                    "<footer>Subscribe to our newsletter</footer></body></html>"
                )
        inputs = [d]
    summary = score(tmp_path, inputs, model_dir=tiny_model_dir)
    assert summary.errors == 0, (tmp_path / "out.errors.jsonl").read_text()
    df = pd.read_parquet(tmp_path / "out.parquet")
    assert sorted(df.doc_id.unique()) == ["a1", "a2", "a3"]
    if fmt == "html-dir":
        assert not df.text.str.contains("Subscribe|Home \\| World").any()


def test_stdin_input(tmp_path, tiny_model_dir):
    data = "".join(json.dumps(a) + "\n" for a in ARTICLES)
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "stance.cli.main", "score", "-", "--out", str(out), "--model", str(tiny_model_dir), "--no-ner"],
        input=data,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["doc_id"] for r in rows} == {"a1", "a2", "a3"}


def test_bad_records_go_to_errors_exactly_once(tmp_path, tiny_model_dir):
    good = ARTICLES
    lines = [json.dumps(a) for a in good] + [
        '{"id": "broken", "text": "no closing brace"',
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps({"id": "notext"}),
        json.dumps({"id": "ctrl", "text": "Bad \x00 byte in text."}),
        json.dumps({"id": "huge", "text": "word " * 3000}),
        json.dumps({"id": "a1", "text": "A duplicate id."}),
        json.dumps(["not", "an", "object"]),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "latin", "text": "caf\xe9"}\n')
    summary = score(tmp_path, [src], model_dir=tiny_model_dir, max_chars=10_000)
    errors = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    reasons = {e["line"]: e["reason"] for e in errors}
    assert summary.articles_read == 11 and summary.articles_scored == 3 and summary.errors == 8
    assert "malformed JSON" in reasons[4]
    assert "missing or empty 'text'" in reasons[5] and "missing or empty 'text'" in reasons[6]
    assert "control character" in reasons[7]
    assert "over the limit" in reasons[8]
    assert "duplicate id 'a1'" in reasons[9]
    assert "expected a JSON object" in reasons[10]
    assert "invalid UTF-8" in reasons[11]
    assert all(e["source"] == str(src) for e in errors)
    df = pd.read_parquet(tmp_path / "out.parquet")
    assert sorted(df.doc_id.unique()) == ["a1", "a2", "a3"]
    assert df[df.doc_id == "a1"].text.str.contains("duplicate").sum() == 0


def test_unreadable_path_and_unknown_format_exit_2(tmp_path, tiny_model_dir):
    runner = CliRunner()
    r = runner.invoke(app, ["score", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.parquet")])
    assert r.exit_code == 2 and "no such file" in r.output
    (tmp_path / "data.xml").write_text("<x/>")
    r = runner.invoke(app, ["score", str(tmp_path / "data.xml"), "--out", str(tmp_path / "o.parquet")])
    assert r.exit_code == 2 and "unknown format" in r.output
    r = runner.invoke(app, ["score", str(tmp_path / "data.xml"), "--out", str(tmp_path / "o.txt")])
    assert r.exit_code == 2


def test_output_formats_agree(tmp_path, tiny_model_dir):
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    score(tmp_path, [src], "p.parquet", model_dir=tiny_model_dir)
    score(tmp_path, [src], "j.jsonl", model_dir=tiny_model_dir)
    score(tmp_path, [src], "c.csv", model_dir=tiny_model_dir)
    p = pd.read_parquet(tmp_path / "p.parquet")
    j = pd.read_json(tmp_path / "j.jsonl", lines=True)
    c = pd.read_csv(tmp_path / "c.csv")
    assert list(p.text) == list(j.text) == list(c.text)
    assert [len(m) for m in p.mentions] == [len(m) for m in j.mentions] == [len(json.loads(m)) for m in c.mentions]


def test_a_second_output_of_the_same_stem_is_refused_not_given_the_first_ones_files(tmp_path, tiny_model_dir):
    """scores.parquet and scores.csv would share scores.run.json and scores.errors.jsonl: `stance compare` then
    read the second run's model for the first output's scores."""
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES[:2])
    score(tmp_path, [src], "o.parquet", model_dir=tiny_model_dir)
    record = (tmp_path / "o.run.json").read_text()
    with pytest.raises(OutputExistsError, match=r"is the run record of .*o\.parquet.*e\.g\. --out .*o_csv\.csv"):
        score(tmp_path, [src], "o.csv", model_dir=tiny_model_dir)
    assert (tmp_path / "o.run.json").read_text() == record and not (tmp_path / "o.csv").exists()
    options = ScoreOptions(model=str(tiny_model_dir), use_ner=False)
    score_collection([str(src)], tmp_path / "o.parquet", options, overwrite=True)  # its own record: no refusal
    (tmp_path / "o.parquet").unlink()  # the other output gone: its leftover record is no one's
    score(tmp_path, [src], "o.csv", model_dir=tiny_model_dir)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "gpu7"], "--device 'gpu7' is not a device"),
        (["--resume", "--overwrite"], "--resume and --overwrite contradict"),
        (["--address", "auto"], "--address and --actors-per-node are for --engine ray"),
        (["--actors-per-node", "3"], "--address and --actors-per-node are for --engine ray"),
    ],
)
def test_options_that_cannot_work_are_refused_before_anything_is_written(tmp_path, tiny_model_dir, extra, message):
    """A bad --device failed in the workers after OUT.parts/ was made (the corrected command was then refused);
    Ray's options were ignored by the local engine; --resume --overwrite silently overwrote."""
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES[:1])
    out = tmp_path / "o.jsonl"
    args = ["score", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1", *extra]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and message in " ".join(r.output.split()), r.output
    assert not list(tmp_path.glob("o.*")), "nothing written"


def test_existing_output_needs_resume_or_overwrite(tmp_path, tiny_model_dir):
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    score(tmp_path, [src], model_dir=tiny_model_dir)
    with pytest.raises(OutputExistsError):
        score(tmp_path, [src], model_dir=tiny_model_dir)


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(x) for x in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting to be reaped has exited)."""
    try:
        return "\tZ" not in Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return False


def test_kill_9_then_resume_is_exactly_once(tmp_path, tiny_model_dir):
    n = 600
    articles = [
        {"id": f"doc{i}", "text": f"Moscow and Beijing met on day {i}. The EU said talks went well. Critics say nothing changed."}
        for i in range(n)
    ]
    src = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / "out.parquet"
    cmd = [
        sys.executable,
        "-m",
        "stance.cli.main",
        "score",
        str(src),
        "--out",
        str(out),
        "--model",
        str(tiny_model_dir),
        "--no-ner",
        "--shard-size",
        "5",
        "--batch-size",
        "8",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = Path(str(out) + ".parts") / "manifest.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text())["shards"]) >= 2:
            break
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "the run was killed before it finished"
    linux = Path("/proc/self/task").is_dir()  # child processes are read from Linux /proc
    assert workers or not linux, "the run scores with worker processes (one per core)"
    deadline = time.time() + 20  # the orphaned workers notice within a second or two and exit, freeing their models
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the killed run"
    done = len(json.loads(manifest.read_text())["shards"])
    assert 2 <= done < n // 5
    result = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    df = pd.read_parquet(out)
    per_doc = df.groupby("doc_id").sentence_id.apply(list)
    assert sorted(per_doc.index) == sorted(a["id"] for a in articles)
    assert all(ids == list(range(len(ids))) for ids in per_doc)  # no sentence twice
    run = json.loads(next(tmp_path.glob("*.run.json")).read_text())
    assert run["counts"]["resumed_records"] == done * 5
    assert run["counts"]["articles_read"] == n


def test_parquet_metadata_of_any_type_is_carried_as_text(tmp_path, tiny_model_dir):
    """Parquet input may hold dates, timestamps, decimals and lists: carried through as text, never a crash."""
    import datetime
    import decimal

    table = pa.table(
        {
            "id": ["p1", "p2"],
            "text": ["Moscow slammed the plan.", "Berlin hailed the plan."],
            "date": [datetime.date(2025, 3, 4), datetime.date(2025, 3, 5)],
            "seen": [datetime.datetime(2025, 3, 4, 10, 30), None],
            "price": [decimal.Decimal("1.50"), decimal.Decimal("2.00")],
            "tags": [["a", "b"], []],
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    summary = score(tmp_path, [tmp_path / "in.parquet"], model_dir=tiny_model_dir)
    assert summary.articles_scored == 2 and summary.errors == 0
    df = pd.read_parquet(tmp_path / "out.parquet").set_index("doc_id")
    assert (
        df.loc["p1", "date"] == "2025-03-04" and df.loc["p1", "seen"] == "2025-03-04 10:30:00" and pd.isna(df.loc["p2", "seen"])
    )
    assert df.loc["p1", "price"] == "1.50" and json.loads(df.loc["p1", "tags"]) == ["a", "b"]


def test_a_worker_that_cannot_load_the_model_stops_the_run(tmp_path, tiny_model_dir):
    """A pool initializer that raises would be restarted forever; the run must stop with the reason."""
    import shutil

    from stance.run.local import WorkerStartError, score_collection
    from stance.run.options import ScoreOptions

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "tokenizer_config.json").write_text("{")  # the checks at the start pass; it fails to load in a worker
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Moscow said no."}) + "\n")
    with pytest.raises(WorkerStartError, match="could not load the scoring pipeline"):
        score_collection(
            [str(src)], tmp_path / "out.parquet", ScoreOptions(model=str(broken), workers=2, use_ner=False, backend="torch")
        )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_folder_that_is_no_stance_model_stops_the_run_before_it_writes(tmp_path, tiny_model_dir, workers):
    """The reason, exit code 2, and no OUT.parts/ left behind (the same command runs again once the model is fixed)."""
    import shutil

    broken = tmp_path / "noconfig"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "config.json").unlink()
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES[:1])
    out = tmp_path / "out.jsonl"
    args = ["score", str(src), "--out", str(out), "--model", str(broken), "--no-ner", "--workers", workers, "--backend", "torch"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "no config.json" in r.output.replace("\n", " "), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert not out.exists() and not (tmp_path / "out.jsonl.parts").exists()
    shutil.copy(tiny_model_dir / "config.json", broken / "config.json")
    assert CliRunner().invoke(app, args).exit_code == 0


def test_worker_run_writes_the_same_rows_and_names_the_backend_alike(tmp_path, tiny_model_dir):
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}" / "out.jsonl"
        score_collection(
            [str(src)], out, ScoreOptions(model=str(tiny_model_dir), workers=workers, use_ner=False, backend="torch")
        )
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        keys = [(r["doc_id"], r["sentence_id"], r["text"], [(m["actor"], m["start"]) for m in r["mentions"]]) for r in rows]
        run_json = json.loads((out.parent / "out.run.json").read_text())
        runs[workers] = (keys, run_json["model"]["backend"])
        assert run_json["timings"]["stages"]["model"] > 0, "the workers' stage times are recorded too"
    assert runs[1][0] == runs[2][0]
    assert runs[1][1] == runs[2][1] and runs[1][1].startswith("torch-")


def test_a_dateline_place_and_agency_are_not_mentions(tiny_model):
    """Wire copy starts nearly every story with a dateline: its place and agency must not become
    stance mentions (a capital there would otherwise count as its state in every article)."""
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import StanceScorer

    scorer = StanceScorer(tiny_model, ActorFinder())
    articles = [
        "MOSCOW (Reuters) - The Kremlin rejected the plan. Moscow later softened.",
        "Moscow (Reuters) - The Kremlin rejected the plan.",
        "Daily Wire Online\n\nWASHINGTON, Jan. 5 (AP) — Biden met Xi Jinping.",
        "NATO - the alliance's chief said Russia was to blame.",  # not a dateline: a leading organisation
        "The Kremlin (Reuters) said no.",
    ]
    found = [[(m.actor, m.text) for row in scorer.score(text) for m in row.mentions] for text in articles]
    assert found[0] == [("Russia", "Kremlin"), ("Russia", "Moscow")]
    assert found[1] == [("Russia", "Kremlin")]
    assert found[2] == [("Joe Biden", "Biden"), ("Xi Jinping", "Xi Jinping")]
    assert found[3] == [("NATO", "NATO"), ("Russia", "Russia")]
    assert ("Russia", "Kremlin") in found[4]


def test_a_mention_past_the_models_cut_gets_a_stance_from_a_window(tiny_model):
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import StanceScorer

    scorer = StanceScorer(tiny_model, ActorFinder(use_ner=False))
    filler = " ".join(["that went on and on about many things"] * 30)
    text = f"In a statement {filler}, officials said Russia was to blame."
    [row] = scorer.score(text)
    [mention] = [m for m in row.mentions if m.actor == "Russia"]
    assert mention.start > 300  # far past the tiny model's 64 tokens
    assert row.text[mention.start : mention.end] == "Russia"
    assert mention.stance in ("negative", "neutral", "positive")
    assert sum(mention.probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_files_in_a_folder_of_outlets_keep_apart_by_their_relative_path(tmp_path):
    from stance.io.readers import iter_inputs

    for outlet in ("herald", "ledger"):
        (tmp_path / "outlets" / outlet).mkdir(parents=True)
        (tmp_path / "outlets" / outlet / "0001.txt").write_text(f"The {outlet} reports that Canada is fine.")
    items = list(iter_inputs([str(tmp_path / "outlets")]))
    assert [getattr(i, "id", None) for i in items] == ["herald/0001", "ledger/0001"]
    assert not [i for i in items if hasattr(i, "reason")]
    [single] = list(iter_inputs([str(tmp_path / "outlets" / "herald" / "0001.txt")]))
    assert single.id == "0001"


def test_a_text_that_is_not_a_string_is_named_as_such():
    from stance.io.readers import validate_record

    assert validate_record({"id": "a", "text": 12345}, set()).reason == "'text' is not a string (got int)"
    assert validate_record({"id": "b"}, set()).reason == "missing or empty 'text'"


def test_two_outputs_in_one_folder_keep_their_own_run_metadata(tmp_path, tiny_model_dir):
    from stance.run.local import score_collection
    from stance.run.options import ScoreOptions
    from stance.run.record import run_metadata_path

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a1", "text": "Canada is fine."}) + "\n")
    for name in ("first.jsonl", "second.parquet"):
        score_collection(
            [str(src)], tmp_path / name, ScoreOptions(model=str(tiny_model_dir), workers=1, use_ner=False, backend="torch")
        )
    assert run_metadata_path(tmp_path / "first.jsonl").name == "first.run.json"
    first = json.loads((tmp_path / "first.run.json").read_text())
    second = json.loads((tmp_path / "second.run.json").read_text())
    assert first["output"].endswith("first.jsonl") and second["output"].endswith("second.parquet")
    assert not (tmp_path / "run.json").exists()


def test_an_empty_input_or_one_where_every_record_fails_exits_non_zero(tmp_path, tiny_model_dir):
    from stance.cli.main import app

    runner = CliRunner()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = runner.invoke(
        app,
        ["score", str(empty), "--out", str(tmp_path / "a.jsonl"), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"],
    )
    assert r.exit_code == 2 and "no input records" in r.output
    assert not list(tmp_path.glob("a.*")), "nothing is written, so the next run is not refused"
    assert "done" not in r.output and "loading the model" not in r.output  # stopped before loading it
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "text": ""}) + "\n" + json.dumps({"id": "b", "text": 5}) + "\n")
    r = runner.invoke(
        app, ["score", str(bad), "--out", str(tmp_path / "b.jsonl"), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"]
    )
    assert r.exit_code == 1 and "every one of the 2 input records failed" in r.output.replace("\n", " ")


def test_resume_on_a_finished_run_says_it_is_complete_and_exits_0(tmp_path, tiny_model_dir):
    from stance.cli.main import app

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine."}) + "\n")
    args = ["score", str(src), "--out", str(tmp_path / "o.jsonl"), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0
    before = (tmp_path / "o.jsonl").read_text()
    r = runner.invoke(app, [*args, "--resume"])
    assert r.exit_code == 0 and "is complete" in r.output and "use --resume" not in r.output
    assert (tmp_path / "o.jsonl").read_text() == before
    r = runner.invoke(app, args)  # without --resume: still refuses to overwrite
    assert r.exit_code == 2 and "--overwrite" in r.output


def test_text_files_in_another_encoding_are_read_with_encoding(tmp_path, tiny_model_dir):
    from stance.cli.main import app
    from stance.io.readers import iter_inputs

    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "old.txt").write_bytes("Le ministre français a visité Montréal – « enfin ».".encode("cp1252"))
    [err] = list(iter_inputs([str(folder)]))
    assert "invalid UTF-8" in err.reason and "--encoding" in err.reason
    [article] = list(iter_inputs([str(folder)], encoding="cp1252"))
    assert article.text.startswith("Le ministre français") and "«" in article.text
    with pytest.raises(ValueError, match="unknown text encoding"):
        list(iter_inputs([str(folder)], encoding="klingon"))
    runner = CliRunner()
    out = tmp_path / "o.jsonl"
    r = runner.invoke(
        app,
        [
            "score",
            str(folder),
            "--out",
            str(out),
            "--model",
            str(tiny_model_dir),
            "--no-ner",
            "--workers",
            "1",
            "--encoding",
            "cp1252",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "français" in out.read_text(encoding="utf-8")
    r = runner.invoke(app, ["score", str(folder), "--out", str(tmp_path / "p.jsonl"), "--encoding", "klingon"])
    assert r.exit_code == 2 and "unknown text encoding" in r.output


def test_a_bad_article_in_a_python_batch_comes_back_as_an_error_and_the_rest_are_scored(tiny_model):
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import StanceScorer

    scorer = StanceScorer(tiny_model, ActorFinder(use_ner=False))
    result = scorer.score(["Canada is fine.", "", {"id": "x", "text": 5}])
    assert [r.doc_id for r in result] == ["0"]
    assert [(e.line, e.id) for e in result.errors] == [(1, None), (2, "x")]
    assert "empty" in result.errors[0].reason and "not a string" in result.errors[1].reason
    with pytest.raises(ValueError, match="empty"):
        scorer.score("")  # a single article in: its error raised


def test_a_title_case_headline_on_the_first_line_of_a_text_file_is_scored_as_its_title(tmp_path, tiny_model):
    from stance.io.readers import iter_inputs
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import StanceScorer

    (tmp_path / "oped.txt").write_text(
        "Ottawa's Dairy Cartel Must Finally Fall\n\nCanada protects its dairy farmers with quotas.\n"
    )
    (tmp_path / "dated.txt").write_text("March 3, 2025\n\nCanada protects its dairy farmers with quotas.\n")
    articles = {a.id: a for a in iter_inputs([str(tmp_path)])}
    assert articles["oped"].title == "Ottawa's Dairy Cartel Must Finally Fall"
    assert articles["oped"].text.startswith("Canada protects")
    assert articles["dated"].title is None
    rows = StanceScorer(tiny_model, ActorFinder(use_ner=False)).score_articles([articles["oped"]])[0]
    assert (rows[0].section, rows[0].text, rows[0].boilerplate) == ("title", "Ottawa's Dairy Cartel Must Finally Fall", False)
    assert rows[1].section == "body" and rows[1].text == articles["oped"].text[rows[1].start : rows[1].end]


def test_metadata_for_files_and_columns_for_tables(tmp_path, tiny_model_dir):
    from stance.cli.main import app
    from stance.io.readers import iter_inputs

    for outlet in ("herald", "ledger"):
        (tmp_path / "news" / outlet).mkdir(parents=True)
        (tmp_path / "news" / outlet / "a.txt").write_text(f"The {outlet} says Canada is fine.")
    items = list(iter_inputs([str(tmp_path / "news")], meta={"country": "CA", "outlet": "ignored"}, outlet_from="parent"))
    assert [(a.id, a.meta["outlet"], a.meta["country"]) for a in items] == [
        ("herald/a", "herald", "CA"),
        ("ledger/a", "ledger", "CA"),
    ]
    # a CSV whose text is in another column: chosen with --text-column / --id-column; without, exit 2 naming the columns
    table = tmp_path / "t.csv"
    table.write_text("key,body,paper\nk1,Canada is fine.,Herald\n")
    runner = CliRunner()
    base = ["score", str(table), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"]
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "o1.jsonl")])
    assert r.exit_code == 2 and "'text'" in r.output and "'body'" in r.output.replace("\n", "")
    r = runner.invoke(
        app, [*base, "--out", str(tmp_path / "o2.jsonl"), "--text-column", "body", "--id-column", "key", "--meta", "lang=en"]
    )
    assert r.exit_code == 0, r.output
    [row] = [json.loads(x) for x in (tmp_path / "o2.jsonl").read_text().splitlines()]
    assert (row["doc_id"], row["paper"], row["lang"]) == ("k1", "Herald", "en")
    r = runner.invoke(
        app, [*base, "--out", str(tmp_path / "o3.jsonl"), "--text-column", "body", "--id-column", "key", "--meta", "nonsense"]
    )
    assert r.exit_code == 2 and "FIELD=VALUE" in r.output


def test_html_metadata_is_carried(tmp_path):
    from stance.io.readers import iter_inputs

    page = (
        "<html><head><title>Ottawa acts</title><meta name='author' content='Jane Doe'>"
        "<meta property='og:site_name' content='The Harbour Ledger'>"
        "<meta property='article:published_time' content='2025-03-04'></head>"
        "<body><article><h1>Ottawa acts</h1><p>"
        + "Canada said on Tuesday that it would act on dairy quotas soon. " * 5
        + "</p></article></body></html>"
    )
    (tmp_path / "p.html").write_text(page)
    [article] = list(iter_inputs([str(tmp_path / "p.html")]))
    assert article.meta.get("date") == "2025-03-04"
    assert article.meta.get("author") == "Jane Doe" and article.meta.get("site_name") == "The Harbour Ledger"
    # a page without a dated tag gets no date: not one made up from its copyright line
    (tmp_path / "q.html").write_text(
        "<html><body><article><p>"
        + "Canada said it would act. " * 5
        + "</p></article><footer>Copyright 2025</footer></body></html>"
    )
    [undated] = list(iter_inputs([str(tmp_path / "q.html")]))
    assert "date" not in undated.meta


def test_probabilities_have_four_decimals_in_every_output_format(tmp_path, tiny_model_dir):
    from stance.run.local import score_collection
    from stance.run.options import ScoreOptions

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a1", "text": "Russia accused Ukraine of shelling. Beijing hailed the deal."}) + "\n")
    values = {}
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"o_{suffix}.{suffix}"  # one name per output: run records and errors files are named from it
        score_collection([str(src)], out, ScoreOptions(model=str(tiny_model_dir), workers=1, use_ner=False, backend="torch"))
        if suffix == "parquet":
            mentions = [m for ms in pd.read_parquet(out).mentions for m in ms]
        elif suffix == "csv":
            mentions = [m for ms in pd.read_csv(out).mentions for m in json.loads(ms)]
        else:
            mentions = [m for line in out.read_text().splitlines() for m in json.loads(line)["mentions"]]
        values[suffix] = [float(p) for m in mentions for p in m["probs"].values()]
        assert values[suffix] and all(round(p, 4) == p for p in values[suffix]), (suffix, values[suffix][:3])
    assert values["csv"] == values["jsonl"] == values["parquet"]


def test_a_mistyped_model_name_fails_at_once_saying_how_it_was_read(tmp_path, monkeypatch):
    from stance.cli.main import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine."}) + "\n")
    started = time.perf_counter()
    r = CliRunner().invoke(app, ["score", str(src), "--out", str(tmp_path / "o.jsonl"), "--model", "defualt"])
    assert r.exit_code == 2
    text = r.output.replace("\n", " ")
    assert "not a local model directory" in text and "hub id" in text and "HF_HUB_OFFLINE" in text
    assert time.perf_counter() - started < 10
    assert not (tmp_path / "o.jsonl").exists()


def test_a_second_run_on_the_same_output_is_refused_with_a_message(tmp_path, tiny_model_dir):
    from stance.cli.main import app
    from stance.run.local import output_lock

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Canada is fine."}) + "\n")
    out = tmp_path / "o.jsonl"
    args = ["score", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--no-ner", "--workers", "1"]
    with output_lock(out):  # as a first run holds it
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "another run is writing" in r.output
    assert "Traceback" not in r.output and not out.exists()
    assert CliRunner().invoke(app, args).exit_code == 0  # the lock is gone with the first run
    assert not (tmp_path / "o.jsonl.lock").exists()


def test_malformed_json_says_where_once(tmp_path):
    """ "Unterminated string starting at" must not become "starting at at column"."""
    from stance.io.readers import iter_inputs
    from stance.io.records import InputError
    from stance.labels.check import validate_label_file

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": "oops}\n')
    reasons = [item.reason for item in iter_inputs([str(src)]) if isinstance(item, InputError)]
    assert (
        len(reasons) == 1
        and reasons[0].startswith("malformed JSON (")
        and " at column " in reasons[0]
        and "at at" not in reasons[0]
    )
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"text": "oops}\n')
    problems = [p.message for p in validate_label_file(labels)]
    assert any(" at column " in m for m in problems) and not any("at at" in m for m in problems)


def test_the_model_is_pinned_once_and_resume_refuses_another(tmp_path, tiny_model_dir):
    """`--model active` is resolved at the start into a directory and version that the fingerprint, the
    workers and run.json use; resuming with another model (e.g. after a promotion) is refused by name."""
    import shutil

    from stance.run.local import score_collection
    from stance.run.options import ScoreOptions, pin_model

    pinned = pin_model(ScoreOptions(model=str(tiny_model_dir)))
    assert pinned.model == str(tiny_model_dir.resolve()) and pinned.model_version and pinned.model_name == str(tiny_model_dir)
    assert pin_model(pinned) == pinned
    default = pin_model(ScoreOptions(model="default"))
    assert default.model_name == "default" and Path(default.model).name == "default"
    other = tmp_path / "other-model"
    shutil.copytree(tiny_model_dir, other)
    weights = next(p for p in other.iterdir() if p.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)  # another version of the model
    assert pin_model(ScoreOptions(model=str(other))).model_version != pinned.model_version
    assert pinned.fingerprint(["x"], tmp_path / "o.jsonl") != pin_model(ScoreOptions(model=str(other))).fingerprint(
        ["x"], tmp_path / "o.jsonl"
    )
    assert pinned.fingerprint(["x"], tmp_path / "o.jsonl") != replace(pinned, backend="onnx-int8").fingerprint(
        ["x"], tmp_path / "o.jsonl"
    )

    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    out = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    label = f"{pinned.model} (version {pinned.model_version})"
    (parts / "manifest.json").write_text(json.dumps({"fingerprint": "an interrupted run", "model": label, "shards": []}))
    with pytest.raises(OutputExistsError, match="would mix two models"):
        score_collection([str(src)], out, ScoreOptions(model=str(other), use_ner=False), resume=True)
    run = score_collection([str(src)], out, ScoreOptions(model=str(tiny_model_dir), use_ner=False), overwrite=True)
    assert run.articles_scored == len(ARTICLES)
    meta = json.loads((tmp_path / "out.run.json").read_text())
    assert meta["model"]["name"] == str(tiny_model_dir) and meta["model"]["version"] == pinned.model_version


GERMAN = (
    "Die Regierung von Wladimir Putin hat am Montag erklärt, dass die Gespräche mit der Ukraine gescheitert seien. "
    "Der Sprecher des Kremls sagte, man werde die Angriffe fortsetzen, bis alle Ziele erreicht seien. Die "
    "Europäische Union kündigte neue Sanktionen an, die in der kommenden Woche in Kraft treten sollen."
)


def test_articles_that_do_not_look_like_english_are_scored_and_named(tmp_path, tiny_model_dir):
    """A new user's trial: a German and a Chinese article were scored as if English, with no word said."""
    chinese = "俄罗斯总统普京周一表示，与乌克兰的谈判已经失败。克里姆林宫发言人说，袭击将继续，直到实现所有目标。" * 3
    src = write_jsonl(tmp_path / "in.jsonl", [*ARTICLES, {"id": "de[/i]", "text": GERMAN}, {"id": "zh", "text": chinese}])
    summary = score(tmp_path, [src], model_dir=tiny_model_dir)
    assert summary.articles_scored == len(ARTICLES) + 2  # scored all the same: never an article lost
    assert summary.not_english == 2 and summary.not_english_ids == ["de[/i]", "zh"]
    run = json.loads((tmp_path / "out.run.json").read_text())
    assert run["counts"]["not_english"] == 2 and run["counts"]["not_english_ids"] == ["de[/i]", "zh"]
    r = CliRunner().invoke(
        app, ["score", str(src), "-o", str(tmp_path / "cli.jsonl"), "--model", str(tiny_model_dir), "--no-ner"]
    )
    # an id that looks like markup ("[/i]") is printed as it is (it crashed the summary line)
    assert r.exit_code == 0 and "2 article(s) do not look like English (e.g. de[/i], zh)" in r.output


def test_looks_english_tells_english_news_from_other_languages():
    from stance.pipeline.language import looks_english

    assert looks_english(" ".join(a["text"] for a in ARTICLES))
    assert not looks_english(GERMAN)
    assert looks_english("Kremlin hails deal.")  # too short to tell: the benefit of the doubt


def test_an_html_page_of_navigation_only_is_an_error_not_an_article(tmp_path):
    """A new user's trial: a page of navigation links was scored as an article whose one sentence was "Home"."""
    from stance.io.readers import iter_inputs
    from stance.io.records import InputError

    (tmp_path / "nav.html").write_text("<html><body><nav>Home</nav></body></html>")
    items = list(iter_inputs([str(tmp_path / "nav.html")]))
    assert len(items) == 1 and isinstance(items[0], InputError)
    assert "only 1 word(s) of article text" in items[0].reason
    # a Chinese article has no spaces between its words: it is an article (and named by the not-English note)
    text = "俄罗斯总统普京周一表示，与乌克兰的谈判已经失败。克里姆林宫发言人说，袭击将继续。" * 3
    (tmp_path / "zh.html").write_text(f"<html><body><article><p>{text}</p></article></body></html>", encoding="utf-8")
    [article] = list(iter_inputs([str(tmp_path / "zh.html")]))
    assert not isinstance(article, InputError)
