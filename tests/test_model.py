import json

import numpy as np
import pytest

from stance.modeling import SentencePrediction, StanceModel

TEXT = "Critics say the so-called reform by Moscow failed, Putin said."


def test_single_string_gives_single_result(tiny_model):
    pred = tiny_model.predict(TEXT, targets=[(36, 42), (51, 56)])
    assert isinstance(pred, SentencePrediction)
    assert [t.text for t in pred.targets] == ["Moscow", "Putin"]
    for t in pred.targets:
        assert t.stance in ("negative", "neutral", "positive")
        assert abs(sum(t.probs.values()) - 1) < 1e-4
    for d in pred.devices:
        assert TEXT[d.start : d.end] == d.text
        assert d.label != "propaganda_span"  # internal labels are not reported


def test_batch_matches_single(tiny_model):
    texts = [TEXT, "Beijing hailed the deal.", TEXT + " " + TEXT]
    targets = [[(36, 42)], [(0, 7)], [(36, 42)]]
    batch = tiny_model.predict(texts, targets=targets, batch_size=2)
    for text, tg, b in zip(texts, targets, batch):
        single = tiny_model.predict(text, targets=tg)
        assert np.allclose(list(single.targets[0].probs.values()), list(b.targets[0].probs.values()), atol=1e-5)


def test_non_string_input_is_a_value_error(tiny_model):
    with pytest.raises(ValueError, match="strings"):
        tiny_model.predict([TEXT, 3])


def test_save_and_reload_predicts_the_same(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["stance_labels"] == ["negative", "neutral", "positive"]
    assert "scare_quotes" in config["device_labels"]
    again = StanceModel.from_pretrained(tmp_path / "m", bf16=False)
    a = tiny_model.predict(TEXT, targets=[(36, 42)]).targets[0].probs
    b = again.predict(TEXT, targets=[(36, 42)]).targets[0].probs
    # weights are stored in bf16, so allow bf16 rounding
    assert all(abs(a[k] - b[k]) < 0.02 for k in a)
    assert again.device_labels == tiny_model.device_labels


def test_unknown_model_name_is_clear(tmp_path):
    with pytest.raises((OSError, ValueError)):
        StanceModel.from_pretrained(tmp_path / "nothing-here")
