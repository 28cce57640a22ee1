"""Label tooling without a model: importers (Label Studio, doccano), validation, suggestion, the registry, the gate's rules."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stance.cli.main import app
from stance.labels.check import validate_label_file
from stance.labels.importers import LabelImportError, import_labels, parse_label_map
from stance.labels.suggest import label_config, suggest, to_label_studio_tasks
from stance.store.registry import ModelRegistry, registry_version, resolve_registry_name

TEXT = "Critics say the so-called reform by Moscow failed."  # Moscow: 36-42, "so-called": 16-25

LABEL_STUDIO_EXPORT = [
    {
        "id": 11,
        "data": {"text": TEXT, "doc_id": "art-1", "device_labels": ["loaded_language", "discrediting_attribution"]},
        "annotations": [
            {"id": 1, "was_cancelled": True, "result": []},
            {
                "id": 2,
                "result": [
                    {
                        "from_name": "stance",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 36, "end": 42, "text": "Moscow", "labels": ["Neg"]},
                    },
                    {
                        "from_name": "devices",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 16, "end": 25, "text": "so-called", "labels": ["Discrediting"]},
                    },
                    {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": ["fine"]}},
                ],
            },
        ],
    },
    {"id": 12, "data": {"text": "Nobody labelled this one."}, "annotations": []},
    {
        "id": 13,
        "data": {"text": "Beijing hailed the deal."},
        "annotations": [
            {
                "id": 3,
                "ground_truth": True,
                "result": [
                    {
                        "from_name": "stance",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "labels": ["positive"]},
                    }
                ],
            },
            {
                "id": 4,
                "result": [
                    {
                        "from_name": "stance",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "labels": ["negative"]},
                    }
                ],
            },
        ],
    },
]

MAP = {"Neg": "negative", "Discrediting": "discrediting_attribution"}


def test_label_studio_import_maps_labels_and_picks_the_annotation(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(LABEL_STUDIO_EXPORT))
    records = import_labels(path, "labelstudio", label_map=MAP)
    assert len(records) == 2  # the task without annotation is skipped
    first, second = records
    assert [(t.start, t.end, t.stance) for t in first.targets] == [(36, 42, "negative")]
    assert [(d.start, d.end, d.label) for d in first.devices] == [(16, 25, "discrediting_attribution")]
    assert first.doc_id == "art-1" and first.device_labels == ("loaded_language", "discrediting_attribution")
    assert first.meta["task_id"] == 11 and first.source == "labelstudio"
    assert second.targets[0].stance == "positive"  # ground truth wins over the later annotation


def test_label_studio_errors_name_the_task(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(LABEL_STUDIO_EXPORT))
    with pytest.raises(LabelImportError, match=r"task id 11 \(#0\).*'Neg'.*--map"):
        import_labels(path, "labelstudio")
    bad = json.loads(json.dumps(LABEL_STUDIO_EXPORT))
    bad[2]["annotations"][0]["result"][0]["value"]["end"] = 99
    path.write_text(json.dumps(bad))
    with pytest.raises(LabelImportError, match="task id 13.*out of range"):
        import_labels(path, "labelstudio", label_map=MAP)
    path.write_text("{not json")
    with pytest.raises(LabelImportError, match="not a Label Studio JSON export"):
        import_labels(path, "labelstudio")


def test_doccano_both_layouts_and_line_numbers(tmp_path):
    path = tmp_path / "doccano.jsonl"
    lines = [
        {"id": 1, "text": TEXT, "label": [[36, 42, "negative"], [16, 25, "LL"]], "doc_id": "a"},
        {
            "id": 2,
            "text": "Beijing hailed the deal.",
            "entities": [{"id": 9, "start_offset": 0, "end_offset": 7, "label": "positive"}],
        },
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    records = import_labels(path, "doccano", label_map={"LL": "loaded_language"})
    assert (
        records[0].devices[0].label == "loaded_language"
        and records[0].targets[0].stance == "negative"
        and records[0].doc_id == "a"
    )
    assert records[1].targets[0].stance == "positive" and records[1].meta["doccano_id"] == 2
    path.write_text(json.dumps(lines[0]) + "\n" + json.dumps({"id": 7, "text": "x y", "label": [[0, 1, "Mystery"]]}) + "\n")
    with pytest.raises(LabelImportError, match=r"doccano.jsonl:1 \(id 1\): unknown label 'LL'"):
        import_labels(path, "doccano")
    with pytest.raises(LabelImportError, match=r":2 \(id 7\): unknown label 'Mystery'"):
        import_labels(path, "doccano", label_map={"LL": "loaded_language"})
    with pytest.raises(ValueError, match="unknown import format"):
        import_labels(path, "brat")
    assert parse_label_map(["a = b"]) == {"a": "b"}
    with pytest.raises(ValueError, match="TOOL_LABEL=OUR_LABEL"):
        parse_label_map(["nothing"])


def test_cli_import_writes_the_label_format(tmp_path):
    src = tmp_path / "export.json"
    src.write_text(json.dumps(LABEL_STUDIO_EXPORT))
    out = tmp_path / "labels.jsonl"
    r = CliRunner().invoke(
        app,
        [
            "labels",
            "import",
            str(src),
            "--out",
            str(out),
            "--map",
            "Neg=negative",
            "--map",
            "Discrediting=discrediting_attribution",
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(out.read_text().splitlines()) == 2
    assert validate_label_file(out) == []


def test_validate_reports_every_problem_with_its_line(tmp_path):
    rows = [
        {"text": TEXT, "targets": [{"start": 36, "end": 42, "stance": "negative"}], "doc_id": "a"},  # 1 good
        "{broken json",  # 2
        {
            "text": TEXT,
            "targets": [{"start": 36, "end": 42, "stance": "angry"}],
            "devices": [{"start": 0, "end": 7, "label": "sarcasm"}],
        },  # 3
        {
            "text": TEXT,
            "targets": [
                {"start": 40, "end": 99, "stance": "neutral"},
                {"start": 0, "end": 7, "text": "Critic", "stance": "neutral"},
            ],
        },  # 4 (and the same sentence as 3)
        {
            "text": TEXT,
            "targets": [{"start": 36, "end": 42, "stance": "positive"}],
            "doc_id": "a",
        },  # 5: repeats line 1, contradicts
        {
            "text": TEXT,
            "targets": [{"start": 0, "end": 7, "stance": "neutral"}, {"start": 0, "end": 7, "stance": "negative"}],
            "devices": [{"start": 16, "end": 25, "label": "scare_quotes"}, {"start": 16, "end": 25, "label": "scare_quotes"}],
        },  # 6
        {"text": "", "targets": []},  # 7
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    problems = validate_label_file(path)
    found = {(p.line, p.kind) for p in problems}
    assert found == {
        (2, "json"),
        (3, "unknown_label"),
        (4, "offsets"),
        (4, "text_mismatch"),
        (4, "duplicate"),
        (5, "duplicate"),
        (5, "contradiction"),
        (6, "contradiction"),
        (6, "duplicate"),
        (7, "format"),
    }
    assert sum(1 for p in problems if p.line == 3) == 2  # both the stance and the device label
    assert str(problems[0]).startswith(f"{path}:2: json:")
    r = CliRunner().invoke(app, ["labels", "validate", str(path)])
    assert r.exit_code == 1 and f"{path}:4: offsets" in r.output
    assert validate_label_file(path, known_devices=["sarcasm", "scare_quotes"]).count  # still problems
    assert not any(
        p.line == 3 and "sarcasm" in p.message for p in validate_label_file(path, known_devices=["sarcasm", "scare_quotes"])
    )


def _row(doc, sid, text, mentions=(), devices=(), boilerplate=False, outlet="Ledger"):
    return {
        "doc_id": doc,
        "sentence_id": sid,
        "start": 0,
        "end": len(text),
        "text": text,
        "section": "body",
        "boilerplate": boilerplate,
        "mentions": list(mentions),
        "devices": list(devices),
        "outlet": outlet,
    }


def _mention(actor, start, end, neg, neu, pos):
    probs = {"negative": neg, "neutral": neu, "positive": pos}
    return {
        "actor": actor,
        "type": "state",
        "text": actor,
        "start": start,
        "end": end,
        "stance": max(probs, key=probs.get),
        "probs": probs,
    }


def test_suggest_ranks_by_uncertainty_keeps_diversity_and_filters(tmp_path):
    rows = [
        _row("d1", 0, "Russia rejected the plan on Monday.", [_mention("Russia", 0, 6, 0.45, 0.44, 0.11)]),  # margin 0.01
        _row("d1", 1, "Russia rejected the plan on Tuesday.", [_mention("Russia", 0, 6, 0.46, 0.44, 0.10)]),  # near-duplicate
        _row("d2", 0, "China praised the new trade agreement warmly.", [_mention("China", 0, 5, 0.1, 0.5, 0.4)]),  # margin 0.1
        _row("d3", 0, "France met officials.", [_mention("France", 0, 6, 0.01, 0.98, 0.01)]),  # certain
        _row("d4", 0, "Read more", boilerplate=True),
        _row(
            "d5",
            0,
            "Critics say it failed badly.",
            [],
            [{"label": "unsourced_claim", "text": "Critics say", "start": 0, "end": 11, "score": 0.62}],
        ),
    ]
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = suggest(path, n=3, thresholds={"unsourced_claim": 0.6}, max_similarity=0.5)
    texts = [c.text for c in result.chosen]
    assert texts[0] == "Russia rejected the plan on Monday."
    assert "Russia rejected the plan on Tuesday." not in texts  # too similar to a chosen one
    assert "Critics say it failed badly." in texts  # device score just above its threshold: uncertain
    assert result.considered == 5  # boilerplate skipped
    only_china = suggest(path, n=5, actors=["China"])
    assert [c.text for c in only_china.chosen] == ["China praised the new trade agreement warmly."]
    only_devices = suggest(path, n=5, devices=["unsourced_claim"])
    assert [c.doc_id for c in only_devices.chosen] == ["d5"]
    tasks = to_label_studio_tasks(result)
    first = tasks[0]
    assert first["data"]["text"] == texts[0] and first["data"]["outlet"] == "Ledger"
    region = first["predictions"][0]["result"][0]
    assert region["from_name"] == "stance" and region["value"] == {"start": 0, "end": 6, "text": "Russia", "labels": ["negative"]}
    assert "unsourced_claim" in label_config(result.device_labels)
    with pytest.raises(ValueError, match="no sentences left"):
        suggest(path, n=2, actors=["Atlantis"])
    with pytest.raises(ValueError, match="strategy"):
        suggest(path, n=2, strategy="loudest")
    # a random sample (for measuring, e.g. a confusion matrix): sentences with a mention, no diversity filter, seeded
    sample = suggest(path, n=3, strategy="random", seed=1)
    assert len(sample.chosen) == 3 and all(c.mentions for c in sample.chosen) and sample.considered == 4
    assert [c.text for c in sample.chosen] == [c.text for c in suggest(path, n=3, strategy="random", seed=1).chosen]
    assert {c.text for c in suggest(path, n=4, strategy="random").chosen} >= {
        "Russia rejected the plan on Tuesday.",
        "France met officials.",
    }
    # CSV output of `stance score` holds mentions as JSON text
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["mentions"] = frame["mentions"].map(json.dumps)
    frame["devices"] = frame["devices"].map(json.dumps)
    frame.to_csv(tmp_path / "scores.csv", index=False)
    assert [
        c.text for c in suggest(tmp_path / "scores.csv", n=3, thresholds={"unsourced_claim": 0.6}, max_similarity=0.5).chosen
    ] == texts


def _fake_model(path):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"device_labels": ["x"]}))
    (path / "model.safetensors").write_bytes(path.name.encode())
    return path


def test_registry_use_rollback_history_and_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    from stance.resources import MODELS_DIR
    from stance.store.model_files import resolve_model

    reg = ModelRegistry()
    assert reg.active() is None and reg.versions() == []
    assert resolve_model("active") == str(MODELS_DIR / "default")  # empty registry: the shipped model
    v1 = reg.add(_fake_model(tmp_path / "m1"), parent="default", activate=True, metrics={"a": 1.0})
    v2 = reg.add(_fake_model(tmp_path / "m2"), parent=v1.id)
    assert reg.active().id == v1.id and v2.info["parent"] == v1.id
    assert resolve_model("active") == str(v1.model_dir) and resolve_registry_name(v2.id) == v2.model_dir
    assert resolve_model(v2.id) == str(v2.model_dir)
    assert registry_version(v2.model_dir) == v2.id and registry_version(tmp_path / "m2") is None
    reg.use(v2.id)
    assert reg.rollback().id == v1.id  # the previously active one
    assert reg.rollback() is None  # v1 was promoted over the shipped default
    with pytest.raises(ValueError, match="nothing to roll back"):
        reg.rollback()
    reg.use(v2.id)
    assert reg.rollback() is None  # previously: the shipped default
    (reg.root / "history.jsonl").unlink()
    reg.use(v2.id)
    (reg.root / "history.jsonl").unlink()
    assert reg.rollback().id == v1.id  # no history: the parent
    assert [e["action"] for e in reg.history()] == ["rollback"]
    with pytest.raises(ValueError, match="no model version"):
        reg.get("nope")
    with pytest.raises(ValueError, match="not a model directory"):
        reg.add(tmp_path, parent=None)


def test_gate_rules():
    from training.gate import GateReport, GateRow, _verdict

    assert _verdict("fixed", -0.02, -0.05, 0.01, 0.0, True) == (True, "dropped 0.0200 > tolerance 0.01")
    assert _verdict("fixed", -0.0104, -0.03, 0.01, 0.0, True) == (True, "dropped 0.0104 > tolerance 0.01")
    assert _verdict("fixed", -0.005, -0.05, 0.01, 0.0, True) == (False, "")
    assert _verdict("new", 0.0, -0.1, 0.01, 0.0, True)[0]  # no improvement
    assert _verdict("new", 0.05, -0.01, 0.01, 0.0, True)[1].startswith("improvement not significant")
    assert _verdict("new", 0.05, -0.01, 0.01, 0.0, False) == (False, "")
    row = GateRow("dev", "stance_macro_f1", "fixed", 0.8, 0.7, -0.1, -0.2, 0.0, 10, 30, True, "dropped 0.100 > tolerance 0.01")
    report = GateReport((row,), False, 0.01, 0.0, True, 100, 0.95, 0)
    assert "| dev | stance_macro_f1 | fixed | 0.800 | 0.700 | -0.100 |" in report.table() and "FAILED" in report.table()
    assert report.metrics() == {"dev/stance_macro_f1": 0.7}


def test_models_use_refuses_a_failed_gate_without_force_and_show_knows_the_shipped_model(tmp_path, monkeypatch, tiny_model_dir):
    import json as _json

    from typer.testing import CliRunner

    from stance.cli.main import app
    from stance.store.registry import ModelRegistry

    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    # no version active: show (active and default) describes the shipped model instead of failing
    for name in ("active", "default"):
        r = runner.invoke(app, ["models", "show", name])
        assert r.exit_code == 0, r.output
        assert _json.loads(r.output)["id"] == "default"
    failed = ModelRegistry().add(tiny_model_dir, parent="default", gate={"passed": False, "reason": "dev_rw fell by 0.03"})
    r = runner.invoke(app, ["models", "use", failed.id])
    assert r.exit_code == 2 and "gate failed" in r.output and "--force" in r.output
    assert ModelRegistry().active() is None
    r = runner.invoke(app, ["models", "use", failed.id, "--force"])
    assert r.exit_code == 0 and "warning" in r.output
    assert ModelRegistry().active().id == failed.id
    assert runner.invoke(app, ["models", "use", "default"]).exit_code == 0


def test_a_damaged_or_deleted_active_version_is_an_error_naming_it_not_the_shipped_model(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from stance.cli.main import app
    from stance.store.model_files import resolve_model

    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    reg = ModelRegistry()
    v1 = reg.add(_fake_model(tmp_path / "m1"), parent="default", activate=True)
    (v1.path / "version.json").write_text("{")  # damaged
    for call in (reg.active, lambda: resolve_model("active")):
        with pytest.raises(ValueError, match=f"{v1.id}.*version.json"):
            call()
    r = CliRunner().invoke(app, ["models", "list"])
    assert r.exit_code == 2 and v1.id in r.output and "version.json" in r.output, r.output
    assert resolve_model("default").endswith("default")  # other names are unaffected
    assert CliRunner().invoke(app, ["models", "use", "default"]).exit_code == 0  # and it can be replaced
    assert reg.active() is None
    v2 = reg.add(_fake_model(tmp_path / "m2"), parent="default", activate=True)
    shutil.rmtree(v2.path)  # deleted
    with pytest.raises(ValueError, match=f"active model version '{v2.id}'"):
        reg.active()


def test_an_ambiguous_version_prefix_is_reported_as_ambiguous(tmp_path, monkeypatch):
    from stance.store.model_files import resolve_model

    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    reg = ModelRegistry()
    v1 = reg.add(_fake_model(tmp_path / "m1"), parent="default")
    v2 = reg.add(_fake_model(tmp_path / "m2"), parent="default")
    prefix = next(v1.id[:n] for n in range(len(v1.id), 0, -1) if v2.id.startswith(v1.id[:n]))
    for call in (lambda: resolve_registry_name(prefix), lambda: resolve_model(prefix), lambda: reg.get(prefix)):
        with pytest.raises(ValueError, match="ambiguous"):
            call()
    assert resolve_registry_name("nope") is None  # not a version: a path or hub id


def test_label_files_from_excel_or_latin_1_are_read_or_named_not_a_traceback(tmp_path):
    from stance.labels.format import LabelFileError, read_label_file

    line = {"text": "Moscow rejected the plan.", "targets": [{"start": 0, "end": 6, "stance": "negative"}]}
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(line).encode() + b"\n")  # Notepad's / Excel's "UTF-8"
    assert validate_label_file(bom) == [] and len(list(read_label_file(bom))) == 1
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(
        json.dumps(line).encode()
        + b"\n"
        + json.dumps({**line, "text": "Caf\u00e9 owners rejected it."}, ensure_ascii=False).encode("latin-1")
        + b"\n"
    )
    [problem] = validate_label_file(latin)
    assert (problem.line, problem.kind) == (2, "encoding") and "UTF-8" in problem.message
    with pytest.raises(LabelFileError, match="latin1.jsonl:2: not valid UTF-8"):
        list(read_label_file(latin))
    r = CliRunner().invoke(app, ["labels", "validate", str(latin)])
    assert r.exit_code == 1 and "Traceback" not in r.output and "not valid UTF-8" in r.output, r.output


def test_written_labels_carry_each_spans_text_so_a_later_shift_is_caught(tmp_path):
    from stance.labels.format import LabelRecord, TargetLabel, write_label_file

    path = tmp_path / "labels.jsonl"
    write_label_file([LabelRecord("\U0001f642 Putin said no.", targets=(TargetLabel(2, 7, "negative"),))], path)
    written = json.loads(path.read_text())
    assert written["targets"][0]["text"] == "Putin"
    written["targets"][0].update(start=3, end=8)  # offsets counted in UTF-16 (a browser tool): one off after the emoji
    path.write_text(json.dumps(written) + "\n")
    [problem] = validate_label_file(path)
    assert problem.kind == "text_mismatch"


def test_an_empty_or_reversed_span_is_named_as_such():
    from stance.labels.format import span_problem

    assert "empty or reversed" in span_problem(16, 16, "x" * 40) and "empty or reversed" in span_problem(20, 16, "x" * 40)
    assert "out of range" in span_problem(30, 41, "x" * 40) and span_problem(0, 40, "x" * 40) is None


def test_offsets_counted_in_utf16_units_are_converted_or_caught(tmp_path):
    text = "\U0001f642 Putin said no."  # the emoji is one character, two UTF-16 units
    export = tmp_path / "doccano.jsonl"
    export.write_text(json.dumps({"text": text, "label": [[3, 8, "negative"]]}) + "\n")
    [record] = import_labels(export, "doccano", offsets="utf16")
    assert text[record.targets[0].start : record.targets[0].end] == "Putin"
    # Label Studio exports the span's text: counted in characters, the shift is caught and the fix named
    ls = tmp_path / "ls.json"
    value = {"start": 3, "end": 8, "text": "Putin", "labels": ["negative"]}
    ls.write_text(
        json.dumps([{"id": 1, "data": {"text": text}, "annotations": [{"result": [{"type": "labels", "value": value}]}]}])
    )
    with pytest.raises(LabelImportError, match="try --offsets utf16"):
        import_labels(ls, "labelstudio")
    [record] = import_labels(ls, "labelstudio", offsets="utf16")
    assert text[record.targets[0].start : record.targets[0].end] == "Putin"
    with pytest.raises(ValueError, match="offset unit"):
        import_labels(ls, "labelstudio", offsets="bytes")


def test_a_doccano_import_with_an_emoji_before_a_span_says_its_offsets_may_be_shifted(tmp_path):
    rows = [
        {"text": "\U0001f642 Putin said no.", "label": [[3, 8, "negative"]]},  # UTF-16 units: shifted by one as characters
        {"text": "Putin said no. \U0001f642", "label": [[0, 5, "negative"]]},  # the emoji after the span: no risk
    ]
    export = tmp_path / "doccano.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runner = CliRunner()
    args = ["labels", "import", str(export), "--format", "doccano", "--out"]
    result = runner.invoke(app, [*args, str(tmp_path / "a.jsonl")])
    assert result.exit_code == 0 and "1 of them have an emoji" in " ".join(result.output.split()), result.output
    result = runner.invoke(app, [*args, str(tmp_path / "b.jsonl"), "--offsets", "utf16"])
    assert result.exit_code == 0 and "emoji" not in result.output, result.output


# --------------------------------------------------------------------------- audit findings (helper-157)
def test_suggest_offers_every_user_device_and_prefills_only_those(tmp_path):
    """Tasks offer the devices people label (all of them, found or not, and the model's added ones), never PTC's
    technique labels, and pre-fill only their spans: an imported line then claims no PTC label."""
    from stance.labels.taxonomy import FIXED_DEVICES

    text = "Russia rejected the so-called plan."
    devices = [
        {"label": "doubt", "text": "rejected", "start": 7, "end": 15, "score": 0.6},
        {"label": "propaganda", "technique": "ptc_loaded_language", "text": "so-called", "start": 20, "end": 29, "score": 0.7},
        {"label": "loaded_language", "text": "so-called", "start": 20, "end": 29, "score": 0.55},
        {"label": "hedge", "text": "the", "start": 16, "end": 19, "score": 0.5},
    ]
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps(_row("d1", 0, text, [_mention("Russia", 0, 6, 0.45, 0.44, 0.11)], devices)) + "\n")
    for strategy in ("margin", "random"):
        result = suggest(path, n=1, strategy=strategy, model_devices=["loaded_language", "doubt", "hedge"])
        assert result.device_labels == (*FIXED_DEVICES, "hedge")  # scare_quotes too, though not found
        task = to_label_studio_tasks(result)[0]
        assert task["data"]["device_labels"] == [*FIXED_DEVICES, "hedge"]
        prefilled = [r["value"]["labels"][0] for r in task["predictions"][0]["result"] if r["from_name"] == "devices"]
        assert prefilled == ["loaded_language", "hedge"]
    config = label_config(result.device_labels)
    assert "scare_quotes" in config and "doubt" not in config and "ptc_loaded_language" not in config
    # a device filter on a PTC technique chooses by it but does not offer it
    assert "doubt" not in suggest(path, n=1, devices=["doubt"]).device_labels


def test_validate_reports_cross_article_contradictions_misspelt_keys_and_overlaps(tmp_path):
    rows = [
        {"text": TEXT, "targets": [{"start": 36, "end": 42, "stance": "negative"}], "doc_id": "ledger-1"},  # 1
        {"text": TEXT, "targets": [{"start": 36, "end": 42, "stance": "positive"}], "doc_id": "post-9"},  # 2: contradicts 1
        {"text": "Beijing hailed the deal.", "target": [{"start": 0, "end": 7, "stance": "positive"}]},  # 3: misspelt key
        {"text": "Beijing hailed it.", "targets": [{"start": 0, "end": 7, "stances": "positive"}], "task_id": 4},  # 4
        {
            "text": TEXT,
            "devices": [
                {"start": 12, "end": 25, "label": "scare_quotes"},
                {"start": 16, "end": 30, "label": "scare_quotes"},
                {"start": 16, "end": 25, "label": "loaded_language"},
            ],
            "doc_id": "x",
        },  # 5: overlapping spans of one device (a warning)
        {"text": "Beijing hailed the pact.", "label": [[0, 7, "positive"]]},  # 6: a doccano line, not imported
        {"text": "Beijing hailed a deal.", "devices": [{"start": 0, "end": 7, "label": "hedge"}]},  # 7
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = validate_label_file(path)
    found = {(p.line, p.kind) for p in problems}
    assert found == {(2, "contradiction"), (3, "format"), (4, "format"), (6, "format"), (7, "unknown_label")}
    by_line = {line: " | ".join(p.message for p in problems if p.line == line) for line, _ in found}
    assert "'negative' on line 1" in by_line[2] and "post-9" not in by_line[2] and "ledger-1" in by_line[2]
    assert "'target'" in by_line[3] and "'targets'" in by_line[3]
    assert "'stances'" in by_line[4] and "'stance'" in by_line[4]  # and task_id (metadata) is fine
    assert "stance labels import --format doccano" in by_line[6]
    assert "--add-device hedge" in by_line[7]
    warnings = [p for p in validate_label_file(path, warnings=True) if p.severity == "warning"]
    assert [(p.line, p.kind) for p in warnings] == [(5, "overlap")]
    assert "12-25 and 16-30" in warnings[0].message and "merges" in warnings[0].message
    assert str(warnings[0]).startswith(f"{path}:5: warning: overlap:")
    r = CliRunner().invoke(app, ["labels", "validate", str(path)])
    assert r.exit_code == 1 and f"{path}:5: warning: overlap" in r.output
    only_warnings = tmp_path / "ok.jsonl"
    only_warnings.write_text(json.dumps(rows[4]) + "\n")
    r = CliRunner().invoke(app, ["labels", "validate", str(only_warnings)])
    assert r.exit_code == 0 and "1 warning" in r.output, r.output


def test_cli_import_says_how_many_tasks_it_skipped_and_why(tmp_path):
    from stance.labels.importers import import_annotations

    cancelled = {"id": 14, "data": {"text": "Paris shrugged."}, "annotations": [{"id": 5, "was_cancelled": True, "result": []}]}
    src = tmp_path / "export.json"
    src.write_text(json.dumps([*LABEL_STUDIO_EXPORT, cancelled]))
    result = import_annotations(src, "labelstudio", label_map=MAP)
    assert len(result.records) == 2
    assert [(s.task, s.reason) for s in result.skipped] == [
        ("task id 12 (#1)", "not annotated"),
        ("task id 14 (#3)", "every annotation was cancelled"),
    ]
    r = CliRunner().invoke(
        app,
        [
            "labels",
            "import",
            str(src),
            "--out",
            str(tmp_path / "l.jsonl"),
            "--map",
            "Neg=negative",
            "--map",
            "Discrediting=discrediting_attribution",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "wrote 2 labelled sentences" in r.output and "skipped 2 task(s)" in r.output
    assert "not annotated (task id 12 (#1))" in r.output and "every annotation was cancelled (task id 14 (#3))" in r.output


def test_retrain_refuses_negative_thresholds_and_the_gate_says_the_thresholds_used(tmp_path):
    from training.gate import GateReport, GateRow

    for option, value in (("--min-improvement", "-1"), ("--tolerance", "-0.5")):
        r = CliRunner().invoke(app, ["retrain", "--new", str(tmp_path / "n.jsonl"), "--output-dir", str(tmp_path), option, value])
        assert r.exit_code == 2 and option in r.output, r.output
    row = GateRow("new:heldout", "stance_macro_f1", "new", 0.5, 0.6, 0.1, 0.02, 0.2, 10, 30, False, "")
    text = GateReport((row,), True, 0.03, 0.05, False, 100, 0.95, 0).table()
    assert "at most 0.03" in text and "by more than 0.05" in text and "interval" not in text.splitlines()[-1]


def test_models_use_names_the_metrics_whose_gate_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    rows = [
        {"dataset": "newsmtsc:dev_rw", "metric": "stance_macro_f1", "failed": True, "reason": "dropped 0.0300 > tolerance 0.01"},
        {"dataset": "new:heldout", "metric": "stance_macro_f1", "failed": False, "reason": ""},
    ]
    failed = ModelRegistry().add(_fake_model(tmp_path / "m1"), parent="default", gate={"passed": False, "rows": rows})
    r = CliRunner().invoke(app, ["models", "use", failed.id])
    assert r.exit_code == 2 and "newsmtsc:dev_rw stance_macro_f1: dropped 0.0300 > tolerance 0.01" in r.output, r.output
    assert "see stance models show" not in r.output and "new:heldout" not in r.output


def test_rollback_after_use_default_returns_to_the_version_it_replaced(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    reg = ModelRegistry()
    v1 = reg.add(_fake_model(tmp_path / "m1"), parent="default", activate=True)
    reg.use("default")
    assert reg.rollback().id == v1.id
    r = CliRunner().invoke(app, ["models", "use", "default"])
    assert r.exit_code == 0
    r = CliRunner().invoke(app, ["models", "rollback"])
    assert r.exit_code == 0 and v1.id in r.output, r.output
    assert reg.active().id == v1.id
    reg.use("default")
    reg.use("default")  # no change: the history still names v1 before it
    assert reg.rollback().id == v1.id
    assert reg.rollback() is None  # v1 was promoted over the shipped default
    shutil.rmtree(v1.path)
    with pytest.raises(ValueError, match=f"{v1.id}, was deleted: nothing to roll back"):
        reg.rollback()


def test_import_refuses_a_bad_format_or_offsets_as_a_usage_error_before_reading(tmp_path):
    src = tmp_path / "export.json"
    src.write_text("not json at all")  # never read: the option is checked first
    out = tmp_path / "l.jsonl"
    for option, value in (("--format", "xml"), ("--offsets", "bytes")):
        r = CliRunner().invoke(app, ["labels", "import", str(src), "--out", str(out), option, value])
        assert r.exit_code == 2 and option in r.output and repr(value) in r.output, r.output
    r = CliRunner().invoke(app, ["labels", "import", str(src), "--out", str(out), "--map", "nothing"])
    assert r.exit_code == 2 and "--map" in r.output, r.output
    r = CliRunner().invoke(app, ["labels", "import", str(src), "--out", str(out)])  # a bad file stays exit 1
    assert r.exit_code == 1, r.output
    assert not out.exists()


def test_import_of_an_export_without_annotations_and_validate_of_an_empty_file_fail(tmp_path):
    src = tmp_path / "export.json"
    src.write_text(json.dumps([{"id": 3, "data": {"text": TEXT}, "annotations": []}]))
    out = tmp_path / "l.jsonl"
    r = CliRunner().invoke(app, ["labels", "import", str(src), "--out", str(out)])
    assert r.exit_code == 1 and "no task had a usable annotation" in r.output, r.output
    assert not out.exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    r = CliRunner().invoke(app, ["labels", "validate", str(empty)])
    assert r.exit_code == 1 and "holds no labelled sentences" in r.output and "ok" not in r.output, r.output


def test_suggest_errors_name_the_options_as_typed(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps(_row("d1", 0, "Russia rejected it.", [_mention("Russia", 0, 6, 0.5, 0.4, 0.1)])) + "\n")
    model = tmp_path / "no-model"
    r = CliRunner().invoke(app, ["labels", "suggest", str(path), "--model", str(model), "--devices", "loaded_languag"])
    assert r.exit_code == 2 and "--only / --devices" in r.output and "--actors" not in r.output, r.output
    r = CliRunner().invoke(app, ["labels", "suggest", str(path), "--model", str(model), "--max-similarity", "7"])
    assert r.exit_code == 2 and "--max-similarity must be" in r.output, r.output


def test_the_gate_table_shows_no_markup_in_a_log(capsys):
    # a new user's trial: `stance retrain ... > log` showed "[green]ok[/green]" in the verdict column
    from stance.cli.common import print_table
    from stance.cli.retrain import _rows_table
    from training.gate import GateReport, GateRow

    row = GateRow("newsmtsc:dev_rw", "macro_f1", "fixed", 0.8, 0.79, -0.01, -0.03, 0.01, 40, 400, False, "")
    bad = GateRow("new_labels", "macro_f1", "new", 0.5, 0.5, 0.0, -0.1, 0.1, 9, 30, True, "no improvement")
    report = GateReport((row, bad), False, 0.01, 0.0, True, 100, 0.95, 0)
    print_table(_rows_table(report, report.rows, "gate", "base"))  # stderr is no terminal here: the log's path
    text = capsys.readouterr().err
    assert "ok" in text and "no improvement" in text and "[-0.030, +0.010]" in text
    assert "[green]" not in text and "[red]" not in text


def test_a_misspelt_device_label_gets_the_known_label_suggested(tmp_path):
    # a new user's trial: "loaded-language" got only "a new device? accept it with --add-device loaded-language"
    rows = [
        {"text": "Beijing hailed a deal.", "devices": [{"start": 0, "end": 7, "label": "loaded-language"}]},
        {"text": "Beijing hailed a pact.", "devices": [{"start": 0, "end": 7, "label": "Scare Quotes"}]},
        {"text": "Beijing hailed a plan.", "devices": [{"start": 0, "end": 7, "label": "hedge"}]},
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    messages = {p.line: p.message for p in validate_label_file(path)}
    assert "did you mean 'loaded_language'?" in messages[1]
    assert "did you mean 'scare_quotes'?" in messages[2]
    assert "did you mean" not in messages[3] and "--add-device hedge" in messages[3]
