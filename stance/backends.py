"""Inference backends: what runs the network on a padded batch.

A small base class with swappable implementations (as flair's sentence splitters):

- ``torch``: PyTorch. Where the CPU has native bf16 (AVX512-BF16 / AMX) the weights run in
  bf16 directly, from a bf16 copy of the network made once (the saved weights are bf16
  already); elsewhere fp32. This is the default.
- ``onnx`` / ``onnx-int8``: ONNX Runtime on a graph exported from the model, optionally with
  int8 dynamic quantisation. Exported once and cached beside the model (or, where that
  directory is read-only, under ``$STANCE_CACHE/onnx/<version>``). Needs ``pip install stance[onnx]``.
- ``auto``: ``onnx-int8`` only where the model's directory records that its labels agree with
  the torch backend (``backends.json``, written by ``bench/backend_agreement.py --record``)
  *and* a timing on this machine finds it faster; otherwise ``torch``. The timing is done
  once per model, machine and thread count and cached.

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
import os
import platform
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from stance.modeling import StanceModel
    from stance.network import StanceNetwork

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
ONNX_INPUTS = ("input_ids", "attention_mask", "target_markers")


class InferenceBackend(ABC):
    """Runs the network on one padded batch (the tensors of :func:`stance.modeling.collate`)."""

    name: str = ""

    @abstractmethod
    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
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

    def _inference_network(self) -> StanceNetwork:
        import torch

        if not self.bf16 or next(self.network.parameters()).dtype == torch.bfloat16:
            return self.network
        if self.network.training:  # mid-training evaluation: autocast on the live weights
            return self.network
        key = tuple((id(p), p._version) for p in self.network.parameters())
        if self._copy is None or key != self._copy_key:
            import copy

            self._copy = copy.deepcopy(self.network).to(torch.bfloat16).eval()
            self._copy_key = key
        return self._copy

    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        network = self._inference_network()
        batch = {k: v.to(self.device) for k, v in batch.items()}
        autocast = (
            torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
            if self.bf16 and next(network.parameters()).dtype != torch.bfloat16  # live fp32 weights (training)
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            output = network(**batch)
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
        import torch

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.name = "onnx-int8" if quantized else "onnx"
        self.path = Path(path)

    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        feeds = {k: batch[k].numpy() for k in ONNX_INPUTS}
        n_targets = feeds["target_markers"].shape[1]
        if n_targets == 0:  # the graph always has one target slot at least
            feeds["target_markers"] = np.full((feeds["input_ids"].shape[0], 1, 2), -1, dtype=np.int64)
        stance_probs, device_probs = self.session.run(None, feeds)
        return stance_probs[:, :n_targets], device_probs


# ----------------------------------------------------------------------------- export


def export_onnx(network: StanceNetwork, directory: str | Path, *, quantize: bool = True) -> Path:
    """Export ``network`` to ``directory/model.onnx`` (fp32) and, with ``quantize``, to
    ``model.int8.onnx`` (int8 dynamic quantisation of the weights); returns the file to load.

    Example:
        >>> export_onnx(StanceModel.from_pretrained("default").network, "/tmp/onnx")  # doctest: +SKIP
        PosixPath('/tmp/onnx/model.int8.onnx')
    """
    import copy

    import torch

    class ProbabilityGraph(torch.nn.Module):  # the network with its softmaxes: ids, mask, markers -> probabilities
        def __init__(self, network: StanceNetwork) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask, target_markers):
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, target_markers=target_markers)
            return out.stance_logits.softmax(-1), out.device_logits.softmax(-1)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fp32 = directory / "model.onnx"
    if not fp32.exists():
        graph = ProbabilityGraph(copy.deepcopy(network).float().eval())
        ids = torch.full((2, 8), 1000, dtype=torch.long)
        example = (ids, torch.ones_like(ids), torch.tensor([[[1, 3]], [[2, 5]]]))
        tmp = directory / f"model.onnx.tmp{os.getpid()}"
        with warnings_silenced():
            torch.onnx.export(
                graph,
                example,
                str(tmp),
                input_names=list(ONNX_INPUTS),
                output_names=["stance_probs", "device_probs"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "target_markers": {0: "batch", 1: "targets"},
                    "stance_probs": {0: "batch", 1: "targets"},
                    "device_probs": {0: "batch", 1: "tokens"},
                },
                opset_version=17,
                dynamo=False,
            )
        tmp.rename(fp32)
    if not quantize:
        return fp32
    int8 = directory / "model.int8.onnx"
    if not int8.exists():
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = directory / f"model.int8.onnx.tmp{os.getpid()}"
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        tmp.rename(int8)
    return int8


@contextlib.contextmanager
def warnings_silenced():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def onnx_dir(model_dir: str | Path | None, version: str | None) -> Path:
    """Where the ONNX export of a model is cached: ``<model>/onnx`` if writable, else the user cache."""
    if model_dir and Path(model_dir).is_dir():
        beside = Path(model_dir) / "onnx"
        if os.access(beside if beside.exists() else model_dir, os.W_OK):
            return beside
    cache = Path(os.environ.get("STANCE_CACHE", Path.home() / ".cache" / "stance"))
    return cache / "onnx" / (version or "unversioned")


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- choice


def make_backend(model: StanceModel, name: str = "torch") -> InferenceBackend:
    """The backend called ``name`` (one of :data:`BACKENDS`) for ``model``.

    Example:
        >>> make_backend(model, "onnx-int8").name  # doctest: +SKIP
        'onnx-int8'
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        name = choose_backend(model)
    if name == "torch":
        return TorchBackend(model.network, model.device, model.bf16)
    if not onnx_available():
        raise ValueError(f"backend {name!r} needs ONNX Runtime: pip install 'stance[onnx]'")
    if model.device.type != "cpu":
        raise ValueError(f"backend {name!r} runs on the CPU only (device is {model.device})")
    path = export_onnx(model.network, onnx_dir(model.path, model.version), quantize=name == "onnx-int8")
    return OnnxBackend(path, quantized=name == "onnx-int8")


