"""Device thresholds raised until few device-free sentences are flagged (training.evaluate.limit_flagged)."""

from __future__ import annotations

from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from training.evaluate import flagged_counts, flagged_share, limit_flagged, predict_raw

SIX = tuple(FIXED_DEVICES)
TEXTS = [
    "The minister called the plan a disgrace and a scam.",
    "Officials met on Monday in Geneva for talks.",
    "Critics say the so-called reform is a power grab.",
]


def _raw(model):
    records = [LabelRecord(text=t, targets=(), device_labels=SIX) for t in TEXTS]
    # a sentence with a gold device is not device-free: never in the share
    records.append(
        LabelRecord(
            text="A plainly loaded sentence.", targets=(), devices=(DeviceLabel(2, 9, "loaded_language"),), device_labels=SIX
        )
    )
    # a sentence annotated for other labels only (PTC) is not counted either
    records.append(LabelRecord(text="Nothing to see here at all.", targets=(), device_labels=("propaganda_span",)))
    return predict_raw(model, records)


def test_share_of_device_free_sentences_flagged(tiny_model):
    raw = _raw(tiny_model)
    names = tiny_model.config.device_labels
    assert flagged_share([raw], tiny_model, dict.fromkeys(names, 0.0)) == 1.0  # every token inside: all 3 flagged
    assert flagged_share([raw], tiny_model, dict.fromkeys(names, 1.01)) == 0.0  # nothing can reach the threshold
    # only propaganda spans: not one of the six devices, so nothing counts as flagged
    assert flagged_share([raw], tiny_model, {**dict.fromkeys(names, 1.01), "propaganda_span": 0.0}) == 0.0
    # a device-free sentence chosen where a model found a device is rich in its false alarms: not counted
    model_chosen = LabelRecord(text=TEXTS[1], targets=(), device_labels=SIX, meta={"chosen_by": "model"})
    chosen_raw = predict_raw(tiny_model, [model_chosen])
    assert flagged_share([chosen_raw], tiny_model, dict.fromkeys(names, 0.0)) is None
    assert flagged_counts([chosen_raw], tiny_model, dict.fromkeys(names, 0.0), model_chosen=True) == (1, 1)
    cue_chosen = LabelRecord(text=TEXTS[1], targets=(), device_labels=SIX, meta={"chosen_by": "cue_word"})
    assert flagged_share([predict_raw(tiny_model, [cue_chosen])], tiny_model, dict.fromkeys(names, 0.0)) == 1.0
    no_free = predict_raw(tiny_model, [LabelRecord(text=TEXTS[0], targets=(), device_labels=("propaganda_span",))])
    assert flagged_share([no_free], tiny_model, {}) is None


def test_limit_raises_only_the_six_devices_and_never_lowers(tiny_model):
    raw = _raw(tiny_model)
    start = {**dict.fromkeys(tiny_model.config.device_labels, 0.0), "propaganda_span": 0.2}
    limited = limit_flagged([raw], tiny_model, start, max_share=0.0)
    assert limited["propaganda_span"] == 0.2
    assert all(limited[k] >= v for k, v in start.items()) and limited != start
    assert flagged_share([raw], tiny_model, limited) < flagged_share([raw], tiny_model, start)
    assert limit_flagged([raw], tiny_model, start, max_share=1.0) == start  # already within: unchanged


def test_evaluate_tune_on_retunes_and_limits_thresholds(tiny_model_dir, tmp_path, monkeypatch):
    """`stance evaluate --tune-on FILE --max-flagged S` re-tunes the thresholds on the file's predictions
    (training.evaluate.retune_thresholds, as training's step 6) and reports them; nothing is saved without
    --update-card."""
    import json

    from typer.testing import CliRunner

    from stance.cli.main import app

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    dev = tmp_path / "dev.jsonl"
    lines = [{"text": t, "devices": [], "device_labels": list(SIX)} for t in TEXTS]
    lines.append({"text": "A plainly loaded sentence.", "devices": [{"start": 2, "end": 9, "label": "loaded_language"}]})
    dev.write_text("".join(json.dumps(x) + "\n" for x in lines))
    before = (tiny_model_dir / "config.json").read_text()
    r = CliRunner().invoke(
        app, ["evaluate", str(tiny_model_dir), "--data", str(dev), "--tune-on", str(dev), "--max-flagged", "0.0"]
    )
    assert r.exit_code == 0, r.output
    assert "thresholds tuned on" in r.output and "loaded_language" in r.output
    assert "optimistic" in r.output, "a set both tuned and measured on is flagged"
    assert (tiny_model_dir / "config.json").read_text() == before

    # stored in the card, such figures would pass for held-out ones: refused before anything runs
    args = ["evaluate", str(tiny_model_dir), "--data", str(dev), "--tune-on", str(dev), "--update-card"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "held-out" in r.output, r.output
    assert (tiny_model_dir / "config.json").read_text() == before
