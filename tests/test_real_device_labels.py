"""The project's device label files use the guide's device names, and standoff labels are read
back only while the text still matches their hash."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stance.labels.taxonomy import FIXED_DEVICES
from training.convert import allsides
from training.convert.allsides import read_standoff, text_hash

ROOT = Path(__file__).resolve().parents[1]
GUIDE_NAMES = set(FIXED_DEVICES)


def test_standoff_label_files_use_the_guides_device_names_and_valid_offsets():
    folders = ("real_devices", "real_devices_second", "real_devices_next")
    files = [p for folder in folders for p in sorted((ROOT / "training/data" / folder).glob("*.jsonl"))]
    assert files, "no real device label files"
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            obj = json.loads(line)
            assert {"doc_id", "start", "end", "hash", "spans", "annotator"} <= set(obj), f"{path}:{n}"
            assert "text" not in obj, f"{path}:{n}: standoff must not carry the text"
            for s, e, label in obj["spans"]:
                assert label in GUIDE_NAMES, f"{path}:{n}: {label}"
                assert 0 <= s < e <= obj["end"] - obj["start"], f"{path}:{n}"


def test_markup_examples_use_the_guides_device_names():
    mark = re.compile(r"\[\[([a-z_]+)\|")
    for path in sorted((ROOT / "training/data/framing_examples").glob("*.txt")):
        labels = {m for line in path.read_text().splitlines() if not line.startswith("#") for m in mark.findall(line)}
        assert labels <= GUIDE_NAMES, f"{path}: {labels - GUIDE_NAMES}"


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_standoff_reads_text_from_the_data_and_stops_on_a_changed_sentence(tmp_path):
    article = "Intro line. The regime in Tehran ignored the ruling. End."
    start = article.index("The regime")
    end = article.index(" End.")
    row = {
        "doc_id": "a1",
        "start": start,
        "end": end,
        "hash": text_hash(article[start:end]),
        "spans": [[4, 10, "name_calling"]],
        "annotator": "t",
    }
    [record] = read_standoff(_write(tmp_path, [row]), {"a1": article})
    assert record.text == "The regime in Tehran ignored the ruling."
    assert [(record.text[d.start : d.end], d.label) for d in record.devices] == [("regime", "name_calling")]
    assert record.device_labels == FIXED_DEVICES
    with pytest.raises(ValueError, match="no longer matches"):
        list(read_standoff(_write(tmp_path, [row]), {"a1": article.replace("regime", "govern")}))


def test_article_split_is_stable_and_has_all_three_parts():
    ids = [f"id{i}" for i in range(400)]
    splits = [allsides.article_split(i) for i in ids]
    assert splits == [allsides.article_split(i) for i in ids]
    assert {"train", "dev", "heldout"} == set(splits)


def test_convert_logs_which_label_directory_it_reads(tmp_path, monkeypatch, caplog):
    """The labels follow the imported `training` package, not the config: the log names them, and warns
    when the working directory is a checkout with labels of its own."""
    article = "The regime in Tehran ignored the ruling."
    row = {"doc_id": "a1", "start": 0, "end": len(article), "hash": text_hash(article), "spans": [], "annotator": "t"}
    labels = tmp_path / "labels"
    labels.mkdir()
    _write(labels, [row])
    monkeypatch.setattr(allsides, "LABELS_DIR", labels)
    monkeypatch.setattr(allsides, "article_texts", lambda data_dir: {"a1": article})
    monkeypatch.setattr(allsides, "sampling_reasons", lambda: {})
    split = allsides.article_split("a1")
    monkeypatch.chdir(tmp_path)  # no checkout here
    with caplog.at_level("INFO", logger="stance.train"):
        records = list(allsides.convert(tmp_path, split))
    assert [r.text for r in records] == [article]
    assert f"allsides:{split} device labels from 1 standoff files in {labels}" in caplog.text
    assert "not from" not in caplog.text
    other = tmp_path / "other_checkout"
    (other / "training" / "data" / "real_devices").mkdir(parents=True)
    monkeypatch.chdir(other)  # a second checkout whose labels the imported package does not read
    caplog.clear()
    with caplog.at_level("INFO", logger="stance.train"):
        list(allsides.convert(tmp_path, split))
    assert f"not from {other / 'training' / 'data' / 'real_devices'}" in caplog.text


def test_a_data_spec_names_the_label_files_it_reads(tmp_path, monkeypatch, caplog):
    """`labels` on an allsides spec: folders, files and globs, relative to the working directory;
    only those files are read, and a name that matches nothing stops the run."""
    from stance.labels.taxonomy import Taxonomy
    from training.config import TrainConfig
    from training.data import load_records

    article = "The regime in Tehran ignored the ruling. Critics called it a so-called reform."
    first, second = article[:40], article[41:]
    split = allsides.article_split("a1")
    rows = {
        "old/r1.jsonl": {"doc_id": "a1", "start": 0, "end": 40, "hash": text_hash(first), "spans": [[4, 10, "name_calling"]]},
        "next/r2.jsonl": {"doc_id": "a1", "start": 41, "end": len(article), "hash": text_hash(second), "spans": []},
        "next/r3.jsonl": {"doc_id": "a1", "start": 41, "end": len(article), "hash": text_hash(second), "spans": []},
    }
    for name, row in rows.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(json.dumps({**row, "annotator": "t"}) + "\n")
    monkeypatch.setattr(allsides, "article_texts", lambda data_dir: {"a1": article})
    monkeypatch.setattr(allsides, "sampling_reasons", lambda: {})
    monkeypatch.chdir(tmp_path)

    def texts(labels):
        raw = {"train": [{"source": "allsides", "split": split, "labels": labels}]}
        spec = TrainConfig.from_dict(raw).train[0]
        return [r.text for r in load_records(spec, tmp_path, Taxonomy.load())]

    with caplog.at_level("INFO", logger="stance.train"):
        assert texts(["old"]) == [first]
    assert "1 standoff files named by old" in caplog.text
    assert texts(["old", "next/r2.jsonl"]) == [first, second]
    assert texts(["next/r*.jsonl"]) == [second, second]
    assert texts([str(tmp_path / "old")]) == [first]  # absolute
    assert texts([str(tmp_path / "next" / "*2.jsonl")]) == [second]
    with pytest.raises(ValueError, match="'nowhere' names no standoff file"):
        texts(["old", "nowhere"])
    with pytest.raises(ValueError, match=r"train\[0\]: 'labels' is a list"):
        texts("old")
    with pytest.raises(ValueError, match="read by source allsides only"):
        TrainConfig.from_dict({"dev": [{"source": "ptc", "split": "dev", "labels": ["old"]}]})


def test_training_data_keeps_the_label_files_a_model_was_trained_on(tmp_path, monkeypatch):
    """training.json stores the files a `labels` entry matched, absolute, so that a retrain reads them."""
    from training.config import DataSpec, read_training_data, write_training_data

    (tmp_path / "labels").mkdir()
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / "labels" / name).write_text("")
    monkeypatch.chdir(tmp_path)
    spec = DataSpec(source="allsides", split="train", repeat=2, labels=["labels"])
    (tmp_path / "model").mkdir()
    write_training_data(tmp_path / "model", (spec, DataSpec(source="ptc")), (), str(tmp_path))
    stored = json.loads((tmp_path / "model" / "training.json").read_text())["train"]
    assert stored == [
        {
            "source": "allsides",
            "split": "train",
            "repeat": 2,
            "labels": [str(tmp_path / "labels" / n) for n in ("a.jsonl", "b.jsonl")],
        },
        {"source": "ptc", "split": "train"},
    ]
    read = read_training_data(tmp_path / "model").train[0]
    assert read.labels == tuple(str(tmp_path / "labels" / n) for n in ("a.jsonl", "b.jsonl"))
