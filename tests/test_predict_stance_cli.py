import json

from typer.testing import CliRunner

from stance.cli.main import app
from stance.model.exports import export_dir
from stance.store.model_files import model_version

LINES = [
    {"text": "Beijing hailed the deal.", "targets": [{"start": 0, "end": 7}], "id": 1},
    {"text": "Moscow and Kyiv traded blame.", "targets": [{"start": 0, "end": 6}, {"start": 11, "end": 15}], "id": 2},
]


def write(path, lines):
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_adds_stance_and_probs_keeping_fields(tmp_path, tiny_model_dir):
    src = write(tmp_path / "in.jsonl", LINES)
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(out), "--model", str(tiny_model_dir)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [1, 2]
    for row in rows:
        for t in row["targets"]:
            assert t["stance"] in ("negative", "neutral", "positive")
            assert set(t["probs"]) == {"negative", "neutral", "positive"}


def test_bad_line_stops_naming_the_line(tmp_path, tiny_model_dir):
    src = write(tmp_path / "in.jsonl", [LINES[0], {"text": "Short.", "targets": [{"start": 0, "end": 50}]}, LINES[1]])
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(out), "--model", str(tiny_model_dir)])
    assert r.exit_code == 1
    assert "in.jsonl:2" in r.output and "out of range" in r.output
    assert not out.exists()


def test_skip_sends_bad_lines_to_errors_file(tmp_path, tiny_model_dir):
    src = write(tmp_path / "in.jsonl", [LINES[0], "{broken", {"id": "q7", "targets": []}, LINES[1]])
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(
        app, ["predict-stance", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--on-error", "skip"]
    )
    assert r.exit_code == 0, r.output
    assert len(out.read_text().splitlines()) == 2
    errors = [json.loads(x) for x in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 3]
    # the errors file of `stance score`: source, line, id, reason
    assert [list(e) for e in errors] == [["source", "line", "id", "reason"]] * 2
    assert [e["id"] for e in errors] == [None, "q7"] and errors[0]["source"] == str(src)


def test_invalid_json_names_where_it_broke(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a\tb", "targets": []}\n')  # a raw tab inside a string: "Invalid control character at"
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(tmp_path / "o.jsonl"), "--model", str(tiny_model_dir)])
    assert r.exit_code == 1 and "column 12" in r.output.replace("\n", " ")


def test_a_target_past_the_models_cut_gets_the_stance_of_its_window(tmp_path, tiny_model_dir):
    """Every path that gives stance for given targets (`StanceModel.predict`, `predict-stance`, and so
    `/v1/stance`) reads a target that the maximum length cuts off from a window around it, as `stance score` does."""
    from stance.model.encoding import encode_batch, target_windows
    from stance.model.modeling import StanceModel

    model = StanceModel.from_pretrained(tiny_model_dir)
    filler = " ".join(["that went on and on about many things"] * 30)
    text = f"In a statement {filler}, officials said Russia was to blame."
    span = (text.index("Russia"), text.index("Russia") + 6)
    pred = model.predict(text, [(0, 2), span])
    cut = pred.targets[1]
    assert (cut.start, cut.end, cut.text) == (*span, "Russia")
    [(a, b)] = target_windows(model.subwords, [text], [span], max_length=model.settings.max_seq_length)
    alone = model.predict(text[a:b], [(span[0] - a, span[1] - a)]).targets[0]
    assert cut.probs == alone.probs and cut.stance == alone.stance  # the window's reading, not a default
    assert encode_batch(model.subwords, [text], [[span]], max_length=model.settings.max_seq_length)[0].target_slots == [None]

    src = write(tmp_path / "in.jsonl", [{"text": text, "targets": [{"start": span[0], "end": span[1]}]}])
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(out), "--model", str(tiny_model_dir)])
    assert r.exit_code == 0, r.output
    [row] = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["targets"][0]["stance"] == cut.stance and row["targets"][0]["probs"] == cut.probs


def test_skip_writes_the_errors_file_on_every_run_so_none_is_left_stale(tmp_path, tiny_model_dir):
    """Before, a clean run left the errors file of an earlier run beside its new output."""
    out = tmp_path / "out.jsonl"
    args = ["predict-stance", "--out", str(out), "--model", str(tiny_model_dir), "--on-error", "skip"]
    r = CliRunner().invoke(app, [*args, str(write(tmp_path / "bad.jsonl", [LINES[0], "{broken"]))])
    assert r.exit_code == 0 and len((tmp_path / "out.errors.jsonl").read_text().splitlines()) == 1
    out.unlink()
    r = CliRunner().invoke(app, [*args, str(write(tmp_path / "good.jsonl", LINES))])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out.errors.jsonl").read_text() == "" and "0 bad lines" in r.output
    assert not list(tmp_path.glob("*.partial"))


