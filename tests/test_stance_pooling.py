"""The stance head's ``attention`` pooling: a target's own summary of the sentence beside its markers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stance.model.backends import make_backend
from stance.model.config import StanceConfig
from stance.model.encoding import collate, encode_batch
from stance.model.modeling import StanceModel
from stance.model.network import target_context
from tests.conftest import tiny_stance_model

TEXTS = ["Moscow slammed the so-called reform.", "The EU and NATO met in Brussels on Monday to talk."]
TARGETS = [[(0, 6)], [(4, 6), (11, 15)]]


@pytest.fixture(scope="module")
def attention_model_dir(tmp_path_factory, tokenizer):
    path = tmp_path_factory.mktemp("tiny-attention")
    tiny_stance_model(tokenizer, seed=1, name="tiny-attention", stance_pooling="attention").save_pretrained(path)
    return path


def test_context_ignores_padding_and_follows_the_query():
    hidden = torch.randn(1, 5, 8)
    query = torch.randn(1, 2, 8)
    short = target_context(hidden[:, :3], torch.ones(1, 3, dtype=torch.long), query)
    padded = target_context(hidden, torch.tensor([[1, 1, 1, 0, 0]]), query)
    assert torch.allclose(short, padded, atol=1e-6)  # padded tokens get no weight
    # a query aligned with one token's state (scaled up) puts nearly all weight on it
    sharp = target_context(hidden[:, :3], torch.ones(1, 3, dtype=torch.long), 1e3 * hidden[:, 1:2])
    assert torch.allclose(sharp[0, 0], hidden[0, 1], atol=1e-3)


def test_attention_pooling_adds_its_query_and_keeps_the_markers_default(tiny_model, attention_model_dir):
    assert tiny_model.network.target_query is None  # configs without the key load as before
    model = StanceModel.from_pretrained(attention_model_dir, bf16=False)
    assert model.network.config.stance_pooling == "attention" and model.network.target_query is not None
    result = model.predict(TEXTS[1], targets=TARGETS[1])
    assert len(result.targets) == 2 and all(abs(sum(t.probs.values()) - 1) < 1e-3 for t in result.targets)


def test_unknown_pooling_is_a_clear_error():
    with pytest.raises(ValueError, match="stance_pooling"):
        StanceConfig(stance_pooling="mean")


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_exported_graphs_match_torch(attention_model_dir, tmp_path, monkeypatch, backend):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model = StanceModel.from_pretrained(attention_model_dir, bf16=False)
    batch = collate(encode_batch(model.tokenizer, TEXTS, TARGETS, max_length=64), pad_id=model.tokenizer.pad_token_id)
    s_ref, _ = model.backend(batch)
    s, _ = make_backend(model, backend)(batch)
    assert s.shape == s_ref.shape and np.abs(s - s_ref).max() < 1e-4
