import json

import numpy as np
import pytest

from stance.model.modeling import SentencePrediction, StanceModel

TEXT = "Critics say the so-called reform by Moscow failed, Putin said."


def test_single_string_gives_single_result(tiny_model):
    pred = tiny_model.predict(TEXT, targets=[(36, 42), (51, 56)])
    assert isinstance(pred, SentencePrediction)
    assert [t.text for t in pred.targets] == ["Moscow", "Putin"]
    for t in pred.targets:
        assert t.stance in ("negative", "neutral", "positive")
        assert abs(sum(t.probs.values()) - 1) < 1e-4
    for d in pred.devices:
        assert TEXT[d.start : d.end] == d.text
        assert d.label != "propaganda_span"  # internal labels are not reported


def test_batch_matches_single(tiny_model):
    texts = [TEXT, "Beijing hailed the deal.", TEXT + " " + TEXT]
    targets = [[(36, 42)], [(0, 7)], [(36, 42)]]
    batch = tiny_model.predict(texts, targets=targets, batch_size=2)
    for text, tg, b in zip(texts, targets, batch):
        single = tiny_model.predict(text, targets=tg)
        assert np.allclose(list(single.targets[0].probs.values()), list(b.targets[0].probs.values()), atol=1e-5)


def test_non_string_input_is_a_value_error(tiny_model):
    with pytest.raises(ValueError, match="strings"):
        tiny_model.predict([TEXT, 3])


