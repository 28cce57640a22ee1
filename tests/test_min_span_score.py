"""A minimum span score per device label (``device_min_scores`` in the model's config): decoded spans scored
below it are dropped, in every decoding path; training tunes it for PTC's label-agnostic spans on dev."""

from __future__ import annotations

import copy
import json

import numpy as np

from stance.labels.format import DeviceLabel, LabelRecord
from stance.model.encoding import INSIDE, OUTSIDE, PROPAGANDA_SPAN, decode_spans, encode_batch
from training.evaluate import RawPredictions, retune_thresholds, tune_min_scores

TEXT = "Officials met in Geneva, and the scheme was a shameful betrayal of everyone."


def _probs(enc, n_labels: int, column: int, spans: list[tuple[str, float]]) -> np.ndarray:
    """OUTSIDE everywhere; the tokens of each (phrase, p) of TEXT inside ``column`` with probability p."""
    probs = np.zeros((len(enc.input_ids), n_labels, 3))
    probs[:, :, OUTSIDE] = 1.0
    for phrase, p in spans:
        start = TEXT.index(phrase)
        for i, (a, b) in enumerate(enc.offsets):
            if a >= start and b <= start + len(phrase) and b > a:
                probs[i, column] = 0.0
                probs[i, column, INSIDE] = p
                probs[i, column, OUTSIDE] = 1.0 - p
    return probs


def test_spans_scored_below_their_labels_minimum_are_dropped(tokenizer):
    [enc] = encode_batch(tokenizer, [TEXT])
    labels = ["loaded_language", PROPAGANDA_SPAN]
    probs = _probs(enc, 2, 1, [("Officials met", 0.35), ("shameful betrayal", 0.9)])
    probs[:, 0] = probs[:, 1]  # the same two spans for the other label
    thresholds = dict.fromkeys(labels, 0.2)
    every = decode_spans(probs, enc.offsets, labels, thresholds, TEXT)
    assert sorted(TEXT[s:e] for s, e, _, _ in every) == sorted(["Officials met", "shameful betrayal"] * 2)
    kept = decode_spans(probs, enc.offsets, labels, thresholds, TEXT, {PROPAGANDA_SPAN: 0.5})
    assert sorted((label, TEXT[s:e]) for s, e, label, _ in kept) == [
        ("loaded_language", "Officials met"),  # another label's spans are untouched
        ("loaded_language", "shameful betrayal"),
        (PROPAGANDA_SPAN, "shameful betrayal"),
    ]


def _raw(model, tokenizer) -> RawPredictions:
    """Three sentences whose gold PTC span the model finds sure (0.9), each beside a doubtful false one (0.35)."""
    labels = model.config.device_labels
    column = labels.index(PROPAGANDA_SPAN)
    start = TEXT.index("shameful betrayal")
    record = LabelRecord(
        text=TEXT,
        targets=(),
        devices=(DeviceLabel(start, start + len("shameful betrayal"), PROPAGANDA_SPAN),),
        device_labels=(PROPAGANDA_SPAN,),
    )
    [enc] = encode_batch(tokenizer, [TEXT])
    probs = _probs(enc, len(labels), column, [("Officials met", 0.35), ("shameful betrayal", 0.9)])
    return RawPredictions([record] * 3, [enc] * 3, [np.zeros((0, 3))] * 3, [probs] * 3)


def test_the_minimum_is_tuned_on_dev_to_drop_doubtful_spans(tiny_model, tokenizer):
    model = copy.deepcopy(tiny_model)
    model.config.device_thresholds = {**model.config.device_thresholds, PROPAGANDA_SPAN: 0.2}
    model.config.device_min_scores = {}
    raw = _raw(model, tokenizer)
    assert tune_min_scores([raw], model) == {PROPAGANDA_SPAN: 0.4}  # the lowest minimum that drops the 0.35 spans
    no_ptc = RawPredictions([LabelRecord(text=TEXT, targets=())], raw.encoded[:1], raw.stance[:1], raw.devices[:1])
    assert tune_min_scores([no_ptc], model) == {}  # no dev set annotates it: nothing to tune

    # training's step (and retrain's, and `evaluate --tune-on`): thresholds first, without a minimum, then the minimum
    model.config.device_min_scores = {PROPAGANDA_SPAN: 0.6, "some_added_device": 0.3}
    retune_thresholds(model, [raw])
    # here a token threshold of 0.4 or more already drops the doubtful spans, so no minimum is needed on top
    assert model.config.device_thresholds[PROPAGANDA_SPAN] >= 0.4
    assert model.config.device_min_scores[PROPAGANDA_SPAN] == 0.0
    assert model.config.device_min_scores["some_added_device"] == 0.3  # a label it does not tune keeps its minimum
    model.config.device_min_scores[PROPAGANDA_SPAN] = 0.5
    retune_thresholds(model, [no_ptc])
    assert model.config.device_min_scores[PROPAGANDA_SPAN] == 0.5  # no set annotates it: kept


def test_users_get_spans_above_the_saved_minimum(tiny_model, tmp_path):
    """Saved in config.json, read by the light settings and applied by predict (`stance score`'s decoding)."""
    from stance.model.modeling import StanceModel
    from stance.store.model_files import InferenceSettings

    model = copy.deepcopy(tiny_model)
    model.config.device_thresholds = dict.fromkeys(model.config.device_labels, 0.0)  # every token inside: spans everywhere
    model.config.device_min_scores = {}
    model.save_pretrained(tmp_path / "open")
    model.config.device_min_scores = {PROPAGANDA_SPAN: 1.0}  # no span of this untrained model reaches it
    model.save_pretrained(tmp_path / "closed")
    assert json.loads((tmp_path / "closed" / "config.json").read_text())["device_min_scores"] == {PROPAGANDA_SPAN: 1.0}
    assert InferenceSettings.from_file(tmp_path / "closed" / "config.json").device_min_scores == {PROPAGANDA_SPAN: 1.0}
    labels = {
        name: {d.label for d in StanceModel.from_pretrained(tmp_path / name, backend="torch").predict(TEXT).devices}
        for name in ("open", "closed")
    }
    assert "propaganda" in labels["open"] and "propaganda" not in labels["closed"]
    assert labels["open"] - {"propaganda"} == labels["closed"]  # the other devices as before


def test_a_bad_minimum_in_config_json_is_refused_when_loaded(tiny_model, tmp_path):
    """README calls the spans `propaganda`, but the label is `propaganda_span`: a minimum under the wrong name was
    silently ignored, and a string value failed only while decoding. Both are refused when the model is loaded."""
    import pytest

    from stance.model.modeling import StanceModel

    tiny_model.save_pretrained(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    data = json.loads(config.read_text())
    for bad, message in (({"propaganda": 0.3}, "'propaganda_span'"), ({PROPAGANDA_SPAN: "0.3"}, "number from 0 to 1")):
        config.write_text(json.dumps({**data, "device_min_scores": bad}))
        with pytest.raises(ValueError, match=message):
            StanceModel.from_pretrained(tmp_path / "m")
