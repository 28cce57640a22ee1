"""NewsMTSC, PTC and marked-up example converters, on small fixtures written here."""

import json
from pathlib import Path

import pytest

from stance.labels.taxonomy import Taxonomy
from training.convert import get_converter, markup
from training.convert.ptc import article_split
from training.data import load_records, map_to_taxonomy


def test_newsmtsc(tmp_path):
    d = tmp_path / "newsmtsc"
    d.mkdir()
    text = "Senator Smith praised the bill while Jones attacked it."
    line = {
        "primary_gid": "allsides_1_2_3_Smith",
        "sentence_normalized": text,
        "targets": [
            {"from": 0, "to": 13, "mention": "Senator Smith", "polarity": 6.0},
            {"from": 37, "to": 42, "mention": "Jones", "polarity": 2.0},
            {"from": 37, "to": 42, "mention": "Jones", "polarity": 2.0},
        ],
    }
    (d / "dev_mt.jsonl").write_text(json.dumps(line) + "\n")
    [r] = get_converter("newsmtsc")(tmp_path, "dev_mt")
    assert [(text[t.start : t.end], t.stance) for t in r.targets] == [
        ("Senator Smith", "positive"),
        ("Jones", "negative"),
        ("Jones", "negative"),
    ]
    assert r.doc_id == "allsides_1_2" and r.device_labels == ()
    bad = dict(line, targets=[{"from": 0, "to": 5, "mention": "Jones", "polarity": 2.0}])
    (d / "dev_rw.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(ValueError, match="dev_rw.jsonl:1"):
        list(get_converter("newsmtsc")(tmp_path, "dev_rw"))


def test_ptc_lines_spans_and_split(tmp_path):
    root = tmp_path / "ptc"
    (root / "train-articles").mkdir(parents=True)
    article = "A Title Here\n\nThe evil regime lied again.\nThey will destroy everything we love.\n"
    (root / "train-articles" / "article42.txt").write_text(article)
    s1 = article.index("evil regime")
    s2 = article.index("destroy everything")
    (root / "train-task-flc-tc.labels").write_text(
        f"42\tName_Calling,Labeling\t{s1}\t{s1 + 11}\n42\tAppeal_to_fear-prejudice\t{s2}\t{s2 + 18}\n"
    )
    (root / "train-task-si.labels").write_text(f"42\t{s1}\t{s1 + 11}\n42\t{s2 - 5}\t{s2 + 18}\n")
    records = list(get_converter("ptc")(tmp_path, "all"))
    assert [r.text for r in records] == ["A Title Here", "The evil regime lied again.", "They will destroy everything we love."]
    r = records[1]
    assert [(r.text[d.start : d.end], d.label) for d in r.devices] == [
        ("evil regime", "Name_Calling,Labeling"),
        ("evil regime", "SI"),
    ]
    tax = Taxonomy.load()
    mapped = map_to_taxonomy(records[2], "ptc", tax)
    assert {d.label for d in mapped.devices} == {"appeal_to_fear", "propaganda_span"}
    # PTC annotates its own loaded-language technique, not the guide's device (configs/devices.yaml)
    assert "ptc_loaded_language" in mapped.device_labels and "scare_quotes" not in mapped.device_labels
    assert "loaded_language" not in mapped.device_labels
    named = map_to_taxonomy(records[1], "ptc", tax)
    assert {d.label for d in named.devices} == {"ptc_name_calling", "propaganda_span"}
    assert article_split("42") == article_split("42") in ("train", "dev", "test")
    assert {r.doc_id for r in records} == {"ptc-42"}


def test_markup_parse_and_errors(tmp_path):
    r = markup.parse_line('Officials [[discrediting_attribution|falsely claimed]] the [[scare_quotes|"reform"]] worked.')
    assert [(r.text[d.start : d.end], d.label) for d in r.devices] == [
        ("falsely claimed", "discrediting_attribution"),
        ('"reform"', "scare_quotes"),
    ]
    assert set(r.device_labels) == set(markup.FIXED_DEVICES)
    f = tmp_path / "train_x.txt"
    f.write_text("# comment\nFine line here.\nBroken [[loaded_language|word line.\n")
    with pytest.raises(ValueError, match="train_x.txt:3"):
        list(markup.read_markup_file(f))
    with pytest.raises(ValueError, match="unknown device label"):
        markup.parse_line("A [[made_up|thing]] here.")


def test_shipped_examples_parse_and_heldout_is_disjoint():
    train = {r.text for split in ("train", "dev") for r in markup.convert(None, split)}
    heldout = {r.text for r in markup.convert(None, "heldout")}
    assert len(train) > 900 and len(heldout) > 400
    assert not train & heldout


def test_convert_without_the_data_names_the_missing_path_and_data_dir(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from stance.cli.main import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["convert", "newsmtsc", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2
    assert "nowhere" in r.output.replace("\n", "") and "--data-dir" in r.output and "Errno" not in r.output
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["convert", "newsmtsc", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2 and "--data-dir" in r.output and "Errno" not in r.output


def test_the_default_data_dir_is_found_from_any_working_directory(tmp_path, monkeypatch):
    from training.convert import resolve_data_dir

    project_data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not project_data.is_dir():
        pytest.skip("no ../shared/data beside this checkout")
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir("../shared/data").resolve() == project_data.resolve()
    with pytest.raises(ValueError, match="--data-dir"):
        resolve_data_dir("no/such/folder")


def test_label_file_lines_without_device_labels_count_for_the_user_devices_only(tmp_path):
    """A `path:` label file line that does not say what it was annotated for teaches the six devices (and
    hand-added ones), not PTC's technique labels and propaganda_span: else it tells them nothing is there."""
    from training.config import DataSpec

    f = tmp_path / "mine.jsonl"
    lines = [
        {"text": "Critics say it failed.", "devices": [{"start": 0, "end": 11, "label": "unsourced_claim"}]},
        {"text": "It failed.", "devices": [], "device_labels": ["scare_quotes"]},
        {"text": "No device field.", "targets": []},
    ]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    tax = Taxonomy.load()
    plain, said, none = load_records(DataSpec(path=str(f)), tmp_path, tax)
    assert "unsourced_claim" in plain.device_labels and "scare_quotes" in plain.device_labels
    assert not {"propaganda_span", "ptc_loaded_language", "appeal_to_fear"} & set(plain.device_labels)
    assert said.device_labels == ("scare_quotes",) and none.device_labels == ()
    # a device outside the taxonomy (added by a retrain) is read and counted as annotated
    f.write_text(json.dumps({"text": "Maybe so.", "devices": [{"start": 0, "end": 5, "label": "hedge"}]}) + "\n")
    (grown,) = load_records(DataSpec(path=str(f)), tmp_path, tax, extra_devices=["hedge", "scare_quotes"])
    assert grown.device_labels == (*tax.user_devices, "hedge")
