"""The stance branch: the stance head's own copy of the encoder's last layer, run only at the targets' markers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from stance.model.backends import make_backend
from stance.model.config import StanceConfig
from stance.model.encoding import collate, encode_batch
from stance.model.modeling import StanceModel
from stance.model.network import last_encoder_layer, layer_at
from stance.store.model_files import STANCE_BRANCH_WEIGHTS
from tests.conftest import tiny_stance_model
from tests.test_train_e2e import EXAMPLES, _one_epoch_settings, _weights
from training.config import TrainConfig
from training.train import train

TEXTS = ["Moscow slammed the so-called reform.", "The EU and NATO met in Brussels on Monday to talk."]
TARGETS = [[(0, 6)], [(4, 6), (11, 15)]]


def _batch(model: StanceModel):
    return collate(encode_batch(model.tokenizer, TEXTS, TARGETS, max_length=64), pad_id=model.tokenizer.pad_token_id)


@pytest.fixture(scope="module")
def branch_model(tokenizer) -> StanceModel:
    """A tiny model with a stance branch whose weights differ from the encoder's last layer."""
    model = tiny_stance_model(tokenizer, seed=2, name="tiny-branch", stance_branch=True)
    with torch.no_grad():
        for parameter in model.network.stance_layer.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return model


@pytest.fixture(scope="module")
def branch_model_dir(tmp_path_factory, branch_model):
    path = tmp_path_factory.mktemp("tiny-branch")
    branch_model.save_pretrained(path, dtype=torch.float32)
    return path


def test_layer_at_is_the_layer_on_all_tokens_read_at_the_positions(tiny_model):
    network = tiny_model.network.eval()
    batch = _batch(tiny_model)
    ids, mask = torch.as_tensor(batch["input_ids"]), torch.as_tensor(batch["attention_mask"])
    with torch.no_grad():
        out = network.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        positions = torch.tensor([[0, 3, 1], [5, 0, 2]])
        at = layer_at(last_encoder_layer(network.encoder), out.hidden_states[-2], mask, positions)
    expected = torch.stack([out.last_hidden_state[i, positions[i]] for i in range(2)])
    assert torch.allclose(at, expected, atol=1e-5)


def test_a_branch_copied_from_the_last_layer_changes_nothing_then_trains_apart(tokenizer):
    plain = tiny_stance_model(tokenizer, seed=3)
    batch = _batch(plain)
    before, devices_before = plain.backend(batch)
    plain.network.start_stance_branch()
    assert plain.network.config.stance_branch is True
    after, devices_after = plain.backend(batch)
    assert np.abs(after - before).max() < 1e-5 and np.array_equal(devices_after, devices_before)
    with torch.no_grad():  # the branch is a copy, not the encoder's own layer
        dense = plain.network.stance_layer.output.dense.weight
        dense.add_(torch.randn_like(dense))
    moved, devices_moved = plain.backend(batch)
    assert np.abs(moved - before).max() > 1e-3 and np.array_equal(devices_moved, devices_before)


def test_a_saved_branch_loads_and_its_exported_graphs_match_torch(branch_model, branch_model_dir, tmp_path, monkeypatch):
    model = StanceModel.from_pretrained(branch_model_dir, bf16=False)
    saved, loaded = branch_model.network.stance_layer.state_dict(), model.network.stance_layer.state_dict()
    assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved), "the branch as saved"
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    batch = _batch(model)
    s_ref, d_ref = model.backend(batch)
    for backend in ("openvino", "onnx"):
        if backend == "onnx" and not _has("onnxruntime"):
            continue
        s, d = make_backend(model, backend)(batch)
        assert s.shape == s_ref.shape and np.abs(s - s_ref).max() < 1e-4, backend


def test_the_branch_needs_a_bert_like_encoder_and_a_boolean():
    with pytest.raises(ValueError, match="stance_branch must be true or false"):
        StanceConfig(stance_branch="yes")
    with pytest.raises(ValueError, match="stance_pooling 'markers' only"):  # its summary would read the shared layer
        StanceConfig(stance_branch=True, stance_pooling="attention")
    with pytest.raises(ValueError, match="BERT-like encoder"):
        last_encoder_layer(torch.nn.Linear(2, 2))


def test_training_the_branch_alone_keeps_the_encoder_and_the_devices(tmp_path, tiny_base):
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "first", save_dtype="float32")))
    first = tmp_path / "first" / "model"
    branch = {"stance_branch": True, "train_only_stance_branch": True, "save_dtype": "float32", "head_learning_rate": 1e-2}
    train(TrainConfig.from_dict(_one_epoch_settings(tmp_path, tiny_base, "branch", init_from=str(first), **branch)))
    before, after = _weights(first / "model.safetensors"), _weights(tmp_path / "branch" / "model" / "model.safetensors")
    trained = (STANCE_BRANCH_WEIGHTS, "stance_head.")
    kept = [k for k in after if not k.startswith(trained)]
    assert kept and all(torch.equal(before[k], after[k]) for k in kept), "encoder and device head stay as they were"
    assert not torch.equal(before["stance_head.3.weight"], after["stance_head.3.weight"]), "the stance head trains"
    last = max(int(k.split(".")[3]) for k in before if k.startswith("encoder.encoder.layer."))
    moved = [
        k
        for k in after
        if k.startswith(STANCE_BRANCH_WEIGHTS)
        and not torch.equal(after[k], before[f"encoder.encoder.layer.{last}.{k.removeprefix(STANCE_BRANCH_WEIGHTS)}"])
    ]
    assert moved, "the branch starts as the last layer and trains apart from it"
    model = StanceModel.from_pretrained(tmp_path / "branch" / "model", bf16=False)
    assert model.network.config.stance_branch and model.network.stance_layer is not None
    [result] = model.predict([EXAMPLES[0]["text"]], [[(36, 42)]])
    assert result.targets[0].stance in ("negative", "neutral", "positive")

    with pytest.raises(ValueError, match="train_only_stance_branch needs init_from and stance_branch"):
        TrainConfig.from_dict({"train_only_stance_branch": True, "init_from": str(first)})
    with pytest.raises(ValueError, match="set tune_thresholds: false"):
        TrainConfig.from_dict({**branch, "init_from": str(first)})
    wider = _one_epoch_settings(tmp_path, tiny_base, "wider", init_from=str(first), device_head_hidden=8, **branch)
    with pytest.raises(ValueError, match="keeps its device head"):
        train(TrainConfig.from_dict(wider))
    plain = _one_epoch_settings(tmp_path, tiny_base, "plain", init_from=str(tmp_path / "branch" / "model"))
    with pytest.raises(ValueError, match="has a stance branch"):
        train(TrainConfig.from_dict(plain))


def test_weights_and_config_must_agree_on_the_branch(branch_model_dir, tiny_model_dir, tmp_path):
    """Else the loader fills a branch at random (config with, weights without) or drops one (the other way)."""
    import shutil

    for source, flag, message in (
        (branch_model_dir, False, "has a stance branch's weights"),
        (tiny_model_dir, True, "no stance branch's weights"),
    ):
        copy = tmp_path / f"copy-{flag}"
        shutil.copytree(source, copy)
        config = json.loads((copy / "config.json").read_text())
        (copy / "config.json").write_text(json.dumps({**config, "stance_branch": flag}))
        with pytest.raises(ValueError, match=message):
            StanceModel.from_pretrained(copy, bf16=False)


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True
