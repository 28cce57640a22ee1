"""Feature distillation: a teacher's stance-head features written, read back, attached and matched."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from stance.labels.format import LabelRecord, TargetLabel
from stance.model.modeling import StanceModel
from tests.conftest import tiny_stance_model
from tests.test_train_e2e import EXAMPLES, _one_epoch_settings
from training.config import TrainConfig
from training.distill_features import attach, extract, feature_key, load, load_all, save
from training.train import train

LONG = "Moscow " + "and the plan " * 40 + "Kyiv replied."  # Kyiv lies past the tiny model's 64 tokens
RECORDS = [
    LabelRecord(text="Moscow slammed the plan.", targets=(TargetLabel(0, 6, None),)),
    LabelRecord(text="The EU and NATO met.", targets=(TargetLabel(4, 6, "neutral"), TargetLabel(11, 15, None))),
    LabelRecord(text=LONG, targets=(TargetLabel(0, 6, None), TargetLabel(LONG.index("Kyiv"), LONG.index("Kyiv") + 4, None))),
    LabelRecord(text="No one here."),
]


@pytest.mark.parametrize("one_each", [False, True])
def test_extract_gives_each_target_its_features(tokenizer, one_each):
    teacher = tiny_stance_model(tokenizer, one_target_per_pass=one_each)
    feats = extract(teacher, RECORDS, batch_size=2)
    kyiv = LONG.index("Kyiv")
    expected = {feature_key(r.text, t.start, t.end) for r in RECORDS for t in r.targets} - {feature_key(LONG, kyiv, kyiv + 4)}
    assert set(feats) == expected  # the target past the cut has none
    assert all(v.shape == (32,) and v.dtype == np.float16 for v in feats.values())
    # the features are the network's stance-head layer: the same sentence alone gives the same row
    alone = extract(teacher, RECORDS[:1])
    key = feature_key(RECORDS[0].text, 0, 6)
    assert np.allclose(alone[key].astype(np.float32), feats[key].astype(np.float32), atol=2e-2)


def test_files_round_trip_and_attach_where_found(tmp_path):
    feats = {feature_key("Moscow slammed the plan.", 0, 6): np.arange(4, dtype=np.float16)}
    path = save(tmp_path / "f.npz", feats, "v1")
    back = load(path)
    assert list(back) == list(feats) and np.array_equal(back[next(iter(feats))], feats[next(iter(feats))])
    records, n = attach(RECORDS[:2], back)
    assert n == 1
    assert records[0].meta["teacher_features"][0].tolist() == [0, 1, 2, 3]
    assert "teacher_features" not in records[1].meta  # nothing found: the record is left as it was
    with pytest.raises(ValueError, match="no such feature file"):
        load(tmp_path / "missing.npz")
    other = save(tmp_path / "g.npz", {feature_key("The EU met.", 4, 6): np.ones(4, dtype=np.float16)})
    merged, width = load_all([path, other])
    assert len(merged) == 2 and width == 4
    wider = save(tmp_path / "h.npz", {feature_key("The EU met.", 4, 6): np.ones(8, dtype=np.float16)})
    with pytest.raises(ValueError, match="widths"):  # two teachers' features cannot be mixed
        load_all([path, wider])


def test_feature_loss_is_zero_when_aligned_and_skips_rows_without_features(tokenizer):
    model = tiny_stance_model(tokenizer, teacher_feature_size=32, feature_distill_weight=1.0)
    net = model.network
    with torch.no_grad():
        net.feature_projection.weight.copy_(torch.eye(32))
        net.feature_projection.bias.zero_()
    feats = torch.randn(2, 3, 32)
    targets = 2 * feats  # same direction: cosine 1
    targets[1, 2] = 0  # no teacher features for this target
    assert net._feature_loss(feats, targets).item() == pytest.approx(0.0, abs=1e-5)
    assert net._feature_loss(feats, -targets).item() == pytest.approx(2.0, abs=1e-5)
    assert net._feature_loss(feats, torch.zeros_like(targets)).item() == 0.0


def test_training_with_features_matches_them(tmp_path, tiny_base, tokenizer):
    records = [
        LabelRecord(text=e["text"], targets=tuple(TargetLabel(t["start"], t["end"], t["stance"]) for t in e["targets"]))
        for e in EXAMPLES
    ]
    path = save(tmp_path / "teacher.npz", extract(tiny_stance_model(tokenizer, seed=3), records), "tiny")
    settings = _one_epoch_settings(tmp_path, tiny_base, "run", distill_features=[str(path)], logging_steps=1, epochs=2)
    train(TrainConfig.from_dict(settings))
    model = StanceModel.from_pretrained(tmp_path / "run" / "model", bf16=False)
    assert model.config.teacher_feature_size == 32 and model.network.feature_projection is not None
    summary = json.loads((tmp_path / "run" / "data_summary.json").read_text())
    assert summary["distill_features"]["distill_features"]["targets"] == 6  # three targets, the examples twice
    # without the file the same run has no projection and a different loss
    plain = {**settings, "output_dir": str(tmp_path / "plain"), "distill_features": []}
    train(TrainConfig.from_dict(plain))
    losses = [
        [json.loads(line).get("loss") for line in (tmp_path / run / "log.jsonl").read_text().splitlines()]
        for run in ("run", "plain")
    ]
    assert losses[0][0] != losses[1][0]
    assert StanceModel.from_pretrained(tmp_path / "plain" / "model", bf16=False).network.feature_projection is None
    # a second phase on a model without a projection gets a new one for its teacher features
    more = {**settings, "output_dir": str(tmp_path / "more"), "init_from": str(tmp_path / "plain" / "model"), "epochs": 1}
    train(TrainConfig.from_dict(more))
    continued = StanceModel.from_pretrained(tmp_path / "more" / "model", bf16=False)
    assert continued.config.teacher_feature_size == 32 and continued.network.feature_projection.out_features == 32


def test_features_of_one_width_per_sentence(tokenizer):
    from training.data import build_features

    record = replace(RECORDS[1], meta={"teacher_features": [np.zeros(4), np.zeros(8)]})
    with pytest.raises(ValueError, match="widths"):
        build_features([record], tokenizer, [], 64)