def test_save_and_reload_predicts_the_same(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["stance_labels"] == ["negative", "neutral", "positive"]
    assert "scare_quotes" in config["device_labels"]
    again = StanceModel.from_pretrained(tmp_path / "m", bf16=False)
    a = tiny_model.predict(TEXT, targets=[(36, 42)]).targets[0].probs
    b = again.predict(TEXT, targets=[(36, 42)]).targets[0].probs
    # weights are stored in bf16, so allow bf16 rounding
    assert all(abs(a[k] - b[k]) < 0.02 for k in a)
    assert again.device_labels == tiny_model.device_labels


def test_unknown_model_name_is_clear(tmp_path):
    with pytest.raises((OSError, ValueError)):
        StanceModel.from_pretrained(tmp_path / "nothing-here")


def test_inference_batches_are_padded_to_a_few_shapes(tiny_model):
    """Rows and width are rounded up to multiples of 8 (bounded oneDNN primitive cache); the
    padding changes no result."""
    from stance.model.encoding import collate, encode_batch

    texts = [
        "Moscow slammed the so-called reform.",
        "Berlin hailed it.",
        "A much longer sentence about NATO and the EU in Brussels.",
    ]
    enc = encode_batch(tiny_model.tokenizer, texts, [[(0, 6)], [(0, 6)], [(36, 40)]], max_length=64)
    plain = collate(enc, pad_id=0)
    padded = collate(enc, pad_id=0, multiple_of=8)
    assert padded["input_ids"].shape[0] == 8 and padded["input_ids"].shape[1] % 8 == 0
    assert plain["input_ids"].shape[1] % 8 != 0 or plain["input_ids"].shape[0] != 8
    assert (padded["attention_mask"][3:, 0] == 1).all() and (padded["attention_mask"][3:, 1:] == 0).all()
    a, b = tiny_model.backend(plain), tiny_model.backend(padded)
    assert np.allclose(a[0], b[0][:3], atol=1e-5)
    for i, e in enumerate(enc):
        assert np.allclose(a[1][i, : len(e.input_ids)], b[1][i, : len(e.input_ids)], atol=1e-5)
    with pytest.raises(ValueError, match="multiple_of"):
        collate(enc, pad_id=0, labels=[{}] * 3, multiple_of=8)


def test_evaluate_reports_only_the_measures_the_data_supports(tiny_model):
    from stance.labels.format import LabelRecord
    from training.evaluate import evaluate_model

    records = [
        LabelRecord.from_dict(
            {
                "text": "Critics say Moscow failed.",
                "targets": [{"start": 12, "end": 18, "stance": "negative"}],
                "devices": [{"start": 0, "end": 11, "label": "unsourced_claim"}],
            }
        ),
    ]
    result = evaluate_model(tiny_model, {"mine": records})
    assert "span_identification" not in result["datasets"]["mine"]
    assert not any("si_f1" in k for k in result["headline"])
    assert "mine/stance_macro_f1" in result["headline"]


def test_card_names_the_members_of_a_soup(tiny_model, tmp_path):
    import json

    from stance.store.card import write_card

    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")
    members = ["old/model.safetensors", "new/model/model.safetensors"]
    (tmp_path / "m" / "evaluation.json").write_text(json.dumps({"headline": {"score": 0.5}, "soup_of": members}))
    card = write_card(tmp_path / "m").read_text()
    assert "A model soup: the weights of 2 trained models averaged" in card and "new/model/model.safetensors" in card


def test_card_names_the_teacher_and_its_dev_figures(tiny_model, tmp_path):
    """The teacher's base and dev figures come from the metrics.json beside its cached probabilities
    (training.train.teacher_summary); without one the card says they were not recorded."""
    import json

    from stance.store.card import write_card
    from training.train import teacher_summary

    cache = tmp_path / "teacher" / "probs.jsonl.gz"
    cache.parent.mkdir()
    tiny_model.save_pretrained(tmp_path / "m", card="# card\n")

    def card_with(teacher):
        evaluation = {"headline": {"score": 0.5}, "distilled_from": str(cache), "teacher": teacher}
        (tmp_path / "m" / "evaluation.json").write_text(json.dumps(evaluation))
        return write_card(tmp_path / "m").read_text()

    assert "teacher dev figures not recorded" in card_with(teacher_summary(str(cache)))
    headline = {"newsmtsc:dev_rw/stance_macro_f1": 0.866, "score": 0.865}
    (cache.parent / "metrics.json").write_text(json.dumps({"base_model": "mpnet", "headline": headline}))
    card = card_with(teacher_summary(str(cache)))
    assert "all-mpnet-base-v2" in card and "teacher dev newsmtsc:dev_rw/stance_macro_f1 0.866" in card


# ----------------------------------------------------------------------------- loading a folder that is no stance model


def _broken(tmp_path, tiny_model_dir, tiny_base, case: str):
    """A copy of the tiny model (or of the tiny base encoder) with one thing wrong."""
    import shutil

    path = tmp_path / case
    shutil.copytree(tiny_base if case == "base-encoder" else tiny_model_dir, path)
    if case == "no-config":
        (path / "config.json").unlink()
    elif case == "no-weights":
        (path / "model.safetensors").unlink()
    elif case == "corrupt-weights":
        (path / "model.safetensors").write_bytes(b"garbage" * 100)
    elif case == "no-tokenizer":
        for file in path.glob("tokenizer*"):
            file.unlink()
    elif case == "not-json":
        (path / "config.json").write_text("{")
    elif case == "bad-tokenizer":
        (path / "tokenizer.json").write_text("{not json")
    elif case in ("more-device-labels", "more-layers"):  # a config that is not the weights'
        config = json.loads((path / "config.json").read_text())
        if case == "more-device-labels":
            config["device_labels"] = [*config["device_labels"], "extra_device"]
        else:
            config["encoder"]["num_hidden_layers"] += 1
        (path / "config.json").write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("no-config", "config.json"),
        ("base-encoder", "config.json"),
        ("not-json", "config.json"),
        ("no-weights", "model.safetensors"),
        ("corrupt-weights", "model.safetensors"),
        ("no-tokenizer", "tokenizer.json"),
        ("bad-tokenizer", "tokenizer.json: not a readable tokenizer"),
        ("more-device-labels", r"device_head.weight is \[\d+, \d+\], the config asks"),
        ("more-layers", "encoder layers, the config asks"),
    ],
)
@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_a_folder_that_is_no_stance_model_is_a_value_error_naming_the_file(
    tmp_path, tiny_model_dir, tiny_base, case, named, backend, monkeypatch
):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    path = _broken(tmp_path, tiny_model_dir, tiny_base, case)
    with pytest.raises(ValueError, match=named):
        StanceModel.from_pretrained(path, backend=backend).predict("Moscow rejected the plan.", [(0, 6)])


@pytest.mark.parametrize("case", ["bad-tokenizer", "more-device-labels"])
def test_stance_score_refuses_a_model_that_cannot_load_before_writing_anything(tmp_path, tiny_model_dir, tiny_base, case):
    from typer.testing import CliRunner

    from stance.cli.main import app

    path = _broken(tmp_path, tiny_model_dir, tiny_base, case)
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "a", "text": "Moscow rejected the plan."}) + "\n")
    out = tmp_path / "out" / "scores.jsonl"
    result = CliRunner().invoke(app, ["score", str(articles), "--model", str(path), "--out", str(out), "--no-ner"])
    assert result.exit_code == 2 and str(path.name) in result.output, result.output
    assert not out.exists() and not out.with_name("scores.jsonl.parts").exists(), "nothing written for a model that cannot load"


