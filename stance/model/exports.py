"""Exported graphs of a stance network and where they are kept: ONNX (fp32, int8) and OpenVINO IR, each made once
per version of the model (the hash of its config and weights) and cached beside it, so that a model saved again
into the same directory never runs the graph of its old weights. :mod:`stance.model.backends` runs them.

Example:
    >>> export_dir(None, "abc123", "openvino").parts[-2:]
    ('openvino', 'abc123')
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from stance.resources import cache_dir

if TYPE_CHECKING:
    import torch

    from stance.model.modeling import StanceModel
    from stance.model.network import StanceNetwork

# the graphs' inputs, in order (the batch keys every backend reads)
GRAPH_INPUTS = ("input_ids", "attention_mask", "target_markers")


def export_onnx(network: StanceNetwork, directory: str | Path, *, quantize: bool = True) -> Path:
    """Export ``network`` to ``directory/model.onnx`` (fp32) and, with ``quantize``, to
    ``model.int8.onnx`` (int8 dynamic quantisation of the weights); returns the file to load.

    Example:
        >>> export_onnx(StanceModel.from_pretrained("default").network, "/tmp/onnx")  # doctest: +SKIP
        PosixPath('/tmp/onnx/model.int8.onnx')
    """
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fp32 = directory / "model.onnx"
    if not fp32.exists():
        tmp = directory / f"model.onnx.tmp{os.getpid()}"
        with warnings_silenced():
            torch.onnx.export(
                _probability_graph(network),
                _example_inputs(),
                str(tmp),
                input_names=list(GRAPH_INPUTS),
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
        quantize_dynamic(
            str(fp32), str(tmp), weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}
        )
        tmp.rename(int8)
    return int8


def export_openvino(network: StanceNetwork, directory: str | Path) -> Path:
    """Convert ``network`` to OpenVINO IR in ``directory`` (``model.xml`` + ``model.bin``, fp32
    weights) unless it is there already; returns the ``.xml`` to load.

    Example:
        >>> export_openvino(StanceModel.from_pretrained("default").network, "/tmp/ov")  # doctest: +SKIP
        PosixPath('/tmp/ov/model.xml')
    """
    import openvino as ov
    import torch

    directory = Path(directory)
    xml = directory / "model.xml"
    if xml.exists():
        return xml
    directory.mkdir(parents=True, exist_ok=True)
    shapes = {"input_ids": [-1, -1], "attention_mask": [-1, -1], "target_markers": [-1, -1, 2]}
    with warnings_silenced(), torch.no_grad():
        graph = ov.convert_model(
            _probability_graph(network),
            example_input=_example_inputs(),
            input=[(name, shapes[name], ov.Type.i64) for name in GRAPH_INPUTS],
        )
    tmp = directory / f"model.tmp{os.getpid()}.xml"
    ov.save_model(graph, str(tmp), compress_to_fp16=False)
    tmp.with_suffix(".bin").rename(directory / "model.bin")  # the .xml last: its presence means done
    tmp.rename(xml)
    return xml


def _probability_graph(network: StanceNetwork) -> torch.nn.Module:
    """An fp32 copy of ``network`` with its softmaxes: (ids, mask, markers) -> (stance, device) probabilities."""
    import copy

    import torch

    class ProbabilityGraph(torch.nn.Module):
        def __init__(self, network: StanceNetwork) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask, target_markers):
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, target_markers=target_markers)
            return out.stance_logits.softmax(-1), out.device_logits.softmax(-1)

    return ProbabilityGraph(copy.deepcopy(network).float().eval())


def _example_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch

    ids = torch.full((2, 8), 1000, dtype=torch.long)
    return ids, torch.ones_like(ids), torch.tensor([[[1, 3]], [[2, 5]]])


@contextlib.contextmanager
def warnings_silenced():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def export_dir(model_dir: str | Path | None, version: str | None, kind: str = "onnx") -> Path:
    """Where a model's ``kind`` export (``onnx``, ``openvino``; ``backends``: ``auto``'s timings) is
    cached, by the model's version (the hash of its config and weights,
    :func:`~stance.store.model_files.model_version`): ``<model>/<kind>/<version>`` if the model directory
    is writable, else ``$STANCE_CACHE/<kind>/<version>`` (``~/.cache/stance`` by default). New weights
    saved into the same directory are a new version: no graph of the old ones is ever run for them.

    Example:
        >>> export_dir(None, "abc123", "openvino").parts[-2:]
        ('openvino', 'abc123')
    """
    if not version:
        raise ValueError(f"a {kind} export is cached by the model's version: save the model and load it from its directory")
    if model_dir and Path(model_dir).is_dir():
        beside = Path(model_dir) / kind
        if os.access(beside if beside.exists() else model_dir, os.W_OK):
            return beside / version
    return cache_dir(kind) / version


def cached_export(model: StanceModel, kind: str, name: str, export: Callable[[Path], Path]) -> Path:
    """``model``'s ``kind`` graph file ``name`` in its :func:`export_dir`, made by ``export(directory)``
    (which loads the PyTorch network) only where this version of the model has none yet; a new version
    drops what older ones left beside the model (:func:`drop_other_versions`).

    Example:
        >>> cached_export(model, "openvino", "model.xml", lambda d: export_openvino(model.network, d))  # doctest: +SKIP
        PosixPath('/models/mine/openvino/2dbebcc1226d/model.xml')
    """
    directory = export_dir(model.path, model.version, kind)
    graph = directory / name
    if graph.exists():
        return graph
    graph = export(directory)
    drop_other_versions(model.path, directory)
    return graph


def drop_other_versions(model_dir: str | Path | None, directory: Path) -> None:
    """Remove, beside the model, what ``directory``'s kind holds for other versions of the model (and
    files from before exports were kept by version); the shared cache is left alone.

    Example:
        >>> drop_other_versions("/models/mine", Path("/models/mine/openvino/2dbebcc1226d"))  # doctest: +SKIP
    """
    import shutil

    if not model_dir or directory.parent != Path(model_dir) / directory.parent.name:
        return
    for entry in directory.parent.iterdir():
        if entry.name != directory.name:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
