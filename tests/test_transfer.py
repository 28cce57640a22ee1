"""The transfer set (training.transfer) with a tiny teacher: targets found as `stance score` finds
them, probabilities written as standoff and read back, NewsMTSC dev sentences dropped, the cache
keyed by the teacher's version; and the teacher's probabilities softened by a temperature."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stance.labels.format import LabelRecord, TargetLabel
from stance.pipeline.actor_registry import ActorRegistry
from stance.pipeline.actors import ActorFinder
from training import transfer
from training.convert.allsides import article_split, article_texts
from training.train import soften

ARTICLES = [
    "Russia accused Ukraine of shelling the plant. Beijing hailed the deal on Tuesday.\n\nThe weather was mild.",
    "Germany and France signed the treaty. Critics say Berlin gave too much away.",
    "Japan welcomed the move. Canada said nothing at all.",
]


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    ids, i = [], 0
    while len(ids) < len(ARTICLES):  # ids outside the held-out split, which never enters the transfer set
        if article_split(f"art{i}") != "heldout":
            ids.append(f"art{i}")
        i += 1
    (tmp_path / "allsides").mkdir()
    frame = pd.DataFrame({"id": ids, "title": ["t"] * len(ids), "text": ARTICLES})
    frame.to_parquet(tmp_path / "allsides" / "articles.parquet")
    article_texts.cache_clear()
    return tmp_path


def _config(data_dir: Path, tmp_path: Path, teacher: Path | str = "") -> transfer.TransferConfig:
    return transfer.TransferConfig(
        teacher=str(teacher),
        data_dir=str(data_dir),
        articles=10,
        use_ner=False,
        exclude_newsmtsc_dev=False,
        output=str(tmp_path / "out" / "transfer.jsonl.gz"),
        cache_dir=str(tmp_path / "cache"),
    )


def test_targets_are_the_pipelines_mentions_and_dev_sentences_are_dropped(data_dir, tmp_path):
    config = _config(data_dir, tmp_path)
    finder = ActorFinder(ActorRegistry.load(), use_ner=False)
    sentences, counts = transfer.find_transfer_targets(config, finder, exclude=set())
    found = {s["text"][a:b] for s in sentences for a, b in s["targets"]}
    assert {"Russia", "Ukraine", "Beijing", "Germany", "France", "Berlin", "Japan", "Canada"} <= found
    assert all(s["text"] == article_texts(str(data_dir))[s["doc_id"]][s["start"] : s["end"]] for s in sentences)
    dropped, counts2 = transfer.find_transfer_targets(config, finder, exclude={transfer.normalise("Japan welcomed the move.")})
    assert counts2["dropped_newsmtsc_dev"] == 1
    assert "Japan welcomed the move." not in {s["text"] for s in dropped}


def test_a_second_file_skips_the_articles_the_first_read(data_dir, tmp_path):
    finder = ActorFinder(ActorRegistry.load(), use_ner=False)
    first = transfer.TransferConfig(**{**_config(data_dir, tmp_path).__dict__, "articles": 2})
    second = transfer.TransferConfig(**{**first.__dict__, "skip_articles": 2})
    a, counts_a = transfer.find_transfer_targets(first, finder, exclude=set())
    b, counts_b = transfer.find_transfer_targets(second, finder, exclude=set())
    assert counts_a["articles"] == 2 and counts_b["articles"] == 1
    assert {s["doc_id"] for s in a}.isdisjoint({s["doc_id"] for s in b}) and len({s["doc_id"] for s in a + b}) == 3
    # the two configs label different sentences: different cache files
    assert transfer.cache_path(first, "v") != transfer.cache_path(second, "v")


def test_transfer_splits_name_their_files(tmp_path):
    with pytest.raises(ValueError, match="train2"):
        list(transfer.convert(tmp_path, split="dev"))


def test_labels_written_as_standoff_read_back_and_cached_per_teacher(data_dir, tmp_path, tiny_model, tiny_model_dir):
    config = _config(data_dir, tmp_path, tiny_model_dir)
    header = transfer.build(config)
    assert header["counts"]["targets"] >= 8
    out = Path(config.output)
    lines = [json.loads(x) for x in gzip.open(out, "rt")]
    assert "header" in lines[0] and all("text" not in x for x in lines[1:])
    records = list(transfer.read_standoff(out, data_dir))
    assert sum(len(r.targets) for r in records) == header["counts"]["targets"]
    # the probabilities are the teacher's own on the same targets
    r = records[0]
    expected = tiny_model.predict(r.text, [(t.start, t.end) for t in r.targets])
    for row, target in zip(r.meta["teacher_probs"], expected.targets):
        assert row == pytest.approx([target.probs[k] for k in tiny_model.stance_labels], abs=2e-3)
    assert all(t.stance is None for t in r.targets) and r.device_labels == ()
    # the same teacher and config: the cache answers; a changed teacher: a new cache file
    first = transfer.cache_path(config, transfer_version(tiny_model_dir))
    assert first.exists()
    changed = tmp_path / "teacher2"
    import torch

    with torch.no_grad():
        model = type(tiny_model).from_pretrained(str(tiny_model_dir), backend="torch")
        model.network.encoder.embeddings.word_embeddings.weight += 0.01  # a retrained teacher: all its weights change
        model.save_pretrained(changed)
    assert transfer.cache_path(config, transfer_version(changed)) != first


def test_a_changed_article_stops_reading(data_dir, tmp_path, tiny_model_dir):
    config = _config(data_dir, tmp_path, tiny_model_dir)
    transfer.build(config)
    frame = pd.read_parquet(data_dir / "allsides" / "articles.parquet")
    frame["text"] = frame["text"].str.replace("Russia", "Norway")
    frame.to_parquet(data_dir / "allsides" / "articles.parquet")
    article_texts.cache_clear()
    with pytest.raises(ValueError, match="no longer matches"):
        list(transfer.read_standoff(config.output, data_dir))


def transfer_version(path: Path) -> str:
    from stance.store.model_files import model_version

    return model_version(path) or ""


def test_temperature_softens_and_sharpens_teacher_probabilities():
    def record(p):
        return LabelRecord(text="Russia spoke.", targets=(TargetLabel(0, 6, None),), meta={"teacher_probs": [p]})

    p = [0.7, 0.2, 0.1]
    [soft] = soften([record(p)], 2.0)
    [sharp] = soften([record(p)], 0.5)
    assert np.sum(soft.meta["teacher_probs"][0]) == pytest.approx(1.0)
    assert max(soft.meta["teacher_probs"][0]) < 0.7 < max(sharp.meta["teacher_probs"][0])
    assert np.argmax(soft.meta["teacher_probs"][0]) == 0
    with pytest.raises(ValueError):
        soften([record(p)], 0.0)


def test_stance_temperature_is_fitted_saved_and_applied(tiny_model, tmp_path):
    from stance.model.modeling import StanceModel
    from stance.store.model_files import InferenceSettings
    from training.metrics import expected_calibration_error, fit_temperature

    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 300)
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), gold] += 1.0
    overconfident = np.exp(4 * logits) / np.exp(4 * logits).sum(-1, keepdims=True)
    t = fit_temperature(overconfident, gold)
    assert t > 2
    calibrated = InferenceSettings(stance_temperature=t).calibrate(overconfident.astype(np.float32))
    assert expected_calibration_error(calibrated, gold) < expected_calibration_error(overconfident, gold)
    assert (calibrated.argmax(-1) == overconfident.argmax(-1)).all()
    # saved in config.json and applied by every prediction path
    text, span = "Russia accused Ukraine.", [(0, 6)]
    before = tiny_model.predict(text, span).targets[0].probs
    tiny_model.config.stance_temperature = 3.0
    try:
        tiny_model.save_pretrained(tmp_path / "m")
    finally:
        tiny_model.config.stance_temperature = 1.0
    loaded = StanceModel.from_pretrained(str(tmp_path / "m"), backend="torch")
    assert loaded.settings.stance_temperature == 3.0
    after = loaded.predict(text, span).targets[0].probs
    assert max(after.values()) < max(before.values())


def test_worst_ece_temperature_calibrates_every_dev_set():
    from stance.store.model_files import InferenceSettings
    from training.config import TrainConfig
    from training.metrics import expected_calibration_error, fit_temperature, fit_temperature_worst_ece

    rng = np.random.default_rng(1)

    def dev_set(n: int, sharpness: float):
        gold = rng.integers(0, 3, n)
        logits = rng.normal(0, 1, (n, 3))
        logits[np.arange(n), gold] += 1.0
        return np.exp(sharpness * logits) / np.exp(sharpness * logits).sum(-1, keepdims=True), gold

    groups = [dev_set(900, 1.0), dev_set(300, 3.0)]  # a large well-scaled set and a small overconfident one

    def worst(t: float) -> float:
        calibrate = InferenceSettings(stance_temperature=t).calibrate
        return max(expected_calibration_error(calibrate(p.astype(np.float32)), g) for p, g in groups)

    pooled = fit_temperature(np.concatenate([p for p, _ in groups]), np.concatenate([g for _, g in groups]))
    t = fit_temperature_worst_ece(groups)
    assert worst(t) < worst(pooled)
    assert fit_temperature_worst_ece([]) == 1.0
    with pytest.raises(ValueError, match="stance_calibration"):
        TrainConfig.from_dict({"stance_calibration": "ece"})
