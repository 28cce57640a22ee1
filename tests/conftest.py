"""Shared fixtures: tiny randomly initialised models built from a config (never a real training run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer, BertConfig, BertModel

from stance.model.bases import resolve_base
from stance.model.encoding import MARKERS
from stance.model.modeling import StanceModel
from stance.model.network import StanceConfig, StanceNetwork

TINY_DEVICES = ["loaded_language", "scare_quotes", "unsourced_claim", "propaganda_span"]


def tiny_encoder_config(vocab_size: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )


@pytest.fixture(scope="session")
def tokenizer():
    tok = AutoTokenizer.from_pretrained(resolve_base("minilm"))
    tok.add_special_tokens({"additional_special_tokens": list(MARKERS)})
    return tok


def tiny_stance_model(tokenizer, seed: int = 0, name: str = "tiny", **config) -> StanceModel:
    """A tiny randomly initialised model (fp32) with the tiny device labels; ``config``: more StanceConfig settings."""
    import torch

    torch.manual_seed(seed)
    stance_config = StanceConfig(
        encoder=tiny_encoder_config(len(tokenizer)).to_dict(),
        device_labels=TINY_DEVICES,
        internal_device_labels=["propaganda_span"],
        max_seq_length=64,
        **config,
    )
    return StanceModel(StanceNetwork(stance_config), tokenizer, name=name, bf16=False)


@pytest.fixture(scope="session")
def tiny_model(tokenizer) -> StanceModel:
    return tiny_stance_model(tokenizer)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, tokenizer) -> Path:
    """A tiny plain BERT encoder saved as a base model directory (for training tests)."""
    path = tmp_path_factory.mktemp("tiny-base")
    base_tok = AutoTokenizer.from_pretrained(resolve_base("minilm"))
    BertModel(tiny_encoder_config(len(base_tok))).save_pretrained(path)
    base_tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_model) -> Path:
    """The tiny model saved like a real one (for the CLI and the scorer)."""
    path = tmp_path_factory.mktemp("tiny-model")
    tiny_model.save_pretrained(path)
    return path