def test_a_model_that_cannot_be_loaded_is_reported_with_exit_code_2(tmp_path, tiny_model_dir, monkeypatch):
    """A hub id not found, or a folder that is no stance model: the reason, no traceback."""
    import shutil

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    src = write(tmp_path / "in.jsonl", LINES)
    out = tmp_path / "out.jsonl"
    noconfig = tmp_path / "noconfig"
    shutil.copytree(tiny_model_dir, noconfig)
    (noconfig / "config.json").unlink()
    for model, reason in (("someone/x", "HF_HUB_OFFLINE"), (str(noconfig), "no config.json")):
        r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(out), "--model", model])
        assert r.exit_code == 2 and reason in r.output.replace("\n", " "), r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)
        assert not out.exists()


def test_an_output_named_for_another_format_is_refused(tmp_path, tiny_model_dir):
    """`predict-stance --out o.csv` wrote JSONL into a .csv file and `evaluate --out ev.xml` JSON into .xml, exit 0."""
    src = write(tmp_path / "in.jsonl", LINES)
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(tmp_path / "o.csv"), "--model", str(tiny_model_dir)])
    assert r.exit_code == 2 and "name the file .jsonl" in " ".join(r.output.split()) and not (tmp_path / "o.csv").exists()
    r = CliRunner().invoke(app, ["evaluate", str(tiny_model_dir), "--data", str(src), "--out", str(tmp_path / "ev.xml")])
    assert r.exit_code == 2 and "name the file .json" in " ".join(r.output.split()) and not (tmp_path / "ev.xml").exists()


def _run(src, out, model, *extra):
    return CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(out), "--model", str(model), *extra])


def test_reads_a_byte_order_mark_and_utf16_as_stance_score_does(tmp_path, tiny_model_dir):
    """Notepad's UTF-8 with BOM failed line 1 as "not valid JSON"; PowerShell's UTF-16 failed every line."""
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in LINES) + "\n"
    for name, data in [("bom.jsonl", "\ufeff" + text), ("utf16.jsonl", text)]:
        src = tmp_path / name
        src.write_bytes(data.encode("utf-8") if name == "bom.jsonl" else data.encode("utf-16"))
        out = tmp_path / f"out_{name}"
        r = _run(src, out, tiny_model_dir)
        assert r.exit_code == 0, r.output
        assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, 2]


def test_bytes_that_are_not_utf8_are_an_error_not_replaced(tmp_path, tiny_model_dir):
    """The text was read with errors="replace": a cp1252 "é" became U+FFFD and was scored without a word."""
    src = tmp_path / "in.jsonl"
    bad = '{"text": "Caf\xe9 owners hailed Paris.", "targets": [{"start": 19, "end": 24}], "id": "c"}\n'.encode("cp1252")
    src.write_bytes(json.dumps(LINES[0]).encode() + b"\n" + bad)
    out = tmp_path / "out.jsonl"
    r = _run(src, out, tiny_model_dir, "--on-error", "skip")
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1]
    [error] = [json.loads(x) for x in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert error["line"] == 2 and "invalid UTF-8" in error["reason"]
    assert "\ufffd" not in out.read_text()


def test_the_backend_of_stance_score_gives_the_same_stances(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    src = write(tmp_path / "in.jsonl", LINES)
    outputs = {}
    for backend in ("torch", "openvino"):
        out = tmp_path / f"{backend}.jsonl"
        args = ["predict-stance", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--backend", backend]
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        outputs[backend] = [json.loads(x) for x in out.read_text().splitlines()]
    graphs = export_dir(tiny_model_dir, model_version(tiny_model_dir), "openvino")
    assert (graphs / "model.xml").is_file(), "the OpenVINO graph was made and used"
    pairs = [(a, b) for x, y in zip(outputs["torch"], outputs["openvino"]) for a, b in zip(x["targets"], y["targets"])]
    assert len(pairs) == 3 and all(a["stance"] == b["stance"] for a, b in pairs)
    assert all(abs(a["probs"][k] - b["probs"][k]) < 0.05 for a, b in pairs for k in a["probs"])
    r = CliRunner().invoke(app, ["predict-stance", str(src), "--out", str(tmp_path / "o.jsonl"), "--backend", "tensorrt"])
    assert r.exit_code == 2 and "backend must be one of" in r.output
