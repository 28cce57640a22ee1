"""Inference backends: torch (bf16 copy / fp32), OpenVINO, ONNX Runtime (fp32 / int8), and the auto choice."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from stance.model.backends import (
    TorchBackend,
    auto_candidates,
    auto_choice_file,
    choose_backend,
    make_backend,
)
from stance.model.encoding import collate, encode_batch
from stance.model.exports import export_dir
from stance.model.modeling import StanceModel

TEXTS = ["Moscow slammed the so-called reform.", "Nothing here at all.", "The EU and NATO met in Brussels on Monday to talk."]
TARGETS = [[(0, 6)], [], [(4, 6), (11, 15)]]
# A verdict as `bench/backends.py --record` writes it: stance and devices both measured against torch.
AGREES = {"agrees": True, "max_stance_macro_f1_drop": 0.0, "max_device_partial_f1_drop": 0.0}


def _batch(model: StanceModel):
    return collate(encode_batch(model.tokenizer, TEXTS, TARGETS, max_length=64), pad_id=model.tokenizer.pad_token_id)


def _mask(batch):
    return np.asarray(batch["attention_mask"]).astype(bool)


def test_torch_bf16_copy_is_close_to_fp32_and_follows_weight_updates(tiny_model):
    batch = _batch(tiny_model)
    fp32 = TorchBackend(tiny_model.network, torch.device("cpu"), bf16=False)
    bf16 = TorchBackend(tiny_model.network, torch.device("cpu"), bf16=True)
    assert (fp32.name, bf16.name) == ("torch-fp32", "torch-bf16")
    (s32, d32), (s16, d16) = fp32(batch), bf16(batch)
    assert s16.shape == s32.shape == (3, 2, 3) and d16.shape == d32.shape
    assert np.abs(s16 - s32).max() < 0.05 and np.abs(d16 - d32)[_mask(batch)].max() < 0.05
    assert next(tiny_model.network.parameters()).dtype == torch.float32  # the live network is untouched
    # an in-place update (what an optimiser step does) must reach the bf16 copy
    head = tiny_model.network.stance_head[-1]
    saved = head.bias.detach().clone()
    try:
        with torch.no_grad():
            head.bias.add_(torch.tensor([10.0, 0.0, 0.0]))
        s_after, _ = bf16(batch)
        assert (s_after[0, 0].argmax(), s_after[2, 1].argmax()) == (0, 0)
    finally:
        with torch.no_grad():
            head.bias.copy_(saved)
    assert np.abs(bf16(batch)[0] - s16).max() < 1e-6


def test_onnx_backends_match_torch(tiny_model_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model = StanceModel.from_pretrained(tiny_model_dir, bf16=False)
    batch = _batch(model)
    s_ref, d_ref = model.backend(batch)
    onnx = make_backend(model, "onnx")
    assert onnx.name == "onnx" and onnx.path.parent == export_dir(model.path, model.version, "onnx")
    s, d = onnx(batch)
    assert s.shape == s_ref.shape and np.abs(s - s_ref).max() < 1e-4 and np.abs(d - d_ref)[_mask(batch)].max() < 1e-4
    # a batch whose sentences have no targets at all
    empty = collate(encode_batch(model.tokenizer, ["No one here."], [[]], max_length=64), pad_id=model.tokenizer.pad_token_id)
    s0, d0 = onnx(empty)
    assert s0.shape == (1, 0, 3) and np.allclose(d0, model.backend(empty)[1], atol=1e-4)
    int8 = make_backend(model, "onnx-int8")
    s8, d8 = int8(batch)
    assert int8.path.name == "model.int8.onnx" and s8.shape == s_ref.shape
    assert np.abs(s8 - s_ref).max() < 0.1  # quantisation moves probabilities a little, not a lot


def test_openvino_matches_torch_in_fp32_and_bf16(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model = StanceModel.from_pretrained(tiny_model_dir, bf16=False)
    batch = _batch(model)
    s_ref, d_ref = model.backend(batch)
    ov32 = make_backend(model, "openvino")
    assert ov32.name == "openvino-fp32" and ov32.path == export_dir(model.path, model.version, "openvino") / "model.xml"
    # threads not pinned to cores: two worker processes would otherwise share one core
    assert ov32._request.get_compiled_model().get_property("ENABLE_CPU_PINNING") is False
    s, d = ov32(batch)
    assert s.shape == s_ref.shape and np.abs(s - s_ref).max() < 1e-4 and np.abs(d - d_ref)[_mask(batch)].max() < 1e-4
    empty = collate(encode_batch(model.tokenizer, ["No one here."], [[]], max_length=64), pad_id=model.tokenizer.pad_token_id)
    s0, d0 = ov32(empty)
    assert s0.shape == (1, 0, 3) and np.allclose(d0, model.backend(empty)[1], atol=1e-4)
    # a second backend reuses the converted graph; bf16 stays close to fp32
    mtime = ov32.path.stat().st_mtime_ns
    bf16_model = StanceModel.from_pretrained(tiny_model_dir, bf16=True)
    ov16 = make_backend(bf16_model, "openvino")
    assert ov16.name == "openvino-bf16" and ov16.path.stat().st_mtime_ns == mtime
    s16, d16 = ov16(batch)
    assert np.abs(s16 - s_ref).max() < 0.05 and np.abs(d16 - d_ref)[_mask(batch)].max() < 0.05


def test_a_layer_mix_device_head_exports_to_openvino(tokenizer, tmp_path, monkeypatch):
    from tests.conftest import tiny_stance_model

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    mixed = tiny_stance_model(tokenizer, device_head_layers=2, device_head_hidden=8)
    with torch.no_grad():
        mixed.network.device_layer_weights.copy_(torch.tensor([2.0, -1.0]))  # a mix, not the last layer alone
    mixed.save_pretrained(tmp_path / "mixed", dtype=torch.float32)
    model = StanceModel.from_pretrained(tmp_path / "mixed", bf16=False)
    assert model.network.device_hidden is not None and model.config.device_head_layers == 2
    assert torch.equal(model.network.device_layer_weights.detach().float(), torch.tensor([2.0, -1.0])), "saved and read back"
    batch = _batch(model)
    s_ref, d_ref = model.backend(batch)
    s, d = make_backend(model, "openvino")(batch)
    assert np.abs(s - s_ref).max() < 1e-4 and np.abs(d - d_ref)[_mask(batch)].max() < 1e-4


def test_model_predictions_identical_across_backend_names(tiny_model_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    torch_model = StanceModel.from_pretrained(tiny_model_dir, bf16=False, backend="torch")
    onnx_model = StanceModel.from_pretrained(tiny_model_dir, bf16=False, backend="onnx")
    a, b = torch_model.predict(TEXTS, TARGETS), onnx_model.predict(TEXTS, TARGETS)
    assert [[t.stance for t in p.targets] for p in a] == [[t.stance for t in p.targets] for p in b]
    assert onnx_model.backend.name == "onnx"


def test_auto_needs_a_recorded_agreement_then_times_once(tiny_model_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    import shutil

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    model = StanceModel.from_pretrained(model_dir, backend="auto")
    assert choose_backend(model) == "torch"  # no backends.json: no agreement on record
    (model_dir / "backends.json").write_text(json.dumps({"onnx-int8": AGREES, "openvino": {"agrees": False}}))
    chosen = choose_backend(model)
    assert chosen in ("torch", "onnx-int8")
    record = auto_choice_file(model_dir, model.version, torch.get_num_threads())
    timing = json.loads(record.read_text())
    assert timing["chosen"] == chosen and set(timing["seconds"]) == {"torch", "onnx-int8"}  # openvino: no agreement
    timing["chosen"] = "onnx-int8"  # the cached decision is what auto uses from then on
    record.write_text(json.dumps(timing))
    assert choose_backend(model) == "onnx-int8"
    assert StanceModel.from_pretrained(model_dir, backend="auto").backend.name == "onnx-int8"
    # a new agreement on record makes auto time again, among the new candidates
    (model_dir / "backends.json").write_text(json.dumps({"onnx-int8": AGREES, "openvino": AGREES}))
    assert choose_backend(model) in ("torch", "onnx-int8", "openvino")
    assert set(json.loads(record.read_text())["seconds"]) == {"torch", "onnx-int8", "openvino"}


def test_unknown_backend_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        StanceModel.from_pretrained(tiny_model_dir, backend="tensorrt")


def test_evaluate_command_with_a_backend(tiny_model_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from typer.testing import CliRunner

    from stance.cli.main import app

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "dev.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "text": text, "targets": [{"start": 0, "end": 6, "stance": stance}]}) + "\n"
            for i, (text, stance) in enumerate(
                [("Moscow slammed it.", "negative"), ("Berlin hailed it.", "positive"), ("London noted it.", "neutral")]
            )
        )
    )
    metrics = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / f"{backend}.json"
        r = CliRunner().invoke(
            app, ["evaluate", str(tiny_model_dir), "--data", str(data), "--backend", backend, "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        metrics[backend] = json.loads(out.read_text())["datasets"][str(data)]["stance"]
    # (labels themselves are compared against fp32 torch above; a random tiny model's near-ties may differ in bf16)
    assert metrics["torch"]["n"] == metrics["onnx"]["n"] == 3
    assert sum(map(sum, metrics["onnx"]["confusion"]["matrix"])) == 3
    r = CliRunner().invoke(app, ["evaluate", str(tiny_model_dir), "--data", str(data), "--backend", "tensorrt"])
    assert r.exit_code == 2 and "unknown backend 'tensorrt'" in r.output


def test_models_prepare_converts_and_caches_the_auto_choice(tiny_model_dir, tmp_path, monkeypatch):
    """`stance models prepare` (run by setup.sh) leaves a cached choice for worker runs and single-process runs."""
    import shutil

    from typer.testing import CliRunner

    from stance.cli.main import app
    from stance.run.local import worker_threads

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    (model_dir / "backends.json").write_text(json.dumps({"openvino": AGREES}))
    result = CliRunner().invoke(app, ["models", "prepare", str(model_dir), "--workers", "2"])
    assert result.exit_code == 0, result.output
    version = StanceModel.from_pretrained(model_dir).version
    for threads in {worker_threads(2), worker_threads(1)}:
        record = json.loads(auto_choice_file(model_dir, version, threads).read_text())
        assert (
            record["chosen"] in ("torch", "openvino") and f"runs {record['chosen']} here with {threads} thread" in result.output
        )
    assert (export_dir(model_dir, version, "openvino") / "model.xml").exists()
    bad = CliRunner().invoke(app, ["models", "prepare", str(tmp_path / "missing")])
    assert bad.exit_code == 2


def test_models_prepare_converts_a_model_without_backends_json_and_reports_a_broken_one(tiny_model_dir, tmp_path, monkeypatch):
    """What `train` and `retrain` write has no backends.json: prepare still makes the OpenVINO graph (README),
    says why auto runs torch, and loads the model, so that a folder that is no stance model fails."""
    import shutil

    from typer.testing import CliRunner

    from stance.cli.main import app

    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    result = CliRunner().invoke(app, ["models", "prepare", str(model_dir), "--workers", "1"])
    assert result.exit_code == 0, result.output
    graph = export_dir(model_dir, StanceModel.from_pretrained(model_dir).version, "openvino") / "model.xml"
    assert graph.exists() and "backends.json records no backend" in result.output and "runs torch" in result.output
    (model_dir / "model.safetensors").write_bytes(b"garbage" * 100)
    broken = CliRunner().invoke(app, ["models", "prepare", str(model_dir), "--workers", "1"])
    assert broken.exit_code == 2 and "model.safetensors" in broken.output, broken.output


@pytest.mark.parametrize("backend", ["openvino", "onnx"])
def test_a_model_saved_again_into_its_directory_never_runs_the_old_graph(tokenizer, tiny_model_dir, tmp_path, backend):
    """`stance train` twice into one output directory: the exported graph follows the new weights (a graph is
    cached by the model's version), and the old version's graph is dropped."""
    import shutil

    from tests.conftest import tiny_stance_model

    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    first = StanceModel.from_pretrained(model_dir, backend=backend, bf16=False)
    first.predict(TEXTS, TARGETS)
    old_graph, old_version = first.backend.path, first.version
    retrained = tiny_stance_model(tokenizer, seed=1)
    with torch.no_grad():  # far from the first model's probabilities (a random tiny model's are all near 1/3)
        retrained.network.stance_head[-1].bias.add_(torch.tensor([3.0, 0.0, 0.0]))
    retrained.save_pretrained(model_dir)  # trained again, into the same directory
    again = StanceModel.from_pretrained(model_dir, backend=backend, bf16=False)
    reference = StanceModel.from_pretrained(model_dir, backend="torch", bf16=False)
    assert again.version != old_version
    got, want = again.predict(TEXTS, TARGETS), reference.predict(TEXTS, TARGETS)
    for g, w in zip(got, want):
        for a, b in zip(g.targets, w.targets):
            assert all(abs(a.probs[k] - b.probs[k]) < 1e-3 for k in a.probs), (a.probs, b.probs)
    assert again.backend.path.parent.name == again.version and not old_graph.exists()


def test_auto_trusts_no_choice_or_verdict_recorded_for_other_weights(tokenizer, tiny_model_dir, tmp_path):
    """The cached timing-based choice is kept per model version; a backends.json verdict that names the
    version it was measured on counts for that version only."""
    import shutil

    from stance.model.backends import known_choice
    from tests.conftest import tiny_stance_model

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    old = StanceModel.from_pretrained(model_dir).version
    (model_dir / "backends.json").write_text(json.dumps({"openvino": AGREES}))
    cached = auto_choice_file(model_dir, old, 1)
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps({"chosen": "openvino", "candidates": ["openvino"]}))
    assert known_choice(model_dir, old, 1) == "openvino"
    tiny_stance_model(tokenizer, seed=1).save_pretrained(model_dir)
    new = StanceModel.from_pretrained(model_dir).version
    assert new != old and known_choice(model_dir, new, 1) is None  # a timing is due for the new weights
    (model_dir / "backends.json").write_text(json.dumps({"openvino": {**AGREES, "model_version": old}}))
    assert auto_candidates(model_dir, new) == [] and known_choice(model_dir, new, 1) == "torch"
    (model_dir / "backends.json").write_text(json.dumps({"openvino": {**AGREES, "model_version": new}}))
    assert auto_candidates(model_dir, new) == ["openvino"]


def test_auto_ignores_a_verdict_that_checked_stance_only(tiny_model_dir, tmp_path):
    """backends.json from before devices were checked: its "agrees" is not trusted (int8 can keep the
    stance and change a third of the device spans)."""
    pytest.importorskip("onnxruntime")
    import shutil

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    (model_dir / "backends.json").write_text(json.dumps({"onnx-int8": {"agrees": True, "max_stance_macro_f1_drop": 0.0}}))
    assert auto_candidates(model_dir) == []
    (model_dir / "backends.json").write_text(json.dumps({"onnx-int8": AGREES}))
    assert auto_candidates(model_dir) == ["onnx-int8"]


def test_models_prepare_refuses_negative_workers_and_its_help_names_a_registry_version():
    from typer.testing import CliRunner

    from stance.cli.main import app

    r = CliRunner().invoke(app, ["models", "prepare", "default", "--workers", "-1"])
    assert r.exit_code == 2 and "--workers" in r.output, r.output
    r = CliRunner().invoke(app, ["models", "prepare", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "a registry version id" in r.output, r.output
