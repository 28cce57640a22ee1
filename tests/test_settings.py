"""The scoring settings are written once (stance.run.settings) and every entry point takes its
defaults from there; the backend and splitter names come from their registries."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from stance.model.backends import ACCELERATED, BACKEND_REGISTRY, BACKENDS, BackendEntry, backend_choices, runtime_available
from stance.run.options import ScoreOptions
from stance.run.settings import ACTIVE_MODEL, DEFAULTS, PipelineSettings
from stance.service.settings import ServiceSettings

SHARED = [f.name for f in fields(PipelineSettings)]


def test_the_defaults_are_the_ones_before() -> None:
    assert DEFAULTS == PipelineSettings(
        model="default", actors=(), use_ner=True, party_members="party", device="cpu", backend="auto", batch_size=64
    )
    assert ACTIVE_MODEL == "active"


def test_score_options_and_service_settings_share_them() -> None:
    run, service = ScoreOptions(), ServiceSettings()
    assert {name: getattr(run, name) for name in SHARED} == {name: getattr(DEFAULTS, name) for name in SHARED}
    assert isinstance(service, PipelineSettings)
    assert {name: getattr(service, name) for name in SHARED} == {
        **{name: getattr(DEFAULTS, name) for name in SHARED},
        "model": ACTIVE_MODEL,
    }
    # the service's own fields keep their order after the shared ones (STANCE_* variables, /docs)
    assert [f.name for f in fields(ServiceSettings)][: len(SHARED)] == SHARED


def test_scorer_and_commands_take_their_defaults_from_them() -> None:
    from stance.cli.predict_stance import predict_stance
    from stance.cli.score import score
    from stance.pipeline.scorer import StanceScorer
    from stance.pipeline.sentences import DEFAULT_SPLITTER

    loader = inspect.signature(StanceScorer.from_pretrained).parameters
    assert {name: loader[name].default for name in SHARED} == {name: getattr(DEFAULTS, name) for name in SHARED}
    assert loader["splitter"].default == DEFAULT_SPLITTER
    command = inspect.signature(score).parameters
    assert (command["model"].default, command["batch_size"].default, command["backend"].default) == (ACTIVE_MODEL, 64, "auto")
    assert (command["ner"].default, command["party_members"].default, command["device"].default) == (True, "party", "cpu")
    assert inspect.signature(predict_stance).parameters["batch_size"].default == DEFAULTS.batch_size


@pytest.mark.parametrize("bad", [0, -3, True, "64", 2.5])
def test_a_bad_batch_size_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        PipelineSettings(batch_size=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        ServiceSettings(batch_size=bad)  # type: ignore[arg-type]


def test_backend_names_and_help_come_from_the_registry() -> None:
    assert BACKENDS == ("auto", "torch", "openvino", "onnx", "onnx-int8")
    assert ACCELERATED == ("openvino", "onnx-int8")
    assert backend_choices() == "torch, openvino, onnx, onnx-int8 or auto"
    assert backend_choices(notes=True) == (
        "torch, openvino, onnx, onnx-int8 (pip install 'stance[onnx]') or auto (the fastest backend recorded to agree, where measured faster)"
    )
    assert runtime_available("torch") and runtime_available("auto")
    with pytest.raises(ValueError, match="backend must be one of auto, torch, openvino, onnx, onnx-int8"):
        ServiceSettings(backend="tensorrt")


def test_a_new_backend_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = BackendEntry(
        "tvm", lambda model: None, runtime="tvm_no_such_module", install="stance[tvm]", extra=True, cpu_only=True
    )  # type: ignore[arg-type,return-value]
    monkeypatch.setitem(BACKEND_REGISTRY, "tvm", entry)
    assert backend_choices() == "torch, openvino, onnx, onnx-int8, tvm or auto"
    assert "onnx-int8 (pip install 'stance[onnx]'), tvm (pip install 'stance[tvm]') or auto" in backend_choices(notes=True)
    assert not runtime_available("tvm")


def test_make_backend_names_the_choices_and_the_missing_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    from stance.model.backends import make_backend

    with pytest.raises(ValueError, match="unknown backend 'tensorrt'; choose one of auto, torch, openvino, onnx, onnx-int8"):
        make_backend(object(), "tensorrt")  # type: ignore[arg-type]
    monkeypatch.setitem(
        BACKEND_REGISTRY, "tvm", BackendEntry("tvm", lambda model: None, runtime="tvm_no_such_module", install="stance[tvm]")
    )  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match=r"backend 'tvm' needs tvm_no_such_module: pip install 'stance\[tvm\]'"):
        make_backend(object(), "tvm")  # type: ignore[arg-type]


def test_service_help_generates_the_backend_list() -> None:
    from typer.testing import CliRunner

    from stance.cli.main import app

    out = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200).output
    assert "torch, openvino, onnx, onnx-int8 or auto [default: auto; env STANCE_BACKEND]" in out
    assert "[default: 64; env STANCE_BATCH_SIZE]" in out


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"party_members": "members"}, "party_members must be one of party, separate"),
        ({"backend": "tensorrt"}, "backend must be one of auto, torch"),
        ({"id_from": "row"}, "id_from must be 'field' or 'line'"),
        ({"outlet_from": "folder"}, "outlet_from must be 'parent'"),
        ({"encoding": "utf-9"}, "unknown text encoding"),
        ({"workers": 0}, "workers must be an int of at least 1"),
        ({"shard_articles": 0}, "shard_articles must be"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
    ],
)
def test_score_options_are_checked_when_made(bad, message) -> None:
    """A library caller's `ScoreOptions(party_members="x")` was checked by nothing but the CLI: the error
    came from inside a worker once the model was loaded."""
    with pytest.raises(ValueError, match=message):
        ScoreOptions(**bad)


def test_the_service_and_score_share_one_check() -> None:
    for cls in (PipelineSettings, ServiceSettings, ScoreOptions):
        with pytest.raises(ValueError, match="party_members must be one of party, separate, not 'x'"):
            cls(party_members="x")


def test_a_scorer_is_built_from_the_settings(tiny_model_dir) -> None:
    from stance.pipeline.scorer import StanceScorer

    options = ScoreOptions(model=str(tiny_model_dir), use_ner=False, party_members="separate", batch_size=7, backend="torch")
    scorer = StanceScorer.from_settings(options.pipeline)
    assert (scorer.batch_size, scorer.finder.use_ner, scorer.finder.party_members) == (7, False, "separate")
    assert options.pipeline == PipelineSettings(str(tiny_model_dir), (), False, "separate", "cpu", "torch", 7)
