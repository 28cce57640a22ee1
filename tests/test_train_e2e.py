"""Train a tiny model for a few steps on a few examples written here, save, reload, predict the same."""

import json

import numpy as np
import pytest
import torch

from stance.model.modeling import StanceModel
from training.config import TrainConfig
from training.train import average_weights, train

EXAMPLES = [
    {
        "text": "Critics say the so-called reform by Moscow failed.",
        "targets": [{"start": 36, "end": 42, "stance": "negative"}],
        "devices": [
            {"start": 0, "end": 11, "label": "unsourced_claim"},
            {"start": 16, "end": 25, "label": "discrediting_attribution"},
        ],
    },
    {
        "text": "Beijing hailed the landmark deal as a triumph.",
        "targets": [{"start": 0, "end": 7, "stance": "positive"}],
        "devices": [{"start": 37, "end": 44, "label": "loaded_language"}],
    },
    {
        "text": "The minister said the talks would resume on Monday.",
        "targets": [{"start": 4, "end": 12, "stance": "neutral"}],
        "devices": [],
    },
    {
        "text": 'Officials defended the "temporary" curfew.',
        "targets": [],
        "devices": [{"start": 23, "end": 34, "label": "scare_quotes"}],
    },
]


def test_train_save_reload_predict(tmp_path, tiny_base):
    data = tmp_path / "labels.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in EXAMPLES * 4) + "\n")
    config = TrainConfig.from_dict(
        {
            "base_model": str(tiny_base),
            "output_dir": str(tmp_path / "run"),
            "train": [{"path": str(data)}],
            "dev": [{"path": str(data)}],
            "epochs": 2,
            "batch_size": 4,
            "max_seq_length": 48,
            "bf16": False,
            "save_dtype": "float32",
            "logging_steps": 1,
        }
    )
    result = train(config)
    run = tmp_path / "run"
    assert (run / "model" / "model.safetensors").exists()
    assert (run / "model" / "README.md").read_text().startswith("---")
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("eval_score" in row for row in log), "per-epoch dev metrics are logged"
    assert any(p.name.startswith("checkpoint-") for p in (run / "checkpoints").iterdir())
    assert "labels/stance_macro_f1" in result["headline"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_data"]["labels"]["sentences"] == 16

    model = StanceModel.from_pretrained(run / "model", bf16=False)
    again = StanceModel.from_pretrained(run / "model", bf16=False)
    texts = [e["text"] for e in EXAMPLES]
    targets = [[(t["start"], t["end"]) for t in e["targets"]] for e in EXAMPLES]
    for a, b in zip(model.predict(texts, targets), again.predict(texts, targets)):
        assert [t.stance for t in a.targets] == [t.stance for t in b.targets]
        for ta, tb in zip(a.targets, b.targets):
            assert np.allclose(list(ta.probs.values()), list(tb.probs.values()), atol=1e-6)


def _one_epoch_settings(tmp_path, tiny_base, output: str, **more) -> dict:
    """A one-epoch run on the examples twice over (2 steps), no dev sets."""
    data = tmp_path / "labels.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in EXAMPLES * 2) + "\n")
    return {
        "base_model": str(tiny_base),
        "output_dir": str(tmp_path / output),
        "train": [{"path": str(data)}],
        "epochs": 1,
        "batch_size": 4,
        "max_seq_length": 48,
        "bf16": False,
        "tune_thresholds": False,
        **more,
    }


def test_resume_continues_from_checkpoint(tmp_path, tiny_base):
    settings = _one_epoch_settings(tmp_path, tiny_base, "run")
    train(TrainConfig.from_dict(settings))
    settings["epochs"] = 2
    train(TrainConfig.from_dict(settings), resume=True)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert max(steps) == 4  # 2 steps per epoch; the second run added only the second epoch


def test_save_every_minutes_checkpoints_mid_epoch(tmp_path, tiny_base):
    settings = _one_epoch_settings(tmp_path, tiny_base, "run", save_every_minutes=1e-9)
    train(TrainConfig.from_dict(settings))
    saved = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("checkpoint-*"))
    assert saved == ["checkpoint-1", "checkpoint-2"]  # step 1 is mid-epoch: only the time-based save makes it


def _weights(path):
    from safetensors.torch import load_file

    return {k: v.float() for k, v in load_file(str(path)).items()}


