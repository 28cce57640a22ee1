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
    model = SimpleNamespace(config=SimpleNamespace(device_thresholds={}, device_labels=[]), stance_labels=labels)
    text = "aa bb cc dd"
    record = LabelRecord(text, targets=(TargetLabel(0, 2, "positive"), TargetLabel(9, 11, "negative")))
    encoded = Encoded([0] * 6, [(-1, -1), (0, 2), (3, 5), (6, 8), (9, 11), (-1, -1)], [(0, 2)], [(0, 0)], [0, None])
    raw = RawPredictions([record], [encoded], [np.array([[0.0, 0.2, 0.8]])], [np.zeros((6, 0, 3))])
    stance = evaluate_raw(raw, model)["stance"]
    assert stance["confusion"]["matrix"][0] == [0, 1, 0], "the cut target counts as predicted neutral"
    # only the first target's confidence 0.8 (right) is in the ECE: |0.8 - 1| = 0.2; a uniform vector for
    # the cut one (argmax 'negative', right at confidence 1/3) made it (0.2 + |1/3 - 1|) / 2
    assert abs(stance["ece"] - 0.2) < 1e-9