def choose_backend(model: StanceModel) -> str:
    """``onnx-int8`` where its labels are recorded to agree and it is faster here; else ``torch``."""
    import torch

    if model.device.type != "cpu" or not onnx_available() or not model.path:
        return "torch"
    if not agreement_recorded(model.path):
        return "torch"
    threads = torch.get_num_threads()
    cached = onnx_dir(model.path, model.version) / f"auto-{_machine_key()}-{threads}threads.json"
    if cached.exists():
        return json.loads(cached.read_text())["chosen"]
    timings = {name: _time_backend(make_backend(model, name), model) for name in ("torch", "onnx-int8")}
    chosen = "onnx-int8" if timings["onnx-int8"] < 0.9 * timings["torch"] else "torch"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"chosen": chosen, "seconds": timings, "threads": threads}, indent=2))
    return chosen


def agreement_recorded(model_dir: str | Path | None) -> bool:
    """Whether the model directory's ``backends.json`` records that ``onnx-int8`` agrees with torch."""
    record = Path(model_dir) / "backends.json" if model_dir else None
    if record is None or not record.exists():
        return False
    return bool(json.loads(record.read_text()).get("onnx-int8", {}).get("agrees"))


_CALIBRATION = (
    "The minister said on Tuesday that the talks in Geneva had failed.",
    "Critics of the so-called reform, widely believed to favour large donors, called it a betrayal of voters.",
    "NATO and the European Union agreed to extend sanctions.",
    "In an apparent dig at Washington, the spokesman described the plan as reckless and said Beijing would respond "
    "with measures of its own if the tariffs went ahead as announced last month.",
)


def _time_backend(backend: InferenceBackend, model: StanceModel, repeats: int = 3) -> float:
    """Median seconds for a fixed calibration workload (256 sentences of varied length)."""
    from stance.encoding import encode_batch
    from stance.modeling import collate

    texts = [_CALIBRATION[i % len(_CALIBRATION)] for i in range(256)]
    encoded = encode_batch(model.tokenizer, texts, [[(0, 3)]] * len(texts), max_length=model.config.max_seq_length)
    batches = [collate(encoded[i : i + 64], pad_id=model.tokenizer.pad_token_id) for i in range(0, len(encoded), 64)]
    backend(batches[0])  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for batch in batches:
            backend(batch)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


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