def test_model_soup_averages_members_and_reuses_finished_ones(tmp_path, tiny_base):
    settings = _one_epoch_settings(tmp_path, tiny_base, "soup", save_dtype="float32", seed=7, data_seeds=[7, 8])
    train(TrainConfig.from_dict(settings))
    run = tmp_path / "soup"
    first, second = (_weights(run / f"member-{s}" / "member.safetensors") for s in (7, 8))
    soup = _weights(run / "model" / "model.safetensors")
    name = "encoder.embeddings.word_embeddings.weight"
    assert name in soup and not torch.equal(first[name], second[name]), "the two data orders train different members"
    for key, value in soup.items():
        assert torch.allclose(value, (first[key] + second[key]) / 2, atol=1e-6), (
            key,
            (value - (first[key] + second[key]) / 2).abs().max(),
        )

    assert "model soup" in (run / "model" / "README.md").read_text(), "the card says the model is an average"

    # started again, the finished members are read back, not retrained
    logged = (run / "member-7" / "log.jsonl").read_text()
    train(TrainConfig.from_dict(settings))
    assert (run / "member-7" / "log.jsonl").read_text() == logged
    assert all(torch.equal(v, soup[k]) for k, v in _weights(run / "model" / "model.safetensors").items())

    # a member whose data seed is the run's seed is the plain run: a soup can reuse an earlier run
    plain = {**settings, "output_dir": str(tmp_path / "plain"), "data_seeds": []}
    train(TrainConfig.from_dict(plain))
    alone = _weights(tmp_path / "plain" / "model" / "model.safetensors")
    assert all(torch.allclose(v, first[k], atol=1e-6) for k, v in alone.items())


def test_soup_settings_are_checked():
    with pytest.raises(ValueError, match="repeats"):
        TrainConfig.from_dict({"data_seeds": [1, 1]})
    with pytest.raises(ValueError, match="other weights"):
        average_weights([{"a": torch.zeros(1)}, {"b": torch.zeros(1)}])


def test_stance_pooling_setting_reaches_the_saved_model(tmp_path, tiny_base):
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "run", stance_pooling="attention")))
    model = StanceModel.from_pretrained(tmp_path / "run" / "model", bf16=False)
    assert model.network.config.stance_pooling == "attention" and model.network.target_query is not None
    with pytest.raises(ValueError, match="stance_pooling"):  # refused with the config, before any data is read
        TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "bad", stance_pooling="mean"))


def test_early_stopping_reads_epoch_ends_only_and_keeps_its_bar_across_a_resume():
    """Run U's case: the time budget stopped it at epoch 1.32 with a fine (untuned, mid-epoch) figure; resumed,
    its epoch-2 figure was lower, and plain early stopping (patience 1) ended the run there."""
    from types import SimpleNamespace

    from transformers import TrainerControl

    from training.trainer import EpochEarlyStopping

    args = SimpleNamespace(metric_for_best_model="eval_score", greater_is_better=True, load_best_model_at_end=True)

    def evaluate(callback, epoch: float, score: float) -> bool:
        control = TrainerControl()
        callback.on_evaluate(args, SimpleNamespace(epoch=epoch), control, metrics={"eval_score": score})
        return control.should_training_stop

    first = EpochEarlyStopping(early_stopping_patience=1)
    assert not evaluate(first, 1.0, 0.564)
    assert not evaluate(first, 1.3187, 0.665)  # the budget's stop: mid-epoch, neither a miss nor the bar
    assert first.best_epoch_metric == 0.564
    resumed = EpochEarlyStopping(early_stopping_patience=1)  # a resumed run starts a new callback
    assert not evaluate(resumed, 2.0, 0.662)  # the first epoch end after the resume sets the bar
    assert evaluate(resumed, 3.0, 0.650)  # worse than epoch 2: stops


