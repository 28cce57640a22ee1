"""The reported measures on hand-made cases whose right answer is worked out by hand."""

from types import SimpleNamespace

import numpy as np

from stance.labels.format import LabelRecord, TargetLabel
from stance.model.encoding import Encoded
from training.evaluate import RawPredictions, evaluate_raw
from training.metrics import span_prf


def test_span_prf_never_exceeds_one():
    # two predicted spans sharing characters over one gold span: recall was 2.0 (each earned the gold's whole length)
    partial = span_prf([[(3, 11)]], [[(0, 11), (3, 14)]])["partial"]
    assert partial["recall"] == 1.0 and abs(partial["precision"] - 8 / 14) < 1e-9
    # a gold span given twice counts once: precision was 2.0
    both = span_prf([[(0, 10), (0, 10)]], [[(0, 10)]])
    assert both["gold"] == 1 and both["partial"]["precision"] == 1.0 and both["exact"]["recall"] == 1.0


def test_a_target_past_the_cut_is_neutral_for_f1_and_left_out_of_the_ece():
    labels = ["negative", "neutral", "positive"]
    model = SimpleNamespace(
        config=SimpleNamespace(device_thresholds={}, device_min_scores={}, device_labels=[]), stance_labels=labels
    )
    text = "aa bb cc dd"
    record = LabelRecord(text, targets=(TargetLabel(0, 2, "positive"), TargetLabel(9, 11, "negative")))
    encoded = Encoded([0] * 6, [(-1, -1), (0, 2), (3, 5), (6, 8), (9, 11), (-1, -1)], [(0, 2)], [(0, 0)], [0, None])
    raw = RawPredictions([record], [encoded], [np.array([[0.0, 0.2, 0.8]])], [np.zeros((6, 0, 3))])
    stance = evaluate_raw(raw, model)["stance"]
    assert stance["confusion"]["matrix"][0] == [0, 1, 0], "the cut target counts as predicted neutral"
    # only the first target's confidence 0.8 (right) is in the ECE: |0.8 - 1| = 0.2; a uniform vector for
    # the cut one (argmax 'negative', right at confidence 1/3) made it (0.2 + |1/3 - 1|) / 2
    assert abs(stance["ece"] - 0.2) < 1e-9


def test_a_target_past_the_cut_is_read_from_its_window_as_users_get_it():
    labels = ["negative", "neutral", "positive"]
    model = SimpleNamespace(
        config=SimpleNamespace(device_thresholds={}, device_min_scores={}, device_labels=[]), stance_labels=labels
    )
    record = LabelRecord("aa bb cc dd", targets=(TargetLabel(0, 2, "positive"), TargetLabel(9, 11, "negative")))
    encoded = Encoded([0] * 6, [(-1, -1), (0, 2), (3, 5), (6, 8), (9, 11), (-1, -1)], [(0, 2)], [(0, 0)], [0, None])
    window = {(0, 1): np.array([0.9, 0.05, 0.05])}
    raw = RawPredictions([record], [encoded], [np.array([[0.0, 0.2, 0.8]])], [np.zeros((6, 0, 3))], window)
    stance = evaluate_raw(raw, model)["stance"]
    assert stance["confusion"]["matrix"][0] == [1, 0, 0], "the window's 'negative', not a neutral by default"
    assert abs(stance["ece"] - (0.2 + 0.1) / 2) < 1e-9  # both targets' confidence is in the ECE


def test_evaluation_and_the_gate_score_a_cut_target_as_predict_does(tiny_model):
    """Evaluation (the card's figures) and the retrain gate counted a target past the model's cut as
    neutral, while `stance score`, `predict` and the service read it from a window around it."""
    from training.evaluate import calibrate_stance, predict_raw
    from training.gate import compare_models

    filler = " ".join(["that went on and on about many things"] * 30)
    text = f"In a statement {filler}, officials said Russia was to blame."
    span = (text.index("Russia"), text.index("Russia") + 6)
    expected = tiny_model.predict(text, [span]).targets[0]
    wrong = next(x for x in ("negative", "neutral", "positive") if x != expected.stance)
    records = [
        LabelRecord(text, targets=(TargetLabel(*span, expected.stance),), doc_id="a"),
        LabelRecord(text, targets=(TargetLabel(*span, wrong),), doc_id="b"),
    ]
    raw = predict_raw(tiny_model, records)
    assert raw.encoded[0].target_slots == [None]
    [(_, _, probs), _] = list(raw.gold_stance())
    assert np.allclose(probs, [expected.probs[x] for x in tiny_model.stance_labels], atol=1e-3)
    matrix = evaluate_raw(raw, tiny_model)["stance"]["confusion"]["matrix"]
    assert sum(row[tiny_model.stance_labels.index(expected.stance)] for row in matrix) == 2
    report = compare_models(tiny_model, tiny_model, {"dev": records}, bootstrap=10, base_raw={"dev": raw}, new_raw={"dev": raw})
    assert report.rows  # the gate reads the same predictions (its confusion is built from gold_stance)
    before = raw.windowed[(0, 0)].copy()
    config_before = tiny_model.config.stance_temperature
    try:
        temperature = calibrate_stance([raw], tiny_model)
        if temperature != 1.0:
            assert not np.allclose(raw.windowed[(0, 0)], before), "the window's probabilities are rescaled too"
    finally:
        tiny_model.config.stance_temperature = config_before
