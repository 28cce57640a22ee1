"""Inference backends: what runs the network on a padded batch.

A small base class with swappable implementations (as flair's sentence splitters), each one
registered by name in :data:`BACKEND_REGISTRY` (a :class:`BackendEntry`: how to build it for a
model, what it needs); the names the options take (:data:`BACKENDS`), the help texts
(:func:`backend_choices`) and the validation messages all come from there, so adding a backend is
one :class:`InferenceBackend` subclass plus one entry:

- ``torch``: PyTorch. Where the CPU has native bf16 (AVX512-BF16 / AMX) the weights run in
  bf16 directly, from a bf16 copy of the network made once (the saved weights are bf16
  already); elsewhere fp32. This is the default.
- ``openvino``: OpenVINO on a graph converted from the model, in bf16 where the CPU has it
  (AMX / AVX512-BF16), else fp32. It fuses the encoder's small operations that PyTorch runs one
  by one. Converted once per version of the model (the hash of its config and weights; :mod:`stance.model.exports`) and cached
  beside it in ``<model>/openvino/<version>`` (or, where that directory is read-only, under
  ``$STANCE_CACHE/openvino/<version>``), so that a model saved again into the same directory never
  runs the graph of its old weights.
- ``onnx`` / ``onnx-int8``: ONNX Runtime on a graph exported from the model, optionally with
  int8 dynamic quantisation; cached the same way (``onnx/``). Needs ``pip install stance[onnx]``.
- ``auto``: the fastest of the accelerated backends (:data:`ACCELERATED`) whose labels the model's
  directory records to agree with the torch backend (``backends.json``, written by
  ``bench/backends.py --record``), if a timing on this machine finds it at least 10% faster than
  ``torch``; otherwise ``torch``. The timing is done once per model version, machine and thread
  count and cached (``backends/<version>``); a verdict recorded for other weights (its
  ``model_version``) is not trusted.

Every backend returns the same thing: stance probabilities (batch, targets, 3) and device
probabilities (batch, tokens, device labels, 3) as numpy arrays.

Example:
    >>> from stance import StanceModel
    >>> model = StanceModel.from_pretrained("default", backend="torch")  # doctest: +SKIP
    >>> model.backend.name  # doctest: +SKIP
    'torch-bf16'
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from stance.model.exports import GRAPH_INPUTS, cached_export, drop_other_versions, export_dir, export_onnx, export_openvino
from stance.run.settings import DEFAULTS

if TYPE_CHECKING:  # numpy is imported where it is used: help texts read this module's registry
    import numpy as np
    import torch

    from stance.model.modeling import StanceModel
    from stance.model.network import StanceNetwork


class InferenceBackend(ABC):
    """Runs the network on one padded batch (the arrays of :func:`stance.model.encoding.collate`)."""

    name: str = ""

    @abstractmethod
    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(stance probabilities (batch, targets, 3), device probabilities (batch, tokens, labels, 3))."""


