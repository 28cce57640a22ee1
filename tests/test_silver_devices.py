"""Silver device labels (training.silver_devices) with a tiny device teacher: only transfer sentences of
train articles that no one labelled by hand are labelled, the teacher's own spans are written as
standoff, and a training run's transfer records take them (so the device loss applies)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from stance.labels.format import DeviceLabel, LabelRecord, TargetLabel
from stance.labels.taxonomy import FIXED_DEVICES
from training import silver_devices, transfer
from training.config import TrainConfig
from training.convert.allsides import article_split, article_texts, text_hash
from training.device_annotation import labelled_sentences

ARTICLES = {
    "train": "Russia accused Ukraine of shelling the plant. Critics say Berlin gave too much away.",
    "dev": "Japan welcomed the move. Canada said nothing at all.",
}


def _article_id(split: str) -> str:
    return next(f"art{i}" for i in range(1000) if article_split(f"art{i}") == split)


@pytest.fixture()
def transfer_file(tmp_path, monkeypatch) -> tuple[Path, dict[str, str]]:
    """AllSides articles (one train, one dev) and a transfer file over all their sentences."""
    ids = {split: _article_id(split) for split in ARTICLES}
    (tmp_path / "allsides").mkdir()
    frame = pd.DataFrame({"id": list(ids.values()), "title": ["t", "t"], "text": list(ARTICLES.values())})
    frame.to_parquet(tmp_path / "allsides" / "articles.parquet")
    article_texts.cache_clear()
    sentences = []
    for split, text in ARTICLES.items():
        start = 0
        for sent in text.split(". "):
            sent = sent if sent.endswith(".") else sent + "."
            start = text.index(sent, start)
            sentences.append({"doc_id": ids[split], "start": start, "end": start + len(sent), "text": sent, "targets": [[0, 5]]})
            sentences[-1]["probs"] = [[0.2, 0.5, 0.3]]
    path = tmp_path / "transfer.jsonl.gz"
    transfer.write_standoff(sentences, path, {"counts": {}})
    monkeypatch.setitem(transfer.TRANSFER_SPLITS, "train", path)
    return tmp_path, ids


def test_only_unlabelled_train_article_sentences_are_labelled(transfer_file, tmp_path):
    data_dir, ids = transfer_file
    config = silver_devices.SilverDevicesConfig(data_dir=str(data_dir))
    records = silver_devices.silver_sentences(config, exclude=set())
    assert {r.doc_id for r in records} == {ids["train"]}
    assert [r.text for r in records] == [
        "Russia accused Ukraine of shelling the plant.",
        "Critics say Berlin gave too much away.",
    ]
    # a sentence labelled by the guide is gold: no silver for it
    gold = tmp_path / "labels" / "real_devices_next"
    gold.mkdir(parents=True)
    row = {"doc_id": ids["train"], "start": 0, "end": 45, "hash": text_hash(records[0].text), "spans": []}
    (gold / "train9_ann_x.jsonl").write_text(json.dumps(row) + "\n")
    exclude = labelled_sentences(tmp_path / "labels", key=("doc_id", "hash"))
    kept = silver_devices.silver_sentences(config, exclude=exclude)
    assert [r.text for r in kept] == ["Critics say Berlin gave too much away."]


def test_build_writes_the_teachers_spans_as_standoff(transfer_file, tmp_path, tiny_model, tiny_model_dir, monkeypatch):
    data_dir, ids = transfer_file
    monkeypatch.setattr(silver_devices, "labelled_sentences", lambda **_: set())
    out = tmp_path / "silver.jsonl.gz"
    header = silver_devices.build(
        silver_devices.SilverDevicesConfig(teacher=str(tiny_model_dir), data_dir=str(data_dir), output=str(out))
    )
    assert header["counts"]["sentences"] == 2
    assert header["labels"] == [d for d in FIXED_DEVICES if d in tiny_model.device_labels]
    lines = [json.loads(x) for x in gzip.open(out, "rt")][1:]
    assert all("text" not in x for x in lines)
    labels, spans = silver_devices.read(out)
    for text in ("Russia accused Ukraine of shelling the plant.", "Critics say Berlin gave too much away."):
        expected = [(d.start, d.end, d.label) for d in tiny_model.predict(text).devices if d.label in FIXED_DEVICES]
        assert [tuple(s[:3]) for s in spans[(ids["train"], text_hash(text))]] == expected


def test_transfer_records_take_the_silver_spans(tmp_path):
    text = "Critics say the so-called reform failed."
    path = tmp_path / "silver.jsonl.gz"
    records = [
        LabelRecord(text=text, targets=(TargetLabel(16, 25),), device_labels=(), source="transfer", doc_id="a1"),
        LabelRecord(text="Nothing here.", device_labels=(), source="transfer", doc_id="a1"),  # not in the file
        LabelRecord(text=text, device_labels=(), source="allsides", doc_id="a1"),  # not a transfer record
    ]
    silver_devices.write(
        records[:1],
        [[[0, 11, "unsourced_claim", 0.9], [16, 25, "discrediting_attribution", 0.4]]],
        path,
        {"labels": list(FIXED_DEVICES)},
    )
    out, n = silver_devices.add_silver_devices(records, path)
    assert n == 1
    assert out[0].devices == (DeviceLabel(0, 11, "unsourced_claim"), DeviceLabel(16, 25, "discrediting_attribution"))
    assert out[0].device_labels == FIXED_DEVICES and out[0].targets == records[0].targets
    assert out[1:] == records[1:]
    strict, _ = silver_devices.add_silver_devices(records, path, min_score=0.5)
    assert strict[0].devices == (DeviceLabel(0, 11, "unsourced_claim"),)


def test_silver_devices_need_a_distillation_run(tmp_path):
    from training.train import train

    config = TrainConfig(output_dir=str(tmp_path / "run"), transfer_devices="silver.jsonl.gz")
    with pytest.raises(ValueError, match="distill_from"):
        train(config)


def test_a_share_of_device_free_silver_sentences_stays_unannotated(tmp_path):
    path = tmp_path / "silver.jsonl.gz"
    records = [
        LabelRecord(text=f"Minister number {i} spoke on Tuesday.", device_labels=(), source="transfer", doc_id="a1")
        for i in range(400)
    ]
    spans = [[[0, 8, "loaded_language", 0.9]] if i % 4 == 0 else [] for i in range(400)]
    silver_devices.write(records, spans, path, {"labels": list(FIXED_DEVICES)})
    out, n = silver_devices.add_silver_devices(records, path, negative_share=0.25)
    annotated = [r for r in out if r.device_labels]
    assert n == len(annotated)
    assert sum(1 for r in annotated if r.devices) == 100  # every sentence with a device keeps it
    assert 50 <= sum(1 for r in annotated if not r.devices) <= 100  # about a quarter of the 300 without
    again, _ = silver_devices.add_silver_devices(records, path, negative_share=0.25)
    assert again == out  # the same sentences every run
    assert silver_devices.add_silver_devices(records, path, negative_share=1.0)[1] == 400
    with pytest.raises(ValueError, match="negative_share"):
        silver_devices.add_silver_devices(records, path, negative_share=1.5)