# ----------------------------------------------------------------------------- predict's input checks

SHORT = "Moscow rejected the plan."  # 25 characters


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ((100, 120), "out of range"),
        ((6, 0), "empty or reversed"),
        ((-6, -1), "out of range"),
        ((3, 3), "empty or reversed"),
        ((0.5, 6.7), "must be integers"),
        (("0", "6"), "must be integers"),
        ((True, 6), "must be integers"),
        ((0, 6, 7), r"a target is a \(start, end\) pair"),
    ],
)
def test_predict_refuses_an_impossible_target_with_the_label_formats_check(tiny_model, target, message):
    with pytest.raises(ValueError, match=r"targets\[0\]: .*" + message):
        tiny_model.predict(SHORT, [target])
    with pytest.raises(ValueError, match=r"texts\[1\]: targets\[0\]: .*" + message):
        tiny_model.predict([SHORT, SHORT], [[(0, 6)], [target]])


def test_predict_refuses_what_is_no_text_with_a_value_error(tiny_model):
    for texts in (None, 5, b"Moscow rejected", bytearray(b"ab")):
        with pytest.raises(ValueError, match="texts must be"):
            tiny_model.predict(texts)
    with pytest.raises(ValueError, match="one list of"):
        tiny_model.predict([SHORT, SHORT], [[(0, 6)]])
    with pytest.raises(ValueError, match="pair"):
        tiny_model.predict(SHORT, (0, 6))  # one pair, not a list of them
    assert tiny_model.predict(SHORT, [(0, 6), (0, 15)]).targets[1].text == "Moscow rejected"  # overlapping: fine
    assert [p.text for p in tiny_model.predict(t for t in (SHORT, "Berlin agreed."))] == [SHORT, "Berlin agreed."]


def test_scorer_refuses_what_is_no_article_with_a_value_error(tiny_model):
    from stance.pipeline.actor_registry import ActorRegistry
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import StanceScorer

    scorer = StanceScorer(tiny_model, ActorFinder(ActorRegistry.load(), use_ner=False))
    for articles in (None, 5, b"ab", bytearray(b"ab")):
        with pytest.raises(ValueError, match="articles must be"):
            scorer.score(articles)


# ----------------------------------------------------------------------------- model names: ~, hub ids in the cache


def test_a_model_name_with_a_tilde_is_a_path_in_the_home_directory(tmp_path, tiny_model_dir, monkeypatch):
    import shutil

    from stance.run.options import ScoreOptions, pin_model
    from stance.store.model_files import resolve_model

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never tried as a hub id
    shutil.copytree(tiny_model_dir, tmp_path / "m")
    assert resolve_model("~/m") == str(tmp_path / "m")
    assert StanceModel.from_pretrained("~/m", backend="torch").path == str(tmp_path / "m")
    assert pin_model(ScoreOptions(model="~/m")).model == str((tmp_path / "m").resolve())


def _hub_cache(root, repo: str, model_dir) -> str:
    """``model_dir`` as the Hugging Face cache keeps a downloaded snapshot of ``repo`` (commit ``abc123``)."""
    import shutil

    folder = root / ("models--" + repo.replace("/", "--"))
    shutil.copytree(model_dir, folder / "snapshots" / "abc123")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("abc123")
    return str(folder / "snapshots" / "abc123")


def test_a_hub_model_in_the_hub_cache_loads_offline_and_is_versioned_by_its_weights(tmp_path, tiny_model_dir, monkeypatch):
    """HF_HUB_OFFLINE: huggingface_hub's cache decides (no refusal before looking, no socket of our own); the
    snapshot is a model directory like any other, so its exported graphs are cached by its version."""
    import socket

    from huggingface_hub import constants

    from stance.model.exports import export_dir

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))

    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    snapshot = _hub_cache(tmp_path / "hub", "someone/tiny-stance", tiny_model_dir)
    model = StanceModel.from_pretrained("someone/tiny-stance", backend="torch")
    assert model.path == snapshot and model.version and model.name == "someone/tiny-stance"
    assert export_dir(model.path, model.version, "openvino").name == model.version
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE is set"):
        StanceModel.from_pretrained("someone/not-cached")