def test_a_second_phase_continues_from_a_trained_model(tmp_path, tiny_base):
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "first", save_dtype="float32")))
    first = tmp_path / "first" / "model"
    # no learning: the second phase's model is the first's, heads included (not a new head on the encoder)
    still = {"learning_rate": 0.0, "head_learning_rate": 0.0, "save_dtype": "float32", "device_loss_weight": 3.0}
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "still", init_from=str(first), **still)))
    before, after = _weights(first / "model.safetensors"), _weights(tmp_path / "still" / "model" / "model.safetensors")
    assert before.keys() == after.keys() and all(torch.equal(v, after[k]) for k, v in before.items())
    saved = json.loads((tmp_path / "still" / "model" / "config.json").read_text())
    assert saved["device_loss_weight"] == 3.0, "the second phase's losses are its own config's"
    card = (tmp_path / "still" / "model" / "README.md").read_text()
    assert f"Continued from `{first}`" in card and "`labels`" in card, "the card names the first phase and its data"

    moved = _one_epoch_settings(tmp_path, tiny_base, "moved", init_from=str(first), save_dtype="float32")
    train(TrainConfig.from_dict(moved))
    assert not all(torch.equal(v, _weights(tmp_path / "moved" / "model" / "model.safetensors")[k]) for k, v in before.items())

    other = _one_epoch_settings(tmp_path, tiny_base, "other", init_from=str(first), max_seq_length=64)
    with pytest.raises(ValueError, match="max_seq_length: 48, this run 64"):
        train(TrainConfig.from_dict(other))


def test_a_new_device_head_on_a_frozen_model(tmp_path, tiny_base):
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "first", save_dtype="float32")))
    first = tmp_path / "first" / "model"
    head = {"device_head_layers": 2, "device_head_hidden": 8, "train_only_device_head": True, "save_dtype": "float32"}
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "head", init_from=str(first), **head)))
    before, after = _weights(first / "model.safetensors"), _weights(tmp_path / "head" / "model" / "model.safetensors")
    parts = ("device_head.", "device_hidden.", "device_layer_weights")
    kept = [k for k in after if not k.startswith(parts)]
    assert kept and all(torch.equal(before[k], after[k]) for k in kept), "encoder and stance head stay as they were"
    assert {"device_hidden.0.weight", "device_layer_weights"} <= after.keys()
    assert after["device_hidden.0.weight"].shape[0] == 8 and after["device_layer_weights"].shape == (2,)
    assert not torch.equal(after["device_layer_weights"], torch.zeros(2)), "the layer mix is trained"
    model = StanceModel.from_pretrained(tmp_path / "head" / "model", bf16=False)
    [result] = model.predict([EXAMPLES[0]["text"]], [[(36, 42)]])
    assert result.targets[0].stance in ("negative", "neutral", "positive")

    with pytest.raises(ValueError, match="train_only_device_head needs init_from"):
        TrainConfig.from_dict({"train_only_device_head": True})
    with pytest.raises(ValueError, match="device_head_layers must be between 1 and"):
        train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "bad", device_head_layers=99)))


def test_two_specs_of_one_name_are_refused(tmp_path):
    with pytest.raises(ValueError, match="'framing:train' twice"):
        TrainConfig.from_dict(
            {"train": [{"source": "framing", "split": "train"}, {"source": "framing", "split": "train", "repeat": 2}]}
        )
    a, b = tmp_path / "a" / "labels.jsonl", tmp_path / "b" / "labels.jsonl"
    with pytest.raises(ValueError, match="'labels' twice"):
        TrainConfig.from_dict({"train": [{"path": str(a)}], "transfer": [{"path": str(b)}]})
    TrainConfig.from_dict({"train": [{"source": "framing", "split": "train"}], "dev": [{"source": "framing", "split": "train"}]})


def test_a_teacher_file_that_no_longer_fits_the_data_stops_training(tmp_path):
    import gzip

    from stance.labels.format import LabelRecord, TargetLabel
    from training.convert.allsides import text_hash
    from training.train import add_cached_teacher_probs

    texts = ["Moscow rejected the plan.", "Beijing hailed the deal.", "Kyiv said little."]
    path = tmp_path / "teacher_probs.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for text in texts:
            fh.write(json.dumps({"hash": text_hash(text), "targets": [[0, 6]], "probs": [[0.7, 0.2, 0.1]]}) + "\n")
    records = [LabelRecord(texts[0], targets=(TargetLabel(0, 6, "negative"),))]
    with pytest.raises(ValueError, match="only 1 of its 3 sentences"):
        add_cached_teacher_probs(records, path, min_found=0.9)
    [record] = add_cached_teacher_probs(records, path)  # a sample (a retrain's replay): no minimum
    assert record.meta["teacher_probs"] == [[0.7, 0.2, 0.1]]


def test_python_m_training_train_is_stance_train(tmp_path, capsys):
    """`python -m training.train` had an argparse copy of `stance train` without its checks: a missing
    config gave a traceback. It is now the command itself."""
    from training.train import main

    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "nosuch.yaml")])
    assert exc.value.code == 2
    assert "does not exist" in capsys.readouterr().err
