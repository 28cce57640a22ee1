import json

import numpy as np
import pytest

from stance.model.modeling import SentencePrediction, StanceModel

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


def test_inference_batches_are_padded_to_a_few_shapes(tiny_model):
    """Rows and width are rounded up to multiples of 8 (bounded oneDNN primitive cache); the
    padding changes no result."""
    from stance.model.encoding import collate, encode_batch

    texts = [
        "Moscow slammed the so-called reform.",
        "Berlin hailed it.",
        "A much longer sentence about NATO and the EU in Brussels.",
    ]
    enc = encode_batch(tiny_model.tokenizer, texts, [[(0, 6)], [(0, 6)], [(36, 40)]], max_length=64)
    plain = collate(enc, pad_id=0)
    padded = collate(enc, pad_id=0, multiple_of=8)
    assert padded["input_ids"].shape[0] == 8 and padded["input_ids"].shape[1] % 8 == 0
    assert plain["input_ids"].shape[1] % 8 != 0 or plain["input_ids"].shape[0] != 8
    assert (padded["attention_mask"][3:, 0] == 1).all() and (padded["attention_mask"][3:, 1:] == 0).all()
    a, b = tiny_model.backend(plain), tiny_model.backend(padded)
    assert np.allclose(a[0], b[0][:3], atol=1e-5)
    for i, e in enumerate(enc):
        assert np.allclose(a[1][i, : len(e.input_ids)], b[1][i, : len(e.input_ids)], atol=1e-5)
    with pytest.raises(ValueError, match="multiple_of"):
        collate(enc, pad_id=0, labels=[{}] * 3, multiple_of=8)


def test_evaluate_reports_only_the_measures_the_data_supports(tiny_model):
    from stance.labels.format import LabelRecord
    from training.evaluate import evaluate_model

    records = [
        LabelRecord.from_dict(
            {
                "text": "Critics say Moscow failed.",
                "targets": [{"start": 12, "end": 18, "stance": "negative"}],
                "devices": [{"start": 0, "end": 11, "label": "unsourced_claim"}],
            }
        ),
    ]
    result = evaluate_model(tiny_model, {"mine": records})
    assert "span_identification" not in result["datasets"]["mine"]
    assert not any("si_f1" in k for k in result["headline"])
    assert "mine/stance_macro_f1" in result["headline"]


def test_card_names_the_members_of_a_soup(tiny_model, tmp_path):
    import json

    from stance.store.card import write_card

    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")
    members = ["old/model.safetensors", "new/model/model.safetensors"]
    (tmp_path / "m" / "evaluation.json").write_text(json.dumps({"headline": {"score": 0.5}, "soup_of": members}))
    card = write_card(tmp_path / "m").read_text()
    assert "A model soup: the weights of 2 trained models averaged" in card and "new/model/model.safetensors" in card


def test_card_names_the_teacher_and_its_dev_figures(tiny_model, tmp_path):
    """The teacher's base and dev figures come from the metrics.json beside its cached probabilities
    (training.train.teacher_summary); without one the card says they were not recorded."""
    import json

    from stance.store.card import write_card
    from training.train import teacher_summary

    cache = tmp_path / "teacher" / "probs.jsonl.gz"
    cache.parent.mkdir()
    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")

    def card_with(teacher):
        evaluation = {"headline": {"score": 0.5}, "distilled_from": str(cache), "teacher": teacher}
        (tmp_path / "m" / "evaluation.json").write_text(json.dumps(evaluation))
        return write_card(tmp_path / "m").read_text()

    assert "teacher dev figures not recorded" in card_with(teacher_summary(str(cache)))
    headline = {"newsmtsc:dev_rw/stance_macro_f1": 0.866, "score": 0.865}
    (cache.parent / "metrics.json").write_text(json.dumps({"base_model": "mpnet", "headline": headline}))
    card = card_with(teacher_summary(str(cache)))
    assert "all-mpnet-base-v2" in card and "teacher dev newsmtsc:dev_rw/stance_macro_f1 0.866" in card
