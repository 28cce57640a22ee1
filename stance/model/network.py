"""The neural network: one transformer encoder with a stance head and a device-span head.

Saved and loaded the Hugging Face way (``config.json`` + ``model.safetensors``). Most users
want :class:`stance.model.modeling.StanceModel`, which adds the tokenizer and ``predict``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

from stance.model.config import StanceConfig


@dataclass
class StanceOutput(ModelOutput):
    loss: torch.Tensor | None = None
    stance_logits: torch.Tensor | None = None  # (batch, targets, stance labels)
    stance_features: torch.Tensor | None = None  # (batch, targets, hidden): the stance head's hidden layer
    device_logits: torch.Tensor | None = None  # (batch, tokens, device labels, 3) BIO


class StanceNetwork(PreTrainedModel):
    """Encoder + heads. ``target_markers`` (batch, targets, 2) holds the positions of each
    target's ``[TGT]``/``[/TGT]`` tokens, -1 for padding."""

    config_class = StanceConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True

    def __init__(self, config: StanceConfig) -> None:
        super().__init__(config)
        self.encoder = _encoder_from_config(config.encoder_config)
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.head_dropout)
        # "attention": each target queries the sentence from its two marker states (one extra matrix)
        self.target_query = nn.Linear(2 * hidden, hidden) if config.stance_pooling == "attention" else None
        self.stance_head = nn.Sequential(
            nn.Linear((4 if self.target_query is not None else 3) * hidden, hidden),
            nn.GELU(),
            nn.Dropout(config.head_dropout),
            nn.Linear(hidden, len(config.stance_labels)),
        )
        # the device head: a mix of the last `device_head_layers` layers (weights learned, softmax-normalised),
        # an optional hidden layer, then one linear map to B/I/O per device label
        layers = getattr(config, "device_head_layers", 1)
        self.device_layer_weights = nn.Parameter(torch.zeros(layers)) if layers > 1 else None
        width = getattr(config, "device_head_hidden", 0)
        self.device_hidden = (
            nn.Sequential(nn.Linear(hidden, width), nn.GELU(), nn.Dropout(config.head_dropout)) if width else None
        )
        self.device_head = nn.Linear(width or hidden, 3 * len(config.device_labels))
        # the stance branch: the stance head's own copy of the encoder's last layer, run only where the head
        # reads (each target's markers and [CLS]) on the layer below, so that stance and devices need not share
        # the last layer's capacity; in arithmetic the keys and values of one layer, not a layer (measured on torch:
        # 0.89-0.93x the sentences/s; BENCHMARKS 0zc)
        self.stance_layer: nn.Module | None = None
        if config.stance_branch:
            self.start_stance_branch()
        # feature distillation (training only): maps the stance head's hidden layer onto a teacher's
        self.feature_projection = nn.Linear(hidden, config.teacher_feature_size) if config.teacher_feature_size else None
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        target_markers: torch.Tensor | None = None,
        stance_labels: torch.Tensor | None = None,
        device_labels: torch.Tensor | None = None,
        stance_soft_labels: torch.Tensor | None = None,
        stance_feature_targets: torch.Tensor | None = None,
        **_: Any,
    ) -> StanceOutput:
        encoded = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_hidden_states=self.device_layer_weights is not None or self.stance_layer is not None,
        )
        hidden = encoded.last_hidden_state
        batch, seq, width = hidden.shape
        device_logits = self._device_logits(hidden, encoded.hidden_states).view(batch, seq, -1, 3)
        stance_logits = stance_features = None
        if target_markers is not None and target_markers.shape[1] > 0:
            idx = target_markers.clamp(min=0)
            n_targets = idx.shape[1]
            if self.stance_layer is not None:  # the branch's states where the head reads: [CLS], starts, ends
                positions = torch.cat([idx.new_zeros(batch, 1), idx[..., 0], idx[..., 1]], dim=1)
                read = layer_at(self.stance_layer, encoded.hidden_states[-2], attention_mask, positions)
                cls, start, end = read[:, :1], read[:, 1 : 1 + n_targets], read[:, 1 + n_targets :]
            else:
                start = hidden.gather(1, idx[..., 0:1].expand(-1, -1, width))
                end = hidden.gather(1, idx[..., 1:2].expand(-1, -1, width))
                cls = hidden[:, :1]
            parts = [start, end, cls.expand(-1, n_targets, -1)]
            if self.target_query is not None:
                query = self.target_query(torch.cat([start, end], dim=-1))
                parts.append(target_context(hidden, attention_mask, query))
            stance_features = self.stance_head[:3](self.dropout(torch.cat(parts, dim=-1)))  # linear, GELU, dropout
            stance_logits = self.stance_head[3](stance_features)
        loss = None
        if stance_labels is not None or device_labels is not None:
            loss = hidden.new_zeros((), dtype=torch.float32)
            if stance_logits is not None and stance_labels is not None:
                loss = loss + self.config.stance_loss_weight * self._stance_loss(stance_logits, stance_labels, stance_soft_labels)
            if device_labels is not None and (device_labels != -100).any():
                loss = loss + self.config.device_loss_weight * self._device_loss(device_logits, device_labels)
            if self.feature_projection is not None and stance_features is not None and stance_feature_targets is not None:
                loss = loss + self.config.feature_distill_weight * self._feature_loss(stance_features, stance_feature_targets)
        return StanceOutput(loss=loss, stance_logits=stance_logits, device_logits=device_logits, stance_features=stance_features)

    def start_stance_branch(self) -> None:
        """Give the stance head its own copy of the encoder's last layer (weights included), so that at first it
        reads exactly what it read before; the config records the branch, so the model saves and loads with it.

        Example:
            >>> network.start_stance_branch()  # doctest: +SKIP
        """
        self.stance_layer = copy.deepcopy(last_encoder_layer(self.encoder))
        self.config.stance_branch = True

    def _device_logits(self, last: torch.Tensor, all_layers: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """The device head on the last layer, or on the learned mix of the last few."""
        features = last
        if self.device_layer_weights is not None and all_layers is not None:
            weights = self.device_layer_weights.softmax(0)
            layers = all_layers[-len(weights) :]
            features = sum(w * h for w, h in zip(weights, layers, strict=True))
        features = self.dropout(features)
        if self.device_hidden is not None:
            features = self.device_hidden(features)
        return self.device_head(features)

    def _feature_loss(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """1 - cosine similarity between the projected stance-head features and the teacher's, averaged
        over the targets that have teacher features (all-zero rows have none)."""
        has = targets.float().abs().sum(-1) > 0
        if self.feature_projection is None or not has.any():
            return features.float().sum() * 0.0
        projected = self.feature_projection(features[has]).float()
        return (1 - nn.functional.cosine_similarity(projected, targets[has].float(), dim=-1)).mean()

    def _device_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """BIO cross-entropy summed over the device labels and averaged over tokens, so that each
        label's signal does not shrink as the taxonomy grows (``device_loss_reduction="token"``);
        ``"entry"`` averages over every (token, label) pair instead."""
        entries = nn.functional.cross_entropy(
            logits.float().reshape(-1, 3), labels.reshape(-1), ignore_index=-100, reduction="none"
        )
        if getattr(self.config, "device_loss_reduction", "token") == "entry":
            return entries.sum() / (labels != -100).sum()
        tokens = (labels != -100).any(-1).sum()
        return entries.sum() / tokens

    def _stance_loss(self, logits: torch.Tensor, labels: torch.Tensor, soft: torch.Tensor | None) -> torch.Tensor:
        """Cross-entropy on gold labels; with a teacher (``distill_weight`` > 0), mixed with the
        cross-entropy against its probabilities, which also covers targets without a gold label."""
        logits = logits.float()
        hard = labels != -100
        ce = nn.functional.cross_entropy(logits[hard], labels[hard]) if hard.any() else None
        weight = getattr(self.config, "distill_weight", 0.0)
        has_soft = soft.float().sum(-1) > 0 if soft is not None and weight > 0 else None
        if soft is None or has_soft is None or not has_soft.any():  # soft None means has_soft None; spelled out for mypy
            return ce if ce is not None else logits.sum() * 0.0
        kd = -(soft[has_soft].float() * logits[has_soft].log_softmax(-1)).sum(-1).mean()
        return kd if ce is None else (1 - weight) * ce + weight * kd


def target_context(hidden: torch.Tensor, attention_mask: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """Per target, the token states averaged by the target's attention over them: scaled dot
    products of its query (batch, targets, hidden) with every token, padding masked.

    Example:
        >>> h = torch.randn(1, 4, 8); mask = torch.tensor([[1, 1, 1, 0]])
        >>> target_context(h, mask, torch.randn(1, 2, 8)).shape
        torch.Size([1, 2, 8])
    """
    scores = torch.einsum("btw,bsw->bts", query, hidden).float() / hidden.shape[-1] ** 0.5
    scores = scores.masked_fill(attention_mask[:, None, :] == 0, torch.finfo(torch.float32).min)
    return torch.einsum("bts,bsw->btw", scores.softmax(-1).to(hidden.dtype), hidden)


def last_encoder_layer(encoder: nn.Module) -> nn.Module:
    """The last layer of a BERT-like encoder (``encoder.encoder.layer[-1]``, with BERT's attention and
    feed-forward parts), which :func:`layer_at` can run at chosen positions; ValueError for other encoders.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> bert = BertModel(BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16))
        >>> last_encoder_layer(bert) is bert.encoder.layer[1]
        True
    """
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    last = layers[-1] if isinstance(layers, nn.ModuleList) and len(layers) else None
    parts = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output", "intermediate", "output")
    if last is None or not all(_has_part(last, p) for p in parts):
        raise ValueError(f"stance_branch needs a BERT-like encoder (MiniLM, BERT), not {type(encoder).__name__}")
    return last


def _has_part(module: nn.Module, dotted: str) -> bool:
    part: Any = module
    for name in dotted.split("."):
        part = getattr(part, name, None)
        if part is None:
            return False
    return True


def layer_at(layer: Any, states: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """A BERT layer's output (batch, n, hidden) at ``positions`` (batch, n) only: queries from those positions'
    ``states``, keys and values from every unmasked token, then the layer's own output, feed-forward and layer
    norms. Equal to running ``layer`` on all of ``states`` and gathering ``positions``, at a fraction of the arithmetic.
    ``layer`` is any module with BERT's parts (:func:`last_encoder_layer` checks them), hence typed ``Any``.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> bert = BertModel(BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16)).eval()
        >>> mask = torch.tensor([[1, 1, 1, 1, 0]])
        >>> out = bert(input_ids=torch.tensor([[1, 5, 6, 7, 0]]), attention_mask=mask, output_hidden_states=True)
        >>> at = layer_at(bert.encoder.layer[1], out.hidden_states[-2], mask, torch.tensor([[0, 3]]))
        >>> torch.allclose(at, out.last_hidden_state[:, [0, 3]], atol=1e-5)
        True
    """
    attention = layer.attention.self
    batch, _, width = states.shape
    heads = attention.num_attention_heads
    size = width // heads
    chosen = states.gather(1, positions[..., None].expand(-1, -1, width))

    def split(x: torch.Tensor) -> torch.Tensor:  # (batch, n, width) -> (batch, heads, n, size)
        return x.view(batch, x.shape[1], heads, size).transpose(1, 2)

    query, key, value = split(attention.query(chosen)), split(attention.key(states)), split(attention.value(states))
    scores = (query @ key.transpose(-1, -2)).float() * size**-0.5
    scores = scores.masked_fill(attention_mask[:, None, None, :] == 0, torch.finfo(torch.float32).min)
    weights = attention.dropout(scores.softmax(-1).to(value.dtype))
    context = (weights @ value).transpose(1, 2).reshape(batch, -1, width)
    attended = layer.attention.output(context, chosen)
    return layer.output(layer.intermediate(attended), attended)


def _encoder_from_config(config: PretrainedConfig) -> PreTrainedModel:
    """The bare encoder; BERT-like models drop their (unused) pooler."""
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


# Let AutoConfig / AutoModel (and AutoTokenizer, which reads the config) recognise saved models.
AutoModel.register(StanceConfig, StanceNetwork, exist_ok=True)
