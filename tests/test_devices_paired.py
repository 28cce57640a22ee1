"""bench/devices_real.py with two models: the paired article-level bootstrap of their macro-F1 difference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES


@pytest.fixture(scope="module")
def devices_real():
    path = Path(__file__).resolve().parents[1] / "bench" / "devices_real.py"
    spec = importlib.util.spec_from_file_location("devices_real", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _records(n_docs: int = 12) -> list[LabelRecord]:
    text = "Critics say the reckless plan is a scam."
    return [
        LabelRecord(
            text=text,
            devices=(DeviceLabel(0, 11, "unsourced_claim"), DeviceLabel(16, 24, "loaded_language")),
            device_labels=FIXED_DEVICES,
            doc_id=f"doc{i // 2}",
        )
        for i in range(2 * n_docs)
    ]


def test_paired_difference_of_two_models(devices_real):
    records = _records()
    perfect = [[(d.start, d.end, d.label) for d in r.devices] for r in records]
    half = [p[:1] for p in perfect]  # finds the unsourced claims, misses the loaded language
    same = devices_real.paired_difference(records, perfect, perfect, resamples=200)
    assert same["macro_f1_diff"] == 0.0 and same["ci95"] == [0.0, 0.0] and same["articles"] == 12
    better = devices_real.paired_difference(records, half, perfect, resamples=200)
    # the macro F1 averages all six devices: one device from 0 to 1 adds 1/6
    assert better["macro_f1_diff"] == pytest.approx(1 / 6)
    assert better["ci95"][0] > 0
    # the point estimate matches what score() reports for each model alone
    scores = [devices_real.score(records, p)["macro"]["f1"] for p in (half, perfect)]
    assert better["macro_f1_diff"] == pytest.approx(scores[1] - scores[0])


def test_labels_reach_the_reader_and_are_refused_with_agreement(devices_real, monkeypatch):
    seen = {}

    def fake_convert(data_dir, split, labels=()):
        seen.update(split=split, labels=list(labels))
        return iter(())

    monkeypatch.setattr(devices_real, "convert", fake_convert)
    monkeypatch.setattr(devices_real, "predicted_spans", lambda *a, **k: [])
    monkeypatch.setattr(devices_real, "score", lambda records, pred: {})
    argv = ["devices_real.py", "--split", "dev", "--labels", "a", "--labels", "b/*"]
    monkeypatch.setattr("sys.argv", argv)
    devices_real.main()
    assert seen == {"split": "dev", "labels": ["a", "b/*"]}
    monkeypatch.setattr("sys.argv", ["devices_real.py", "--agreement", "--labels", "a"])
    with pytest.raises(ValueError, match="--agreement"):
        devices_real.main()