class TorchBackend(InferenceBackend):
    """PyTorch; native bf16 weights where the hardware has bf16, else fp32.

    The bf16 copy is remade whenever the network's weights have changed in place (an optimiser
    step bumps their version counters), so a model that is trained after use never runs stale weights.
    """

    def __init__(self, network: StanceNetwork, device: torch.device, bf16: bool) -> None:
        self.network = network
        self.device = device
        self.bf16 = bf16
        self.name = "torch-bf16" if bf16 else "torch-fp32"
        self._copy: StanceNetwork | None = None
        self._copy_key: tuple | None = None

    @classmethod
    def for_model(cls, model: StanceModel) -> TorchBackend:
        """The torch backend of ``model``, on ``model.threads`` threads when that is set.

        Example:
            >>> TorchBackend.for_model(StanceModel.from_pretrained("default")).name  # doctest: +SKIP
            'torch-bf16'
        """
        if model.threads:
            import torch

            torch.set_num_threads(model.threads)
        return cls(model.network, model.device, model.bf16)

    def _inference_network(self) -> StanceNetwork:
        import torch

        if not self.bf16 or next(self.network.parameters()).dtype == torch.bfloat16:
            return self.network
        if self.network.training:  # mid-training evaluation: autocast on the live weights
            return self.network
        key = tuple((id(p), p._version) for p in self.network.parameters())
        if self._copy is None or key != self._copy_key:
            import copy

            # transformers wraps PreTrainedModel.to in functools.wraps, which typeshed types as an unbound callable
            self._copy = copy.deepcopy(self.network).to(torch.bfloat16).eval()  # type: ignore[arg-type]
            self._copy_key = key
        return self._copy

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np
        import torch

        network = self._inference_network()
        tensors = {k: torch.as_tensor(v).to(self.device) for k, v in batch.items()}
        autocast = (
            torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
            if self.bf16 and next(network.parameters()).dtype != torch.bfloat16  # live fp32 weights (training)
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            output = network(**tensors)
        device_probs = output.device_logits.float().softmax(-1).cpu().numpy()
        if output.stance_logits is None:
            stance_probs = np.zeros((device_probs.shape[0], 0, len(network.config.stance_labels)), dtype=np.float32)
        else:
            stance_probs = output.stance_logits.float().softmax(-1).cpu().numpy()
        return stance_probs, device_probs


class OnnxBackend(InferenceBackend):
    """ONNX Runtime on an exported graph (fp32, or int8 with dynamic quantisation)."""

    def __init__(self, path: str | Path, *, quantized: bool, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.name = "onnx-int8" if quantized else "onnx"
        self.path = Path(path)

    @classmethod
    def for_model(cls, model: StanceModel, *, quantized: bool = False) -> OnnxBackend:
        """ONNX Runtime on ``model``'s exported graph (exported once and cached: :func:`export_dir`).

        Example:
            >>> OnnxBackend.for_model(StanceModel.from_pretrained("default"), quantized=True).name  # doctest: +SKIP
            'onnx-int8'
        """
        name = "model.int8.onnx" if quantized else "model.onnx"
        graph = cached_export(model, "onnx", name, lambda directory: export_onnx(model.network, directory, quantize=quantized))
        return cls(graph, quantized=quantized, threads=model.threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feeds, n_targets = graph_feeds(batch)
        stance_probs, device_probs = self.session.run(None, feeds)
        return stance_probs[:, :n_targets], device_probs


class OpenVinoBackend(InferenceBackend):
    """OpenVINO on a converted graph; bf16 inference where the CPU has it (``bf16=None``: ask
    OpenVINO), else fp32."""

    def __init__(self, path: str | Path, *, bf16: bool | None = None, threads: int | None = None) -> None:
        import openvino as ov

        core = ov.Core()
        if bf16 is None:
            bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        config = {
            "INFERENCE_NUM_THREADS": threads or default_threads(),
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            # OpenVINO pins its threads to cores by default: two worker processes then share one core
            # (measured: half the throughput), and NER in the same process competes with a pinned thread.
            "ENABLE_CPU_PINNING": False,
        }
        self._request = core.compile_model(str(path), "CPU", config).create_infer_request()
        self._lock = threading.Lock()  # one infer request: callers on several threads take turns
        self.name = "openvino-bf16" if bf16 else "openvino-fp32"
        self.path = Path(path)

    @classmethod
    def for_model(cls, model: StanceModel) -> OpenVinoBackend:
        """OpenVINO on ``model``'s converted graph (converted once and cached: :func:`export_dir`).

        Example:
            >>> OpenVinoBackend.for_model(StanceModel.from_pretrained("default")).name  # doctest: +SKIP
            'openvino-bf16'
        """
        graph = cached_export(model, "openvino", "model.xml", lambda directory: export_openvino(model.network, directory))
        return cls(graph, bf16=model.requested_bf16, threads=model.threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feeds, n_targets = graph_feeds(batch)
        with self._lock:
            result = self._request.infer(feeds)
            return result[0][:, :n_targets].copy(), result[1].copy()  # the request reuses its output buffers


def default_threads() -> int:
    """Threads for a backend not told how many: torch's setting where torch is loaded, else every core."""
    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    from stance.resources import available_cpus

    return available_cpus()


def graph_feeds(batch: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """A batch as the exported graphs take it (one target slot at least), and its real number of targets."""
    import numpy as np

    feeds = {k: np.asarray(batch[k]) for k in GRAPH_INPUTS}
    n_targets = feeds["target_markers"].shape[1]
    if n_targets == 0:  # the graphs are traced with a target; an unused slot (-1) stands in
        feeds["target_markers"] = np.full((feeds["input_ids"].shape[0], 1, 2), -1, dtype=np.int64)
    return feeds, n_targets


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class BackendEntry:
    """One name of the backend registry: how to build that backend for a model and what it needs.

    ``build`` makes the backend for a loaded :class:`~stance.model.modeling.StanceModel`.
    ``runtime``: the module it imports (None: nothing beyond torch); ``install``: what to
    ``pip install`` for it, and ``extra``: whether that is an optional extra of stance (the help
    texts name it). ``cpu_only``: it refuses other devices. ``accelerated``: ``auto`` may pick it,
    given a recorded agreement with ``torch``. ``chooses``: a choice among the backends (``auto``),
    listed after them in help texts, with its ``note``.

    Example:
        >>> BACKEND_REGISTRY["onnx-int8"].install
        'stance[onnx]'
        >>> [name for name, entry in BACKEND_REGISTRY.items() if entry.cpu_only]
        ['openvino', 'onnx', 'onnx-int8']
    """

    name: str
    build: Callable[[StanceModel], InferenceBackend]
    runtime: str | None = None
    install: str | None = None
    extra: bool = False
    cpu_only: bool = False
    accelerated: bool = False
    chooses: bool = False
    note: str = ""


def _build_auto(model: StanceModel) -> InferenceBackend:
    """``auto``: the backend :func:`choose_backend` picks for ``model``."""
    return make_backend(model, choose_backend(model))


# A plain dict of entries, the project's one registry pattern (splitters, backends, input formats, dataset
# converters): adding a component is one entry here. Not spaCy's `catalogue`: nothing is plugged in from other
# packages (no entry points), and a dict reads in one place.
BACKEND_REGISTRY: dict[str, BackendEntry] = {
    entry.name: entry
    for entry in (
        BackendEntry("auto", _build_auto, chooses=True, note="the fastest backend recorded to agree, where measured faster"),
        BackendEntry("torch", TorchBackend.for_model),
        # openvino is a dependency of stance itself: no extra to name
        BackendEntry(
            "openvino", OpenVinoBackend.for_model, runtime="openvino", install="openvino", cpu_only=True, accelerated=True
        ),
        BackendEntry("onnx", OnnxBackend.for_model, runtime="onnxruntime", install="stance[onnx]", extra=True, cpu_only=True),
        BackendEntry(
            "onnx-int8",
            partial(OnnxBackend.for_model, quantized=True),
            runtime="onnxruntime",
            install="stance[onnx]",
            extra=True,
            cpu_only=True,
            accelerated=True,
        ),
    )
}
"""Every backend name the options take, in the order the error messages list them."""

BACKENDS: tuple[str, ...] = tuple(BACKEND_REGISTRY)
"""The backend names (``auto`` first)."""
ACCELERATED: tuple[str, ...] = tuple(name for name, entry in BACKEND_REGISTRY.items() if entry.accelerated)
"""The backends ``auto`` may pick, given a recorded agreement with ``torch``."""


def check_backend(name: str) -> str:
    """``name`` if it is a backend (:data:`BACKENDS`); a ValueError naming the choices otherwise (the
    check of ``stance score``'s options and the service's settings).

    Example:
        >>> check_backend("tensorrt")
        Traceback (most recent call last):
        ...
        ValueError: backend must be one of auto, torch, openvino, onnx, onnx-int8, not 'tensorrt'
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def backend_choices(*, notes: bool = False) -> str:
    """The backend names for a help text: the backends in registry order, then the choices among
    them (``auto``). ``notes``: with what each needs installed (an optional extra of stance, named
    once after the last backend that needs it) and the choices' notes.

    Example:
        >>> backend_choices()
        'torch, openvino, onnx, onnx-int8 or auto'
        >>> backend_choices(notes=True)
        "torch, openvino, onnx, onnx-int8 (pip install 'stance[onnx]') or auto (the fastest backend recorded to agree, where measured faster)"
    """
    entries = sorted(BACKEND_REGISTRY.values(), key=lambda entry: entry.chooses)  # stable: the backends, then the choices
    words = []
    for i, entry in enumerate(entries):
        word = entry.name
        if notes:
            after = entries[i + 1] if i + 1 < len(entries) else None
            if entry.extra and (after is None or after.install != entry.install):
                word += f" (pip install '{entry.install}')"
            if entry.note:
                word += f" ({entry.note})"
        words.append(word)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def runtime_available(backend: str) -> bool:
    """Whether the runtime a backend needs is installed (``torch`` always is).

    Example:
        >>> runtime_available("torch")
        True
    """
    entry = BACKEND_REGISTRY.get(backend)
    if entry is None or entry.runtime is None:
        return True
    import importlib.util

    return importlib.util.find_spec(entry.runtime) is not None


# ----------------------------------------------------------------------------- choice


def make_backend(model: StanceModel, name: str = "torch") -> InferenceBackend:
    """The backend called ``name`` (one of :data:`BACKENDS`) for ``model``.

    Example:
        >>> make_backend(model, "onnx-int8").name  # doctest: +SKIP
        'onnx-int8'
    """
    entry = BACKEND_REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if entry.runtime is not None and not runtime_available(name):
        raise ValueError(f"backend {name!r} needs {entry.runtime}: pip install '{entry.install}'")
    if entry.cpu_only and model.device_type != "cpu":
        raise ValueError(f"backend {name!r} runs on the CPU only (device is {model.device_name})")
    return entry.build(model)


def choose_backend(model: StanceModel) -> str:
    """The fastest accelerated backend recorded to agree with ``torch``, where it is at least 10%
    faster here; else ``torch``. Timed once per model, machine and thread count, then cached."""
    if model.device_type != "cpu":
        return "torch"
    threads = model.threads or default_threads()
    if (chosen := known_choice(model.path, model.version, threads)) is not None:
        return chosen
    candidates = auto_candidates(model.path, model.version)
    cached = auto_choice_file(model.path, model.version, threads)
    timings = _time_backends({name: make_backend(model, name) for name in ("torch", *candidates)}, model)
    fastest = min(candidates, key=timings.__getitem__)
    chosen = fastest if timings[fastest] < 0.9 * timings["torch"] else "torch"
    cached.parent.mkdir(parents=True, exist_ok=True)
    record = {"chosen": chosen, "candidates": candidates, "seconds": timings, "threads": threads, "model_version": model.version}
    cached.write_text(json.dumps(record, indent=2))
    drop_other_versions(model.path, cached.parent)
    return chosen


def auto_candidates(model_dir: str | Path | None, version: str | None = None) -> list[str]:
    """The accelerated backends that are installed and whose labels the model directory's
    ``backends.json`` records to agree with ``torch``, on stance and devices both: a verdict without a
    device measure (``max_device_partial_f1_drop``, recorded since the nineteenth session) checked stance
    only, and an int8 graph can keep the stance while changing a third of the device spans. A verdict
    that names the version it was measured on (``model_version``) counts for that ``version`` only.

    Example:
        >>> auto_candidates(None)
        []
    """
    record = Path(model_dir) / "backends.json" if model_dir else None
    if record is None or not record.exists():
        return []
    verdicts = json.loads(record.read_text())
    return [name for name in ACCELERATED if _agrees_on_record(verdicts.get(name, {}), version) and runtime_available(name)]


def _agrees_on_record(verdict: dict, version: str | None) -> bool:
    measured_on = verdict.get("model_version")
    same_weights = measured_on is None or version is None or measured_on == version
    return bool(verdict.get("agrees")) and "max_device_partial_f1_drop" in verdict and same_weights


def auto_choice_file(model_dir: str | Path | None, version: str | None, threads: int) -> Path:
    """Where ``auto``'s timing-based choice for this machine and thread count is cached."""
    return export_dir(model_dir, version, "backends") / f"auto-{_machine_key()}-{threads}threads.json"


def known_choice(model_dir: str | Path | None, version: str | None, threads: int) -> str | None:
    """``auto``'s choice for a CPU where it needs no timing (and no torch): ``torch`` when no
    accelerated backend is recorded to agree, else the choice cached for this version of the model,
    machine and thread count if it was made among the same candidates; None when a timing is due."""
    candidates = auto_candidates(model_dir, version)
    if not candidates:
        return "torch"
    path = auto_choice_file(model_dir, version, threads)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return record["chosen"] if record.get("candidates") == candidates else None


_CALIBRATION = (
    "The minister said on Tuesday that the talks in Geneva had failed.",
    "Critics of the so-called reform, widely believed to favour large donors, called it a betrayal of voters.",
    "NATO and the European Union agreed to extend sanctions.",
    "In an apparent dig at Washington, the spokesman described the plan as reckless and said Beijing would respond "
    "with measures of its own if the tariffs went ahead as announced last month.",
)


def _time_backends(backends: dict[str, InferenceBackend], model: StanceModel, repeats: int = 5) -> dict[str, float]:
    """Seconds per backend for a fixed calibration workload (256 sentences of varied length): the
    fastest of ``repeats`` rounds, interleaved so that a busy spell on the machine hits every backend
    alike (the minimum estimates the undisturbed cost; other load only ever adds time)."""
    from stance.model.encoding import collate, encode_batch

    texts = [_CALIBRATION[i % len(_CALIBRATION)] for i in range(256)]
    encoded = encode_batch(model.subwords, texts, [[(0, 3)]] * len(texts), max_length=model.settings.max_seq_length)
    size = DEFAULTS.batch_size  # the batches a run makes by default
    batches = [collate(encoded[i : i + size], pad_id=model.subwords.pad_token_id) for i in range(0, len(encoded), size)]
    times: dict[str, list[float]] = {name: [] for name in backends}
    for backend in backends.values():
        backend(batches[0])  # warm-up
    for _ in range(repeats):
        for name, backend in backends.items():
            t0 = time.perf_counter()
            for batch in batches:
                backend(batch)
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}


def _machine_key() -> str:
    import hashlib

    return hashlib.sha256(f"{platform.machine()}-{platform.processor()}-{_cpu_model()}".encode()).hexdigest()[:8]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""
