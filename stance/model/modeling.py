"""`StanceModel`: load a trained model and label sentences.

Example:
    >>> from stance import StanceModel
    >>> model = StanceModel.from_pretrained("default")
    >>> pred = model.predict("Russia's brutal invasion of Ukraine continues.", targets=[(0, 6)])
    >>> pred.targets[0].text, pred.targets[0].stance, [(d.label, d.text) for d in pred.devices if d.label != "propaganda"]
    ('Russia', 'negative', [('loaded_language', 'brutal')])
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast, overload

import numpy as np

from stance.labels.format import LabelRecord
from stance.model.backends import BACKENDS, InferenceBackend, make_backend
from stance.model.bases import resolve_base
from stance.model.encoding import (
    MARKERS,
    Encoded,
    collate,
    decode_spans,
    encode_batch,
    target_windows,
)
from stance.model.outputs import SentencePrediction, TargetPrediction, device_predictions, stance_and_probs
from stance.model.subwords import SubwordTokenizer
from stance.run.settings import DEFAULTS
from stance.store.model_files import InferenceSettings, locate_model, model_version

if TYPE_CHECKING:
    import torch

    from stance.model.config import StanceConfig
    from stance.model.network import StanceNetwork


class _ModelArgs(TypedDict):
    """The keyword arguments that :meth:`StanceModel.from_pretrained` passes on to ``StanceModel``."""

    name: str
    device: str
    bf16: bool | None
    backend: str
    threads: int | None
    path: Path | None


SHAPE_MULTIPLE = 8  # inference batches are padded to multiples of this in both dimensions (see collate)


class StanceModel:
    """A trained stance + framing-device model with its tokenizer.

    Example:
        >>> model = StanceModel.from_pretrained("default")
        >>> model.predict(["The minister praised Canada for its generous aid."], targets=[[(21, 27)]])[0].targets[0].stance
        'positive'
    """

    def __init__(
        self,
        network: StanceNetwork | Callable[[], StanceNetwork],
        tokenizer: Any,
        *,
        config: StanceConfig | InferenceSettings | None = None,
        name: str = "",
        device: str = "cpu",
        bf16: bool | None = None,
        backend: str = "torch",
        path: str | Path | None = None,
        subwords: SubwordTokenizer | None = None,
        threads: int | None = None,
    ):
        """``network`` and ``tokenizer`` may be functions that load them (with ``config`` given): a
        model loaded for an exported backend whose graph is cached then never loads the PyTorch
        network or transformers at all. ``config`` may then be just the :class:`InferenceSettings`
        (the full config is read on first use of :attr:`config`); ``subwords`` is the tokenizer
        inference uses (by default made from ``tokenizer``); ``threads``: the backend's threads."""
        self._network: StanceNetwork | None
        self._load_network: Callable[[], StanceNetwork] | None
        if not hasattr(network, "state_dict"):  # a function that loads it
            if config is None:
                raise ValueError("StanceModel: a network loaded on demand needs its config")
            self._network, self._load_network = None, network
        else:
            network = cast("StanceNetwork", network)
            # transformers wraps PreTrainedModel.to in functools.wraps, which typeshed types as an unbound callable
            self._network, self._load_network = network.to(device).eval(), None  # type: ignore[arg-type]
            config = cast("StanceConfig", network.config)  # typed PreTrainedConfig; a StanceNetwork's is a StanceConfig
        self._config = None if isinstance(config, InferenceSettings) else config
        self._settings = config if isinstance(config, InferenceSettings) else None
        loads_tokenizer = inspect.isfunction(tokenizer)  # (a transformers tokenizer is callable too)
        self._tokenizer: Any
        self._load_tokenizer: Callable[[], Any] | None
        self._tokenizer, self._load_tokenizer = (None, tokenizer) if loads_tokenizer else (tokenizer, None)
        self._subwords = subwords
        self.name = name
        self.device_name = str(device)
        self.requested_bf16 = bf16
        self.threads = threads
        self.path = str(path) if path else None
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self._backend_name = backend
        self._backend: InferenceBackend | None = None
        self._bf16: bool | None = bf16

    @property
    def network(self) -> StanceNetwork:
        """The PyTorch network (loaded on first use where the model was loaded for another backend)."""
        if self._network is None:
            if self._load_network is None:  # __init__ sets one of the two
                raise RuntimeError("StanceModel was built with neither a network nor a way to load one")
            self._network = self._load_network().to(self.device_name).eval()  # type: ignore[arg-type]  # functools.wraps, as in __init__
        return self._network

    @property
    def tokenizer(self):
        """The transformers tokenizer (loaded on first use where the model was loaded for another backend)."""
        if self._tokenizer is None:
            if self._load_tokenizer is None:  # __init__ sets one of the two
                raise RuntimeError("StanceModel was built with neither a tokenizer nor a way to load one")
            self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    @property
    def subwords(self) -> SubwordTokenizer:
        """The tokenizer inference uses (ids and offsets; see :mod:`stance.model.subwords`)."""
        if self._subwords is None:
            self._subwords = SubwordTokenizer.of(self.tokenizer)
        return self._subwords

    @property
    def device(self) -> torch.device:
        import torch

        return torch.device(self.device_name)

    @property
    def device_type(self) -> str:
        """``cpu``, ``cuda``, ... (without importing torch)."""
        return self.device_name.split(":", 1)[0]

    @property
    def bf16(self) -> bool:
        """Whether the torch backend runs in bf16 (given, or whether the hardware has bf16)."""
        if self._bf16 is None:
            self._bf16 = _bf16_supported(self.device)
        return self._bf16

    @property
    def backend(self) -> InferenceBackend:
        """What runs the network (see :mod:`stance.model.backends`); made on first use."""
        if self._backend is None:
            self._backend = make_backend(self, self._backend_name)
        return self._backend

    @property
    def version(self) -> str | None:
        """Short hash of the saved model (None for a model not loaded from a directory)."""
        return model_version(self.path)

    # ----------------------------------------------------------------- loading / saving
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path = "default",
        *,
        device: str = "cpu",
        bf16: bool | None = None,
        backend: str = "torch",
        threads: int | None = None,
    ) -> StanceModel:
        """Load ``default``, a local directory or a Hugging Face hub id; ``backend``: ``torch`` (default)
        or any name of :data:`stance.model.backends.BACKENDS`, ``auto`` choosing among them;
        ``threads``: the backend's threads (default: torch's setting, else all cores).

        For a backend other than ``torch`` the PyTorch network is loaded only if it is needed (to
        export a graph not cached yet), and from a local directory neither transformers nor torch
        is imported: the tokenizer and labels are read from its files. A folder that holds no stance
        model (no config.json, another model's config, no or unreadable weights, no tokenizer.json) is a
        ValueError naming the file (:func:`~stance.store.model_files.locate_model`).

        Example:
            >>> StanceModel.from_pretrained("~/models/mine", backend="openvino").version  # doctest: +SKIP
            '2dbebcc1226d'
        """
        path = locate_model(name_or_path)  # a hub id: its snapshot in the Hugging Face cache

        def load_network() -> StanceNetwork:
            import torch
            from transformers.utils import logging as hf_logging

            from stance.model.network import StanceNetwork

            bar = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # a "Loading weights" bar for a local 90 MB file is noise to users
            try:
                return StanceNetwork.from_pretrained(path, dtype=torch.float32)
            finally:
                if bar:
                    hf_logging.enable_progress_bar()

        def load_tokenizer():
            from transformers import AutoTokenizer

            from stance.model.config import StanceConfig  # noqa: F401 (registers the "stance" config type first)

            return AutoTokenizer.from_pretrained(path)

        common: _ModelArgs = {
            "name": str(name_or_path),
            "device": device,
            "bf16": bf16,
            "backend": backend,
            "threads": threads,
            "path": path,
        }
        if backend != "torch":
            try:
                subwords = SubwordTokenizer.from_directory(path)
            except ValueError:
                subwords = None
            if subwords is not None:
                settings = InferenceSettings.from_file(path / "config.json")
                return cls(load_network, load_tokenizer, config=settings, subwords=subwords, **common)
        from stance.model.config import StanceConfig

        config = StanceConfig.from_pretrained(path)
        config.name_or_path = str(path)  # as PreTrainedModel.from_pretrained sets it
        return cls(load_network() if backend == "torch" else load_network, load_tokenizer(), config=config, **common)

    @classmethod
    def from_base(
        cls,
        base: str,
        device_labels: Sequence[str],
        *,
        internal_device_labels: Sequence[str] = (),
        device: str = "cpu",
        **config: Any,
    ) -> StanceModel:
        """A new model on a pretrained encoder (``minilm``, ``mpnet``, a path or hub id), heads untrained."""
        from transformers import AutoModel, AutoTokenizer

        from stance.model.config import StanceConfig
        from stance.model.network import StanceNetwork

        path = resolve_base(base)
        tokenizer = AutoTokenizer.from_pretrained(path)
        tokenizer.add_special_tokens({"additional_special_tokens": list(MARKERS)})
        encoder = AutoModel.from_pretrained(path)
        encoder.resize_token_embeddings(len(tokenizer), mean_resizing=True)
        network = StanceNetwork(
            StanceConfig(
                encoder=encoder.config.to_dict(),
                device_labels=list(device_labels),
                internal_device_labels=list(internal_device_labels),
                **config,
            )
        )
        weights = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
        missing, unexpected = network.encoder.load_state_dict(weights, strict=False)
        if unexpected or missing:
            raise ValueError(f"base encoder weights do not fit: unexpected {unexpected[:5]}, missing {missing[:5]}")
        if network.stance_layer is not None:  # the branch starts as the base's last layer
            network.start_stance_branch()
        return cls(network, tokenizer, name=base, device=device)

    def save_pretrained(self, path: str | Path, *, dtype: torch.dtype | None = None, card: str | None = None) -> None:
        """Save config, safetensors weights (``dtype``, bf16 by default), tokenizer and model card."""
        import torch

        dtype = dtype or torch.bfloat16
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        original = next(self.network.parameters()).dtype
        # transformers wraps PreTrainedModel.to in functools.wraps, which typeshed types as an unbound callable
        self.network.to(dtype).save_pretrained(path, safe_serialization=True)  # type: ignore[arg-type]
        self.network.to(original)  # type: ignore[arg-type]
        self.tokenizer.save_pretrained(path)
        if card is not None:
            (path / "README.md").write_text(card, encoding="utf-8")

    # ----------------------------------------------------------------- label sets
    @property
    def config(self) -> StanceConfig:
        """The full configuration (read on first use where the model was loaded with its settings only)."""
        if self._config is None:
            from stance.model.config import StanceConfig

            if self.path is None:  # loaded with its settings only: from a model directory
                raise RuntimeError("StanceModel has neither a configuration nor a directory to read one from")
            self._config = StanceConfig.from_pretrained(self.path)
            self._settings = None
        return self._config

    @property
    def settings(self) -> InferenceSettings:
        """What inference needs of the configuration: label sets, thresholds, maximum length."""
        if self._config is not None:  # the full config, which callers may have changed (thresholds)
            return InferenceSettings.from_config(self._config)
        return self._settings  # type: ignore[return-value]

    @property
    def stance_labels(self) -> list[str]:
        return list(self.settings.stance_labels)

    @property
    def device_labels(self) -> list[str]:
        """Device labels the model reports (internal auxiliary labels left out)."""
        return self.settings.reported_device_labels

    def evaluation(self) -> dict[str, Any]:
        """The dev-set evaluation stored beside the weights (``evaluation.json``), or {}."""
        path = Path(self.path) / "evaluation.json" if self.path else None
        return json.loads(path.read_text()) if path and path.exists() else {}

    # ----------------------------------------------------------------- prediction
    # A str is also a Sequence[str], so mypy reports the two as overlapping; a str is meant to match this first one
    # (predict checks for a str first), the usual str-vs-Sequence[str] overload pattern.
    @overload
    def predict(  # type: ignore[overload-overlap]
        self, texts: str, targets: Sequence[tuple[int, int]] | None = None, *, batch_size: int = ..., include_internal: bool = ...
    ) -> SentencePrediction: ...
    @overload
    def predict(
        self,
        texts: Sequence[str],
        targets: Sequence[Sequence[tuple[int, int]]] | None = None,
        *,
        batch_size: int = ...,
        include_internal: bool = ...,
    ) -> list[SentencePrediction]: ...

    def predict(self, texts, targets=None, *, batch_size: int = DEFAULTS.batch_size, include_internal: bool = False):
        """Label sentences; a single string in gives a single result out.

        ``targets``: per sentence, the (start, end) character spans to give a stance for. A target that
        the maximum length cuts off a long sentence is read from a window of the sentence around it
        (:meth:`stance_in_windows`), so every target gets a stance.

        Example:
            >>> model = StanceModel.from_pretrained("default")
            >>> model.predict("Russia's brutal invasion of Ukraine continues.", [(0, 6)]).targets[0].stance
            'negative'
        """
        single = isinstance(texts, str)
        if single:
            texts = [texts]
            targets = None if targets is None else [targets]
        texts, targets = checked_inputs(texts, targets, single=single)
        encoded = encode_batch(self.subwords, texts, targets, max_length=self.settings.max_seq_length)
        cut: dict[int, dict[int, tuple[tuple[int, int], np.ndarray]]] = {}
        for (n, j), p in self.stance_in_windows(texts, targets, encoded, batch_size=batch_size).items():
            cut.setdefault(n, {})[j] = (targets[n][j], p)  # windows exist only where targets were given
        results = []
        for n, (text, enc, (stance_probs, device_probs)) in enumerate(
            zip(texts, encoded, self.run(encoded, batch_size=batch_size))
        ):
            results.append(
                self.to_prediction(text, enc, stance_probs, device_probs, include_internal=include_internal, cut=cut.get(n))
            )
        return results[0] if single else results

    def stance_in_windows(
        self,
        texts: Sequence[str],
        targets: Sequence[Sequence[tuple[int, int]]] | None,
        encoded: Sequence[Encoded],
        *,
        batch_size: int = DEFAULTS.batch_size,
    ) -> dict[tuple[int, int], np.ndarray]:
        """Stance probabilities of the targets that the maximum length cut off their sentence (those with
        no slot in ``encoded``), by (sentence number, target number): each read from a window of its
        sentence around it, one more pass per such target. Empty when every target fitted.

        Example:
            >>> encoded = encode_batch(model.subwords, [long_text], [[(9000, 9006)]], max_length=128)  # doctest: +SKIP
            >>> model.stance_in_windows([long_text], [[(9000, 9006)]], encoded)  # doctest: +SKIP
            {(0, 0): array([0.7, 0.2, 0.1], dtype=float32)}
        """
        if targets is None:
            return {}
        jobs = [
            (n, j, texts[n], targets[n][j])
            for n, enc in enumerate(encoded)
            for j, slot in enumerate(enc.target_slots)
            if slot is None
        ]
        if not jobs:
            return {}
        max_length = self.settings.max_seq_length
        windows = target_windows(self.subwords, [t for _, _, t, _ in jobs], [span for *_, span in jobs], max_length=max_length)
        window_enc = encode_batch(
            self.subwords,
            [text[a:b] for (_, _, text, _), (a, b) in zip(jobs, windows)],
            [[(s - a, e - a)] for (*_, (s, e)), (a, _) in zip(jobs, windows)],
            max_length=max_length,
        )
        out = {}
        for (n, j, _, _), e, (stance_probs, _) in zip(jobs, window_enc, self.run(window_enc, batch_size=batch_size)):
            if e.target_slots[0] is not None:  # no window could hold it otherwise (not with a sane max_seq_length)
                out[(n, j)] = stance_probs[e.target_slots[0]]
        return out

    def to_prediction(
        self,
        text: str,
        enc: Encoded,
        stance_probs: np.ndarray,
        device_probs: np.ndarray,
        *,
        include_internal: bool = False,
        cut: dict[int, tuple[tuple[int, int], np.ndarray]] | None = None,
    ) -> SentencePrediction:
        """Turn one sentence's raw probabilities into typed predictions. ``cut``: by target number, the
        span and stance probabilities of each target that truncation cut off (:meth:`stance_in_windows`);
        a cut target missing from it comes out as ``TargetPrediction(-1, -1, "", None)``."""
        labels = self.stance_labels
        targets = []
        for j, slot in enumerate(enc.target_slots):
            if slot is not None:
                (start, end), p = enc.target_spans[slot], stance_probs[slot]
            elif cut and j in cut:
                (start, end), p = cut[j]
            else:
                targets.append(TargetPrediction(-1, -1, "", None, {}))
                continue
            targets.append(TargetPrediction(start, end, text[start:end], *stance_and_probs(p, labels)))
        settings = self.settings
        if include_internal:  # every label as decoded, internal ones too (evaluation)
            spans = decode_spans(
                device_probs, enc.offsets, settings.device_labels, settings.device_thresholds, text, settings.device_min_scores
            )
            devices = device_predictions(((s, e, label, score, None) for s, e, label, score in spans), text)
        else:
            devices = settings.decode_devices(device_probs, enc.offsets, text)
        return SentencePrediction(text=text, targets=tuple(targets), devices=devices, truncated=enc.truncated)

    def run(
        self, encoded: Sequence[Encoded], *, batch_size: int = DEFAULTS.batch_size
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Raw probabilities per sentence, in input order: stance (targets, 3) and devices (tokens, labels, 3).

        Sentences are sorted by length into batches (length bucketing) and run by the model's
        backend (bf16 weights where the CPU supports it; see :mod:`stance.model.backends`).
        """
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(encoded)
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            for i, result in zip(idx, self._run_batch([encoded[i] for i in idx])):
                out[i] = result
        yield from out  # type: ignore[misc]

    def _run_batch(self, batch: Sequence[Encoded]) -> list[tuple[np.ndarray, np.ndarray]]:
        tensors = collate(batch, pad_id=self.subwords.pad_token_id, multiple_of=SHAPE_MULTIPLE)
        stance_probs, device_probs = self.backend(tensors)
        stance_probs = self.settings.calibrate(stance_probs)
        return [
            (stance_probs[b, : len(enc.target_markers)], device_probs[b, : len(enc.input_ids)]) for b, enc in enumerate(batch)
        ]


def checked_inputs(texts: Any, targets: Any, *, single: bool = False) -> tuple[list[str], list[list[tuple[int, int]]] | None]:
    """:meth:`StanceModel.predict`'s texts (strings) and targets (None, or per text a list of (start,
    end) pairs) as lists; ValueError saying what is wrong. A text's targets are checked as the label
    format checks a line's (:meth:`stance.labels.format.LabelRecord.from_dict`: integers,
    ``0 <= start < end <= len(text)``), the check ``stance predict-stance`` makes of its input lines.
    ``single``: one text was given (its messages then name no text).

    Example:
        >>> checked_inputs(["Moscow rejected the plan."], [[(100, 120)]])
        Traceback (most recent call last):
        ...
        ValueError: texts[0]: targets[0]: span 100-120 is out of range for a text of 25 characters
    """
    if isinstance(texts, (bytes, bytearray)):
        raise ValueError("texts must be strings, not bytes: decode them first (data.decode('utf-8'))")
    if not isinstance(texts, Iterable):
        raise ValueError(f"texts must be a string or a list of strings, not {type(texts).__name__}")
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        raise ValueError(f"texts must be strings, not {sorted({type(t).__name__ for t in texts if not isinstance(t, str)})}")
    if targets is None:
        return texts, None
    per_text: list[Any] = list(targets) if isinstance(targets, Iterable) else []
    if not isinstance(targets, Iterable) or len(per_text) != len(texts):
        raise ValueError(f"targets must hold one list of (start, end) pairs per text ({len(texts)})")
    for n, (text, spans) in enumerate(zip(texts, per_text)):
        try:
            _check_targets(text, spans)
        except ValueError as exc:
            raise ValueError(str(exc) if single else f"texts[{n}]: {exc}") from None
    return texts, per_text


def _check_targets(text: str, spans: Any) -> None:
    """ValueError where ``spans`` is no list of (start, end) pairs that are spans of ``text`` (the label format's check)."""
    if not isinstance(spans, Iterable) or isinstance(spans, (str, bytes, dict)):
        raise ValueError(f"targets must be a list of (start, end) pairs, not {type(spans).__name__}")
    spans = list(spans)
    for j, span in enumerate(spans):
        if not isinstance(span, (tuple, list)) or len(span) != 2:
            raise ValueError(f"targets[{j}]: a target is a (start, end) pair, not {span!r}")
    if spans:
        LabelRecord.from_dict({"text": text, "targets": [{"start": start, "end": end} for start, end in spans]})


def _bf16_supported(device: torch.device) -> bool:
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
