"""`stance score --engine ray`: the same rows and errors as the local engine, exactly once after a
worker dies; input listing and CLI checks. Ray runs locally (ray.init(num_cpus=2))."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from stance.cli.main import app
from stance.io.records import Article, InputPathError
from stance.run.local import score_collection
from stance.run.options import ScoreOptions
from stance.run.predictor import RECORD_SCHEMA, ScoringPredictor, records_to_items
from stance.run.ray_engine import (
    ACTOR_MAX_RESTARTS,
    ACTOR_TASK_RETRIES,
    RayConnectError,
    RayOptions,
    RayRunError,
    ScoringActor,
    actor_options,
    batch_that_killed,
    check_out_path,
    keep_committed,
    list_input_files,
    plan_actors,
)
from tests.sample_articles import ARTICLES

BAD_LINES = [
    '{"id": "broken", "text": "no closing brace"',
    json.dumps({"id": "empty", "text": "   "}),
    json.dumps({"id": "ctrl", "text": "Bad \x00 byte in text."}),
    json.dumps({"id": "a1", "text": "A duplicate id in the same file."}),
    json.dumps(["not", "an", "object"]),
]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    pytest.importorskip("ray.data", reason="Ray Data is missing: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def read_sorted(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(["doc_id", "sentence_id"]).reset_index(drop=True)


def errors_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_engines_agree_row_for_row(tmp_path, tiny_model_dir, ray_local):
    from stance.run.ray_engine import score_collection_ray

    first = tmp_path / "in.jsonl"
    first.write_bytes(
        ("\n".join([json.dumps(a) for a in ARTICLES] + BAD_LINES) + "\n").encode() + b'{"id": "latin", "text": "caf\xe9"}\n'
    )
    second = tmp_path / "more.parquet"  # a second file, in Parquet: a new metadata column and a duplicate across files
    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "id": "b1",
                    "text": "Washington welcomed the landmark deal. NATO said little.",
                    "outlet": "Post",
                    "section_name": "world",
                },
                {"id": "a2", "text": "A duplicate of an id from the first file.", "outlet": "Post", "section_name": "world"},
            ]
        ),
        second,
    )
    inputs = [str(first), str(second)]
    options = ScoreOptions(model=str(tiny_model_dir), use_ner=False, shard_articles=3, chunk_articles=3, workers=1)
    local = score_collection(inputs, tmp_path / "local.parquet", options)
    ray_summary = score_collection_ray(inputs, tmp_path / "ray.parquet", options, RayOptions(actors_per_node=2))

    assert (tmp_path / "ray.parquet").is_dir() and not (tmp_path / "ray.parquet.ray-tmp").exists()
    a, b = read_sorted(tmp_path / "local.parquet"), read_sorted(tmp_path / "ray.parquet")
    assert list(a.columns) == list(b.columns)
    assert pq.read_schema(tmp_path / "local.parquet") == pq.read_schema(next((tmp_path / "ray.parquet").glob("part-*.parquet")))
    pd.testing.assert_frame_equal(a, b)
    assert sorted(a.doc_id.unique()) == ["a1", "a2", "a3", "b1"]

    local_errors, ray_errors = errors_of(tmp_path / "local.errors.jsonl"), errors_of(tmp_path / "ray.errors.jsonl")
    assert ray_errors == local_errors  # same records, same reasons, same (input) order
    reasons = {(Path(e["source"]).name, e["line"]): e["reason"] for e in ray_errors}
    assert reasons[("more.parquet", 2)] == "duplicate id 'a2'" and reasons[("in.jsonl", 7)] == "duplicate id 'a1'"
    assert "malformed JSON" in reasons[("in.jsonl", 4)] and "invalid UTF-8" in reasons[("in.jsonl", 9)]

    for field in ("articles_read", "articles_scored", "errors", "sentences", "sentences_scored", "mentions", "devices"):
        assert getattr(ray_summary, field) == getattr(local, field), field
    run = json.loads(next(tmp_path.glob("*.run.json")).read_text())
    assert run["engine"]["name"] == "ray" and run["engine"]["actors"] == 2
    assert run["model"]["backend"] == ray_summary.backend == "torch"  # 'auto' decided once on the driver (no export: torch)
    assert run["counts"]["articles_read"] == 11 and run["counts"]["articles_scored"] == 4


def test_a_dead_worker_is_retried_and_every_article_is_written_once(tmp_path, tiny_model_dir, ray_local):
    from stance.run.ray_engine import score_collection_ray

    flag = tmp_path / "crashed"

    class CrashingPredictor(ScoringPredictor):  # kills its actor process the first time it sees doc7
        def __call__(self, batch):
            if not flag.exists() and any(raw and '"doc7"' in raw for raw in batch.column("raw").to_pylist()):
                flag.touch()
                os._exit(1)
            return super().__call__(batch)

    articles = [{"id": f"doc{i}", "text": f"Moscow and Beijing met on day {i}. The EU said talks went well."} for i in range(24)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(a) + "\n" for a in articles) + '{"id": "bad"}\n')
    options = ScoreOptions(model=str(tiny_model_dir), use_ner=False, chunk_articles=4, shard_articles=4)
    summary = score_collection_ray(
        [str(src)], tmp_path / "out.parquet", options, RayOptions(actors_per_node=2), predictor_cls=CrashingPredictor
    )
    assert flag.exists(), "the worker did not die: the test tested nothing"
    df = pd.read_parquet(tmp_path / "out.parquet")
    per_doc = df.groupby("doc_id").sentence_id.apply(list)
    assert sorted(per_doc.index) == sorted(a["id"] for a in articles)
    assert all(ids == list(range(len(ids))) for ids in per_doc)  # no sentence twice, none missing
    assert summary.articles_scored == 24 and summary.errors == 1 and summary.articles_read == 25
    assert [e["id"] for e in errors_of(tmp_path / "out.errors.jsonl")] == ["bad"]


def test_a_batch_that_keeps_killing_its_actor_stops_the_run(tmp_path, tiny_model_dir, ray_local):
    from stance.run.ray_engine import score_collection_ray

    class KillingPredictor(ScoringPredictor):  # every attempt at doc5's batch kills the actor (as out of memory would)
        def __call__(self, batch):
            if any(raw and '"doc5"' in raw for raw in batch.column("raw").to_pylist()):
                os._exit(1)
            return super().__call__(batch)

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"doc{i}", "text": f"Kyiv spoke on day {i}."}) + "\n" for i in range(8)))
    options = ScoreOptions(model=str(tiny_model_dir), use_ner=False, chunk_articles=4, shard_articles=4)
    with pytest.raises(RayRunError, match=r"starts with article 'doc\d' \(.*in.jsonl, line \d\), started 3 times"):
        score_collection_ray(
            [str(src)], tmp_path / "out.parquet", options, RayOptions(actors_per_node=1), predictor_cls=KillingPredictor
        )
    assert not (tmp_path / "out.parquet").exists()


def test_scoring_actor_names_a_batch_that_never_finishes(tmp_path):
    class Dying:  # stands for an actor process that dies in the middle of a batch
        def __init__(self, **kwargs):
            self.die = kwargs["die"]

        def __call__(self, batch):
            if self.die:
                raise SystemExit
            return batch

    (tmp_path / "started").mkdir()
    batch = pa.Table.from_pylist(
        [{"order": 7, "source": "in.jsonl", "line": 8, "raw": json.dumps({"id": "doc7", "text": "x"}), "error": None}],
        schema=RECORD_SCHEMA,
    )
    assert ScoringActor(Dying, str(tmp_path), die=False)(batch) == batch
    assert not list((tmp_path / "started").iterdir()) and batch_that_killed(tmp_path) is None
    for attempt in range(1 + ACTOR_TASK_RETRIES):
        with pytest.raises(SystemExit):
            ScoringActor(Dying, str(tmp_path), die=True)(batch)
        if attempt == 0:
            assert batch_that_killed(tmp_path) is None  # one attempt: a run stopped for another reason
    assert batch_that_killed(tmp_path) == "article 'doc7' (in.jsonl, line 8), started 3 times"


def test_the_actor_pool_retries_a_bounded_number_of_times():
    pytest.importorskip("ray.data", reason="Ray is an optional extra")
    from stance.run.ray_engine import actor_pool_args

    plan = plan_actors([8.0, 4.0], actors_per_node=2)
    assert (plan.actors, plan.threads, plan.actor_cpus, plan.partitions) == (4, 2, 1.25, 12)
    args = actor_pool_args(plan)
    assert args["max_restarts"] == ACTOR_MAX_RESTARTS == 2 and args["max_task_retries"] == ACTOR_TASK_RETRIES == 2
    assert args["compute"].min_size == args["compute"].max_size == 4 and args["num_cpus"] == 1.25
    with pytest.raises(RayRunError, match="no live node"):
        plan_actors([])


def test_auto_backend_is_decided_once_on_the_driver(monkeypatch):
    from dataclasses import replace

    import stance.run.ray_cluster as ray_cluster  # where actor_options looks decide_backend up

    calls = []

    def decide(options, threads):
        calls.append(threads)
        return replace(options, backend="onnx-int8", requested_backend="auto")

    monkeypatch.setattr(ray_cluster, "decide_backend", decide)
    options = actor_options(ScoreOptions(backend="auto"), plan_actors([16.0], actors_per_node=4))
    assert calls == [4]  # once, for the actors' thread count
    assert (options.backend, options.requested_backend) == ("onnx-int8", "auto")


def test_out_must_be_a_local_path(tmp_path, monkeypatch):
    for out in ("s3://bucket/scores.parquet", Path("s3://bucket/scores.parquet"), "gs://b/x.parquet"):
        with pytest.raises(ValueError, match="must be a local path"):
            check_out_path(out)
    with pytest.raises(ValueError, match="--errors"):
        check_out_path(tmp_path / "o.parquet", "s3://bucket/errors.jsonl")
    assert check_out_path(tmp_path / "o.parquet") == tmp_path / "o.parquet"
    pytest.importorskip("ray.data", reason="Ray is an optional extra")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ARTICLES[0]) + "\n")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["score", str(src), "--out", "s3://bucket/scores.parquet", "--engine", "ray"])
    assert r.exit_code == 2 and "must be a local path" in " ".join(r.output.split())
    assert not (tmp_path / "s3:").exists()


def test_keep_committed_checks_the_reported_parts_are_there(tmp_path):
    for sub in ("rows", "errors"):
        (tmp_path / sub).mkdir()
    (tmp_path / "rows" / "part-a.parquet").write_bytes(b"x")
    (tmp_path / "rows" / "part-a.parquet.123.tmp").write_bytes(b"x")  # an attempt that died
    (tmp_path / "errors" / "errors-a.parquet").write_bytes(b"x")
    summaries = [{"part": "part-a.parquet", "errors_part": "errors-a.parquet"}, {"part": "part-b.parquet", "errors_part": ""}]
    with pytest.raises(RayRunError, match=r"1 of the 3 part files .* not in .*rows/part-b.parquet.*shared"):
        keep_committed(tmp_path, summaries)
    assert (tmp_path / "rows" / "part-a.parquet.123.tmp").exists()  # nothing removed before the check
    assert keep_committed(tmp_path, summaries[:1]) == [tmp_path / "rows" / "part-a.parquet"]
    assert sorted(p.name for p in (tmp_path / "rows").iterdir()) == ["part-a.parquet"]


def test_a_ray_that_cannot_be_reached_is_a_clean_error_and_leaves_nothing(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra")
    pytest.importorskip("ray.data", reason="Ray is an optional extra")
    from stance.run.ray_engine import score_collection_ray

    def no_cluster(**kwargs):
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", no_cluster)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ARTICLES[0]) + "\n")
    out = tmp_path / "o.parquet"
    with pytest.raises(RayConnectError, match="cannot connect to Ray at --address auto .*ray start --head"):
        score_collection_ray([str(src)], out, ScoreOptions(use_ner=False), RayOptions(address="auto"))
    assert not (tmp_path / "o.parquet.ray-tmp").exists()
    for _ in range(2):  # the rerun gets the same message, not "an unfinished Ray run exists"
        r = CliRunner().invoke(app, ["score", str(src), "--out", str(out), "--engine", "ray", "--address", "auto"])
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit)  # a message, no traceback
        assert "cannot connect to Ray at --address auto" in " ".join(r.output.split())


def test_an_address_where_nothing_answers_is_an_error_in_seconds_not_minutes_of_retries(tmp_path, monkeypatch):
    """ray.init retried "Failed to connect to GCS" every 40 s for minutes; README promises exit code 2."""
    import socket

    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init reached for an address where nothing answers"))
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ARTICLES[0]) + "\n")
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        r = CliRunner().invoke(
            app, ["score", str(src), "--out", str(tmp_path / "o.parquet"), "--engine", "ray", "--address", address]
        )
        assert r.exit_code == 2 and f"nothing answers at 127.0.0.1:{port}" in " ".join(r.output.split()), r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_records_to_items_is_the_local_validation():
    batch = {
        "order": [1, 2, 3, 4],
        "source": ["x.jsonl"] * 4,
        "line": [1, 2, 3, 4],
        "raw": [
            json.dumps({"id": "a", "text": "Kyiv said yes.", "outlet": "O"}),
            json.dumps({"id": "b", "text": ""}),
            None,
            json.dumps({"id": "a", "text": "again"}),
        ],
        "error": [None, None, "malformed JSON (x)", None],
    }
    items = records_to_items(batch, max_chars=100, first_seen={"a": 1})
    assert isinstance(items[0][1], Article) and items[0][1].meta == {"outlet": "O"}
    assert [getattr(i, "reason", None) for _, i in items[1:]] == [
        "missing or empty 'text'",
        "malformed JSON (x)",
        "duplicate id 'a'",
    ]
    with pytest.raises(ValueError, match="missing raw"):
        records_to_items({"order": [1], "source": ["x"], "line": [1], "error": [None]}, max_chars=10)


def test_input_listing(tmp_path):
    d = tmp_path / "news"
    (d / "b").mkdir(parents=True)
    (d / "b" / "2.jsonl").write_text("{}\n")
    (d / "1.parquet").write_bytes(b"")
    files = list_input_files([str(d), f"file://{d / 'b' / '2.jsonl'}"])
    assert [(Path(f.source.split("://")[-1]).name, f.format, f.index) for f in files] == [
        ("1.parquet", "parquet", 0),
        ("2.jsonl", "jsonl", 1),
        ("2.jsonl", "jsonl", 2),
    ]
    for name in (".DS_Store", "_SUCCESS", "b/_SUCCESS", ".1.parquet.crc", "b/part-0.crc", ".ipynb_checkpoints/3.jsonl"):
        (d / name).parent.mkdir(exist_ok=True)
        (d / name).write_text("x")
    skipped: list[str] = []
    files = list_input_files([str(d), f"file://{d}"], skipped)  # hidden files and Spark's markers are not input
    assert [Path(f.source.split("://")[-1]).name for f in files] == ["1.parquet", "2.jsonl"] * 2
    assert len(skipped) == 12 and any(s.endswith("b/_SUCCESS") for s in skipped)
    (d / "notes.txt").write_text("x")
    with pytest.raises(InputPathError, match="other file"):
        list_input_files([str(d)])
    with pytest.raises(InputPathError, match="not .txt"):
        list_input_files([f"file://{d}"])
    with pytest.raises(InputPathError, match="standard input"):
        list_input_files(["-"])
    with pytest.raises(InputPathError, match="no such file"):
        list_input_files([f"file://{tmp_path / 'missing'}"])
    with pytest.raises(ValueError, match="actors_per_node"):
        RayOptions(actors_per_node=-1)


def test_cli_rejects_bad_ray_options(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ARTICLES[0]) + "\n")
    runner = CliRunner()
    r = runner.invoke(app, ["score", str(src), "--out", str(tmp_path / "o.parquet"), "--engine", "spark"])
    assert r.exit_code == 2 and "--engine must be" in r.output
    r = runner.invoke(app, ["score", str(src), "--out", str(tmp_path / "o.parquet"), "--engine", "ray", "--resume"])
    assert r.exit_code == 2 and "--resume" in r.output
    pytest.importorskip("ray.data", reason="Ray is an optional extra")
    r = runner.invoke(app, ["score", str(src), "--out", str(tmp_path / "o.jsonl"), "--engine", "ray"])
    assert r.exit_code == 2 and "must end in .parquet" in r.output
