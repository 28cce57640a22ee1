"""The retraining loop on a tiny model: score -> suggest -> label -> retrain -> gate -> promote -> rollback.

The tiny base model learns a trivially learnable synthetic pattern ("X praised Y" is positive toward
both actors, "X condemned Y" negative, "X met Y" neutral); the new labels teach it verbs it has never
seen ("X applauded Y", "X slammed Y", "X phoned Y"). Correct new labels improve it on held-out new
sentences; shuffled ones cannot, and the gate must reject them.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.cli.main import app
from stance.labels.format import read_label_file
from stance.store.registry import ModelRegistry

ACTORS = ["Russia", "China", "France", "Germany", "Japan", "Brazil", "India", "Canada"]
STANCES = ("negative", "neutral", "positive")
OLD = {"positive": ["praised", "welcomed"], "negative": ["condemned", "attacked"], "neutral": ["met", "visited"]}
NEW = {"positive": ["applauded", "celebrated"], "negative": ["denounced", "slammed"], "neutral": ["called", "phoned"]}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
VERB_STANCE = {v: s for verbs in (OLD, NEW) for s, vs in verbs.items() for v in vs}

RETRAIN_YAML = """
epochs: 6
learning_rate: 3.0e-3
head_learning_rate: 3.0e-3
batch_size: 16
warmup: 0.1
bf16: false
save_dtype: float32
tune_thresholds: false
logging_steps: 10
seed: 7
"""


def sentence(rng: random.Random, verbs: dict[str, list[str]], stance: str) -> tuple[str, list[dict]]:
    a, b = rng.sample(ACTORS, 2)
    text = f"{a} {rng.choice(verbs[stance])} {b} on {rng.choice(DAYS)}."
    start_b = text.index(b, len(a))
    return text, [{"start": 0, "end": len(a), "stance": stance}, {"start": start_b, "end": start_b + len(b), "stance": stance}]


def labelled(verbs, n: int, seed: int, prefix: str, per_doc: int = 4) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text, targets = sentence(rng, verbs, STANCES[i % 3])
        rows.append({"text": text, "targets": targets, "doc_id": f"{prefix}{i // per_doc}"})
    return rows


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rule_stance(text: str) -> str:
    """The annotator: the stance follows from the verb."""
    return next(VERB_STANCE[w] for w in re.findall(r"[a-z]+", text) if w in VERB_STANCE)


@pytest.fixture(scope="module")
def world(tmp_path_factory, tokenizer):
    """A tiny base model trained on the old verbs (its training.json names its data), and a retrain config."""
    import torch
    from transformers import AutoTokenizer, BertModel

    from stance.model.bases import resolve_base
    from tests.conftest import tiny_encoder_config
    from training.config import TrainConfig
    from training.train import train

    root = tmp_path_factory.mktemp("retrain-world")
    base_tok = AutoTokenizer.from_pretrained(resolve_base("minilm"))
    torch.manual_seed(0)  # a fixed tiny encoder, so that the test does not depend on the session's random state
    BertModel(tiny_encoder_config(len(base_tok))).save_pretrained(root / "encoder")
    base_tok.save_pretrained(root / "encoder")
    old_train = write_jsonl(root / "old_train.jsonl", labelled(OLD, 240, 1, "a"))
    old_dev = write_jsonl(root / "old_dev.jsonl", labelled(OLD, 60, 2, "d"))
    result = train(
        TrainConfig.from_dict(
            {
                "base_model": str(root / "encoder"),
                "output_dir": str(root / "base-run"),
                "train": [{"path": str(old_train)}],
                "dev": [{"path": str(old_dev)}],
                "epochs": 10,
                "early_stopping_patience": 100,
                "batch_size": 16,
                "max_seq_length": 32,
                "bf16": False,
                "save_dtype": "float32",
                "learning_rate": 2e-3,
                "head_learning_rate": 2e-3,
                "warmup": 0.1,
                "tune_thresholds": False,
                "seed": 0,
            }
        )
    )
    assert result["headline"]["old_dev/stance_macro_f1"] > 0.9, "the tiny base must learn the old pattern"
    config = root / "retrain.yaml"
    config.write_text(RETRAIN_YAML)
    return {"root": root, "base": root / "base-run" / "model", "config": config}


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def articles(n_docs: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for d in range(n_docs):
        sentences = [sentence(rng, NEW, STANCES[(d + i) % 3])[0] for i in range(5)]
        out.append({"id": f"art{d}", "text": " ".join(sentences), "outlet": "Ledger"})
    return out


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return result


def annotate(tasks: list[dict]) -> list[dict]:
    """What an annotator's Label Studio export looks like: the pre-filled stance regions corrected by the rule."""
    export = []
    for i, task in enumerate(tasks):
        result = []
        for region in task["predictions"][0]["result"]:
            if region["from_name"] != "stance":
                continue
            value = dict(region["value"], labels=[rule_stance(task["data"]["text"])])
            result.append({"id": region["id"], "from_name": "stance", "to_name": "text", "type": "labels", "value": value})
        export.append(
            {
                "id": 100 + i,
                "data": task["data"],
                "annotations": [{"id": i, "was_cancelled": False, "result": result}],
                "predictions": task["predictions"],
            }
        )
    return export


def test_whole_loop_suggest_label_retrain_gate_promote_rollback(world, home, tmp_path):
    base = world["base"]
    # 1. Score unlabelled articles with the base model
    src = write_jsonl(tmp_path / "articles.jsonl", articles(40, seed=5))
    invoke("score", src, "--out", tmp_path / "scores.parquet", "--model", base, "--no-ner", "--workers", "1")
    assert json.loads((tmp_path / "scores.run.json").read_text())["model"]["registry_version"] is None

    # 2. Suggest what to label: Label Studio tasks with predictions, and the labelling config
    invoke(
        "labels",
        "suggest",
        tmp_path / "scores.parquet",
        "--n",
        "150",
        "--out",
        tmp_path / "tolabel.json",
        "--model",
        base,
        "--max-similarity",
        "0.99",
    )
    tasks = json.loads((tmp_path / "tolabel.json").read_text())
    assert 100 <= len(tasks) <= 150
    assert all(t["predictions"][0]["result"] for t in tasks)
    assert '<Labels name="stance"' in (tmp_path / "tolabel.label_config.xml").read_text()
    uncertainty = [t["data"]["uncertainty"] for t in tasks]
    assert uncertainty[0] == max(uncertainty)

    # 3. Label (the test is the annotator), export, import, validate
    (tmp_path / "export.json").write_text(json.dumps(annotate(tasks)))
    invoke(
        "labels", "import", tmp_path / "export.json", "--format", "labelstudio", "--out", tmp_path / "new.jsonl", "--model", base
    )
    invoke("labels", "validate", tmp_path / "new.jsonl", "--model", base)
    good = list(read_label_file(tmp_path / "new.jsonl"))
    assert len(good) == len(tasks) and all(t.stance == rule_stance(r.text) for r in good for t in r.targets)

    # 4. A corrupted copy: the same sentences with shuffled stances
    rng = random.Random(3)
    bad_rows = []
    for r in good:
        row = r.to_dict()
        wrong = rng.choice(STANCES)
        row["targets"] = [dict(t, stance=wrong) for t in row["targets"]]
        bad_rows.append(row)
    bad = write_jsonl(tmp_path / "bad.jsonl", bad_rows)

    common = ["--config", world["config"], "--tolerance", "0.05", "--bootstrap", "300", "--heldout-fraction", "0.3"]
    # 5. The corrupted set is rejected and not promoted
    r = invoke("retrain", "--base", base, "--new", bad, "--output-dir", tmp_path / "rt-bad", "--promote", *common, code=1)
    assert "not promoted" in r.output
    assert "stance_macro_f1" in r.output and "…" not in r.output, "the gate table, piped, is not cut at 80 columns"
    bad_gate = json.loads((tmp_path / "rt-bad" / "gate.json").read_text())
    assert not bad_gate["passed"]
    assert any(row["failed"] and row["kind"] == "new" for row in bad_gate["rows"])
    reg = ModelRegistry()
    assert reg.active() is None and len(reg.versions()) == 1  # registered, inactive

    # 6. The good set passes the gate and is promoted
    invoke("retrain", "--base", base, "--new", tmp_path / "new.jsonl", "--output-dir", tmp_path / "rt-good", "--promote", *common)
    gate = json.loads((tmp_path / "rt-good" / "gate.json").read_text())
    assert gate["passed"], (tmp_path / "rt-good" / "gate.md").read_text()
    rows = {(row["dataset"], row["metric"]): row for row in gate["rows"]}
    new_row = rows[("new:heldout", "stance_macro_f1")]
    assert new_row["new"] > new_row["base"] and new_row["ci_low"] > 0
    assert ("old_dev", "stance_macro_f1") in rows  # the base's fixed evaluation set
    active = reg.active()
    assert active is not None and active.parent == str(base.resolve())
    assert active.info["data_sha256"] and active.info["metrics"] and active.info["gate"]["passed"]
    assert "Retraining" in (active.model_dir / "README.md").read_text()

    # 7. The default model name 'active' now gives the promoted version, and run.json says so
    invoke("score", src, "--out", tmp_path / "scores2.jsonl", "--no-ner", "--workers", "1")
    run = json.loads((tmp_path / "scores2.run.json").read_text())
    assert run["model"]["name"] == "active" and run["model"]["registry_version"] == active.id
    listed = invoke("models", "list").output
    assert active.id in listed
    assert json.loads(invoke("models", "show", active.id).output)["id"] == active.id
    assert "ambiguous" in invoke("models", "show", active.id[:4], code=2).output

    # 8. Use the rejected version by hand, roll back to the good one, then to the shipped default
    rejected = next(v for v in reg.versions() if v.id != active.id)
    assert "--force" in invoke("models", "use", rejected.id, code=2).output  # its gate failed
    assert reg.active().id == active.id
    invoke("models", "use", rejected.id, "--force")
    assert reg.active().id == rejected.id
    invoke("models", "rollback")
    assert reg.active().id == active.id
    invoke("models", "rollback")
    assert reg.active() is None
    invoke("models", "rollback", code=2)
    from stance.resources import MODELS_DIR
    from stance.store.model_files import resolve_model

    assert resolve_model("active") == str(MODELS_DIR / "default")


def test_same_inputs_and_seed_give_the_same_metrics(world, home, tmp_path):
    from training.retrain import RetrainOptions, retrain

    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 90, 11, "n", per_doc=3))
    reports = []
    for run in ("a", "b"):
        options = RetrainOptions(
            new=(str(new),),
            output_dir=str(tmp_path / run),
            base=str(world["base"]),
            config=str(world["config"]),
            bootstrap=200,
            register=False,
        )
        reports.append(retrain(options).gate)
    assert [r.__dict__ for r in reports[0].rows] == [r.__dict__ for r in reports[1].rows]
    assert reports[0].passed, reports[0].table()
    training = json.loads((tmp_path / "a" / "model" / "training.json").read_text())
    assert any(
        s.get("path", "").startswith("training_data/new-heldout") for s in training["dev"]
    )  # the next retrain gates on it too
    more = write_jsonl(tmp_path / "more.jsonl", labelled(NEW, 30, 21, "m", per_doc=3))
    second = retrain(
        RetrainOptions(
            new=(str(more),),
            output_dir=str(tmp_path / "c"),
            base=str(tmp_path / "a" / "model"),
            config=str(world["config"]),
            bootstrap=50,
            register=False,
            require_significant=False,
        )
    )
    fixed = {r.dataset for r in second.gate.rows if r.kind == "fixed"}
    assert "old_dev" in fixed and any(name.startswith("new-heldout-") for name in fixed)
    assert second.counts["replay"] > 0  # replayed from the old data and the first retrain's new labels


def test_new_device_label_grows_the_head(world, home, tmp_path):
    import torch

    from stance.model.modeling import StanceModel
    from training.device_head import grow_device_head
    from training.retrain import RetrainOptions, retrain

    model = StanceModel.from_pretrained(world["base"], bf16=False)
    text = "Russia reportedly praised China on Monday."
    before = model.predict(text, [(0, 6)])
    old_logits = model.network.device_head.weight.detach().clone()
    grow_device_head(model, ("hedge",))
    assert model.config.device_labels[-1] == "hedge" and model.config.device_thresholds["hedge"] == 0.5
    assert torch.equal(model.network.device_head.weight[: old_logits.shape[0]], old_logits)
    after = model.predict(text, [(0, 6)])
    assert after.targets[0].probs == pytest.approx(before.targets[0].probs)
    with pytest.raises(ValueError, match="already"):
        grow_device_head(model, ("hedge",))

    rows = labelled(NEW, 60, 12, "h", per_doc=3)
    for row in rows:
        row["text"] = row["text"].replace(" on ", " reportedly on ")
        row["devices"] = [
            {"start": row["text"].index("reportedly"), "end": row["text"].index("reportedly") + 10, "label": "hedge"}
        ]
        row["device_labels"] = ["hedge"]
    new = write_jsonl(tmp_path / "hedge.jsonl", rows)
    invoke("labels", "validate", new, "--model", world["base"], code=1)  # an unknown label without --add-device
    with pytest.raises(ValueError, match="add-device"):
        retrain(
            RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "x"), base=str(world["base"]), config=str(world["config"]))
        )
    assert not (tmp_path / "x").exists()  # a new user's trial: a refused label file left an empty output folder
    invoke("labels", "validate", new, "--model", world["base"], "--add-device", "hedge")
    result = retrain(
        RetrainOptions(
            new=(str(new),),
            output_dir=str(tmp_path / "h"),
            base=str(world["base"]),
            config=str(world["config"]),
            add_devices=("hedge",),
            bootstrap=100,
            require_significant=False,
        )
    )
    assert result.added_devices == ("hedge",) and result.version is not None
    grown = StanceModel.from_pretrained(result.model_dir, bf16=False)
    assert "hedge" in grown.device_labels
    assert any(r.dataset == "new:heldout" and r.metric == "device_partial_f1" for r in result.gate.rows)


def test_retrain_limits_false_alarms_as_training_does(world, home, tmp_path, monkeypatch):
    """With thresholds re-tuned, ``max_flagged_share`` (configs/retrain.yaml: 0.10, as the shipped model's
    training) raises them on the fixed sets, as `stance train`'s step 6 does; the saved model keeps the result."""
    import training.evaluate
    from stance.model.modeling import StanceModel
    from training.retrain import RetrainOptions, retrain

    calls = []

    def spy(raws, model, thresholds, max_share):
        calls.append((len(raws), max_share))
        return {**thresholds, "loaded_language": 0.95}

    monkeypatch.setattr(training.evaluate, "limit_flagged", spy)
    config = tmp_path / "retrain.yaml"
    config.write_text(RETRAIN_YAML.replace("tune_thresholds: false", "tune_thresholds: true\nmax_flagged_share: 0.05"))
    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 60, 13, "f", per_doc=3))
    options = RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "f"), base=str(world["base"]), config=str(config))
    result = retrain(replace(options, bootstrap=50, register=False, require_significant=False))
    assert calls == [(1, 0.05)]  # once, on the one fixed dev set of the base (old_dev)
    assert StanceModel.from_pretrained(result.model_dir, bf16=False).config.device_thresholds["loaded_language"] == 0.95

    calls.clear()
    config.write_text(RETRAIN_YAML.replace("tune_thresholds: false", "tune_thresholds: true"))
    retrain(replace(options, output_dir=str(tmp_path / "g"), bootstrap=50, register=False, require_significant=False))
    assert calls == []  # no limit configured: the thresholds are only tuned


def test_thresholds_are_tuned_where_the_base_was_not_on_what_the_gate_reads(world, home, tmp_path, monkeypatch):
    """A retrain of a retrained model tuned on the earlier retrain's held-out labels, which the gate then read:
    the new model was tuned on a set its base never saw. Now every retrain tunes on the base's own dev sets,
    and --eval files are gated on, not tuned on."""
    import training.train
    from training.retrain import RetrainOptions, retrain

    tuned_on, real = [], training.train.retune_thresholds

    def spy(model, raws, *args, **kwargs):
        tuned_on.append(sorted(len(raw.records) for raw in raws))
        return real(model, raws, *args, **kwargs)

    monkeypatch.setattr(training.train, "retune_thresholds", spy)
    config = tmp_path / "retrain.yaml"
    config.write_text(RETRAIN_YAML.replace("tune_thresholds: false", "tune_thresholds: true"))
    quick = {"config": str(config), "bootstrap": 50, "register": False, "require_significant": False}
    first = write_jsonl(tmp_path / "first.jsonl", labelled(NEW, 60, 13, "f", per_doc=3))
    done = retrain(RetrainOptions(new=(str(first),), output_dir=str(tmp_path / "r1"), base=str(world["base"]), **quick))
    [base_dev] = tuned_on  # the base's one dev set (old_dev)
    second = write_jsonl(tmp_path / "second.jsonl", labelled(NEW, 60, 17, "s", per_doc=3))
    again = RetrainOptions(new=(str(second),), output_dir=str(tmp_path / "r2"), base=str(done.model_dir), **quick)
    result = retrain(again)
    assert len({r.dataset for r in result.gate.rows}) == 3  # gated on old_dev, the first held-out labels and the new
    assert tuned_on == [base_dev, base_dev]  # ... but tuned on old_dev alone, as its base was
    retrain(replace(again, output_dir=str(tmp_path / "r3"), eval=(str(first),)))
    assert tuned_on == [base_dev] * 3


def test_retrain_refits_the_stance_temperature(world, home, tmp_path, monkeypatch):
    """The base's temperature was fitted to the base's probabilities: the retrained model's is refitted on the
    fixed dev sets (from temperature 1, with the config's objective), as `stance train` does; with
    ``calibrate_stance: false`` the base's is kept."""
    import shutil

    import training.train
    from stance.model.modeling import StanceModel
    from training.retrain import RetrainOptions, retrain

    base = tmp_path / "base"
    shutil.copytree(world["base"], base)
    cfg = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps({**cfg, "stance_temperature": 3.0}))
    real, calls = training.train.calibrate_stance, []

    def spy(raws, model, objective="nll"):
        calls.append((len(raws), model.config.stance_temperature, objective))
        calls.append(real(raws, model, objective))
        return calls[-1]

    monkeypatch.setattr(training.train, "calibrate_stance", spy)
    config = tmp_path / "retrain.yaml"
    config.write_text(RETRAIN_YAML + "stance_calibration: worst_ece\n")
    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 60, 13, "t", per_doc=3))
    options = RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "t"), base=str(base), config=str(config))
    result = retrain(replace(options, bootstrap=50, register=False, require_significant=False))
    assert calls[0] == (1, 1.0, "worst_ece")  # the one fixed dev set, predicted at temperature 1
    saved = StanceModel.from_pretrained(result.model_dir, bf16=False).config.stance_temperature
    assert saved == pytest.approx(calls[1]) and saved != 3.0

    calls.clear()
    config.write_text(RETRAIN_YAML + "calibrate_stance: false\n")
    kept = retrain(replace(options, output_dir=str(tmp_path / "k"), bootstrap=50, register=False, require_significant=False))
    assert calls == [] and StanceModel.from_pretrained(kept.model_dir, bf16=False).config.stance_temperature == 3.0


def test_missing_replay_data_fails_clearly(world, home, tmp_path):
    import shutil

    from training.retrain import RetrainOptions, retrain

    base = tmp_path / "base"
    shutil.copytree(world["base"], base)
    spec = json.loads((base / "training.json").read_text())
    spec["train"] = [{"path": str(tmp_path / "gone.jsonl")}]
    (base / "training.json").write_text(json.dumps(spec))
    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 30, 13, "m", per_doc=3))
    with pytest.raises(ValueError, match="--replay FILE"):
        retrain(RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "o"), base=str(base), config=str(world["config"])))
    with pytest.raises(ValueError, match="at least 2"):
        one = write_jsonl(tmp_path / "one.jsonl", [dict(r, doc_id="same") for r in labelled(NEW, 6, 1, "x")])
        retrain(
            RetrainOptions(
                new=(str(one),), output_dir=str(tmp_path / "o"), base=str(base), config=str(world["config"]), no_replay=True
            )
        )


def test_too_few_labels_for_the_gate_stop_before_training(world, home, tmp_path):
    """32 labels from 11 articles: 2 held out, too few for a significant improvement; said before training,
    with how many labels the gate needs and the small preset, which then runs."""
    from training.retrain import PRESETS, RetrainOptions, retrain

    new = write_jsonl(tmp_path / "few.jsonl", labelled(NEW, 32, 14, "f", per_doc=3))
    options = RetrainOptions(
        new=(str(new),),
        output_dir=str(tmp_path / "few"),
        base=str(world["base"]),
        config=str(world["config"]),
        bootstrap=50,
        register=False,
    )
    with pytest.raises(ValueError, match=r"needs at least 5 .*about \d+ labels from 25 articles.*--preset small") as info:
        retrain(options)
    assert "2 held-out article(s)" in str(info.value)
    assert not (tmp_path / "few" / "model").exists()  # nothing was trained
    from dataclasses import replace

    result = retrain(replace(options, **PRESETS["small"]))
    assert result.counts["new_articles_heldout"] >= 3
    invoke(
        "retrain",
        "--new",
        new,
        "--output-dir",
        tmp_path / "cli",
        "--base",
        world["base"],
        "--config",
        world["config"],
        "--bootstrap",
        "50",
        "--no-register",
        "--preset",
        "tiny",
        code=2,
    )


def test_new_lines_without_device_labels_cover_the_users_devices_not_ptcs():
    """A new label line that does not say what it was annotated for counts as annotated for the six devices and
    the added ones, never for PTC's technique labels and propaganda_span, which no user labels (else every such
    line teaches them that nothing is there: BENCHMARKS.md section 0o)."""
    from types import SimpleNamespace

    from stance.labels.format import LabelRecord
    from stance.labels.taxonomy import FIXED_DEVICES, Device, Taxonomy
    from training.data import annotated_for_user_devices
    from training.new_labels import public_devices

    taxonomy = Taxonomy.load()
    config = SimpleNamespace(device_labels=[*taxonomy.names, "hedge"])  # a model grown by an earlier retrain
    labels = public_devices(config, taxonomy)
    assert labels == (*FIXED_DEVICES, "hedge")
    # a device added to configs/devices.yaml by hand is the user's too; a PTC-only one is not
    mine = Device("hedging", "", (), {"allsides": ("hedging",)})
    grown = Taxonomy((*taxonomy.devices, mine, Device("ptc_extra", "", (), {"ptc": ("X",)})))
    assert public_devices(SimpleNamespace(device_labels=grown.names), grown) == (*FIXED_DEVICES, "hedging")
    plain = LabelRecord.from_dict({"text": "Critics say it failed.", "devices": []})
    said = LabelRecord.from_dict({"text": "It failed.", "devices": [], "device_labels": ["scare_quotes"]})
    out = annotated_for_user_devices([plain, said], [*labels, "irony"])
    assert out[0].device_labels == (*FIXED_DEVICES, "hedge", "irony")
    assert "propaganda_span" not in out[0].device_labels and out[1] is said


def test_a_users_line_is_annotated_for_a_ptc_label_only_where_it_marks_a_span_of_it(tmp_path):
    """Tasks of an older `stance labels suggest` named every label the model found, PTC's technique labels too:
    imported, such a line must not teach those labels that nothing is there. PTC's own lines keep theirs."""
    from stance.labels.format import LabelRecord
    from stance.labels.taxonomy import Taxonomy
    from training.config import DataSpec
    from training.data import annotated_for_user_devices, load_records

    rows = [
        {"text": "It failed.", "devices": [], "device_labels": ["doubt", "ptc_loaded_language", "loaded_language"]},
        {
            "text": "Surely it failed.",
            "devices": [{"start": 0, "end": 6, "label": "doubt"}],
            "device_labels": ["doubt", "propaganda_span", "scare_quotes"],
        },
        {"text": "It failed, PTC says.", "devices": [], "device_labels": ["doubt"], "source": "ptc"},
    ]
    path = write_jsonl(tmp_path / "old_tasks.jsonl", rows)
    records = load_records(DataSpec(path=str(path)), tmp_path, Taxonomy.load())
    assert [r.device_labels for r in records] == [("loaded_language",), ("doubt", "scare_quotes"), ("doubt",)]
    new = [LabelRecord.from_dict(row) for row in rows]  # `stance retrain --new` reads them this way
    assert [r.device_labels for r in annotated_for_user_devices(new, ["loaded_language", "scare_quotes"])] == [
        ("loaded_language",),
        ("doubt", "scare_quotes"),
        ("doubt",),
    ]


def test_labels_past_the_maximum_length_are_counted_and_warned(tokenizer, caplog):
    """A target or device span that truncation cuts off cannot be trained on: build_features says how many."""
    import logging

    from stance.labels.format import LabelRecord
    from training.data import build_features

    text = "Russia met China. " + "The talks went on and on. " * 20 + "Germany slammed Japan."
    germany = text.index("Germany")
    record = LabelRecord.from_dict(
        {
            "text": text,
            "targets": [
                {"start": 0, "end": 6, "stance": "neutral"},
                {"start": germany, "end": germany + 7, "stance": "negative"},
            ],
            "devices": [{"start": germany + 8, "end": germany + 15, "label": "loaded_language"}],
        }
    )
    short = LabelRecord.from_dict({"text": "Russia met China.", "targets": [{"start": 0, "end": 6, "stance": "neutral"}]})
    with caplog.at_level(logging.WARNING, logger="stance.data"):
        features = build_features([record, short], tokenizer, ["loaded_language"], max_length=32)
    assert len(features) == 2 and features[0]["stance"] == [1]  # the encoding itself is unchanged
    warned = [r.getMessage() for r in caplog.records if r.name == "stance.data"]
    assert warned == [
        "1 labelled target(s) and 1 device span(s) in 1 sentence(s) lie past the maximum length of 32 tokens "
        "and are left out of training"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stance.data"):
        build_features([record], tokenizer, ["loaded_language"], max_length=256)
    assert not caplog.records


def test_stance_retrain_repeats_the_data_warnings_after_the_gate(tmp_path, monkeypatch):
    import logging
    from types import SimpleNamespace

    import training.retrain
    from training.gate import GateReport

    def fake_retrain(options):
        logging.getLogger("stance.data").warning("3 labelled target(s) and 0 device span(s) in 2 sentence(s) lie past ...")
        report = GateReport((), True, 0.01, 0.0, True, 10, 0.95, 0)
        return SimpleNamespace(gate=report, promoted=False, version=None)

    monkeypatch.setattr(training.retrain, "retrain", fake_retrain)
    monkeypatch.setattr(training.retrain, "describe_result", lambda result: {})
    r = CliRunner().invoke(app, ["retrain", "--new", str(tmp_path / "n.jsonl"), "--output-dir", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "note: 3 labelled target(s) and 0 device span(s) in 2 sentence(s) lie past" in r.output
    for name in ("stance.data", "stance.retrain"):
        assert not any(hasattr(h, "messages") for h in logging.getLogger(name).handlers)


# --------------------------------------------------------------------------- no sentence on both sides of the gate
def _record(text: str, doc: str):
    from stance.labels.format import LabelRecord, TargetLabel

    return LabelRecord(text=text, targets=(TargetLabel(0, 6, "negative"),), doc_id=doc)


def test_the_same_sentence_under_two_ids_stays_on_one_side_and_trained_sentences_are_never_held_out():
    from training.new_labels import split_by_article
    from training.transfer import normalise

    wire = "Russia slammed China on Monday."  # one wire story, run by two outlets under their own ids
    records = [_record(wire, "ledger-1"), _record("Russia met China.", "ledger-1"), _record(wire.upper(), "post-9")]
    records += [_record(f"Russia phoned China, day {i}.", f"other-{i}") for i in range(12)]
    trained = {normalise("Russia phoned China, day 3.")}  # a sentence the base was trained on (the replay pool)
    for seed in range(25):
        train, held = split_by_article(records, 0.5, seed, trained=trained)
        sides = {r.doc_id: ("held" if r in held else "train") for r in records}
        assert sides["ledger-1"] == sides["post-9"]
        assert sides["other-3"] == "train"
        assert {normalise(r.text) for r in train}.isdisjoint(normalise(r.text) for r in held)
    with pytest.raises(ValueError, match="none can be held out"):
        split_by_article(records[3:5], 0.5, 0, trained={normalise(r.text) for r in records})


def test_new_labels_that_are_sentences_of_the_evaluation_sets_are_left_out():
    from training.new_labels import drop_sentences_in

    earlier = [_record("Russia slammed China on Monday.", "h-1")]
    new = [_record("russia slammed china on monday", "n-1"), _record("Russia met China.", "n-2")]
    kept, dropped = drop_sentences_in(new, {"new-heldout-1": earlier})
    assert dropped == 1 and [r.doc_id for r in kept] == ["n-2"]


def test_options_that_cannot_work_are_refused_before_anything_runs(world, tmp_path):
    from training.retrain import RetrainOptions, retrain

    new = write_jsonl(tmp_path / "n.jsonl", labelled(NEW, 12, 3, "n"))
    base = RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "o"), base=str(world["base"]), config=str(world["config"]))
    with pytest.raises(ValueError, match="cannot go with --no-register"):
        retrain(replace(base, promote=True, register=False))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    evals = (str(write_jsonl(tmp_path / "a" / "dev.jsonl", [])), str(write_jsonl(tmp_path / "b" / "dev.jsonl", [])))
    with pytest.raises(ValueError, match="two --eval files are named 'dev'"):
        retrain(replace(base, eval=evals))
    with pytest.raises(ValueError, match="would replace the base model"):
        retrain(replace(base, output_dir=str(Path(world["base"]).parent)))


# --------------------------------------------------------------------------- audit: retraining newly labelled sentences
THIRD = {"positive": ["lauded", "hailed"], "negative": ["blasted", "scolded"], "neutral": ["emailed", "texted"]}


def test_promote_compares_with_the_active_version_it_would_replace(world, home, tmp_path):
    """While a version is active, `retrain --base OTHER --promote` gated against OTHER only and replaced the
    active version without comparing them: now the active version is evaluated on the same gate sets too, and a
    new model worse than it beyond the tolerance is not promoted (its gate fails; `models use --force` overrides)."""
    from training.retrain import RetrainOptions, retrain

    quick = {"config": str(world["config"]), "bootstrap": 50, "require_significant": False, "base": str(world["base"])}
    taught = write_jsonl(tmp_path / "taught.jsonl", labelled(NEW, 120, 31, "v", per_doc=3))
    active = retrain(RetrainOptions(new=(str(taught),), output_dir=str(tmp_path / "v"), promote=True, **quick))
    assert active.promoted, active.gate.table()
    # a retrain of the same base on other verbs, gated on what the active version learned (the NEW verbs)
    other = write_jsonl(tmp_path / "other.jsonl", labelled(THIRD, 60, 32, "o", per_doc=3))
    known = write_jsonl(tmp_path / "known.jsonl", labelled(NEW, 45, 33, "k", per_doc=3))
    options = RetrainOptions(new=(str(other),), output_dir=str(tmp_path / "o"), promote=True, eval=(str(known),), **quick)
    result = retrain(replace(options, tolerance=0.15))
    assert all(not r.failed for r in result.gate.rows), result.gate.table()  # it passed against its base ...
    assert not result.promoted and not result.gate.passed, result.gate.table()
    assert result.gate.against == active.version  # ... but not against the version in use
    failed = [r for r in result.gate.against_rows if r.failed]
    assert [(r.dataset, r.metric) for r in failed] == [("known", "stance_macro_f1")]
    assert ModelRegistry().active().id == active.version
    assert active.gate.against is None  # its base was the shipped model in use: nothing else to replace
    gate_md = (tmp_path / "o" / "gate.md").read_text()
    assert f"against the active version {active.version}" in gate_md
    stored = json.loads((tmp_path / "o" / "gate.json").read_text())
    assert not stored["passed"] and "worse than the active version" in stored["reason"]
    invoke("models", "use", result.version, code=2)  # refused without --force, saying why
    invoke("models", "use", result.version, "--force")


def test_a_configs_dev_sets_do_not_replace_the_bases_for_every_descendant(world, home, tmp_path):
    """A --config with its own dev: list replaced the base's dev sets in the new version's training.json, so that
    every descendant gated on those alone. Now training.json keeps the base's dev sets (plus the config's), and
    gate.md names the sets gated on and those of the base it left out."""
    from training.config import read_training_data
    from training.retrain import RetrainOptions, retrain

    small = write_jsonl(tmp_path / "small_dev.jsonl", labelled(OLD, 24, 41, "s"))
    config = tmp_path / "own.yaml"
    config.write_text(RETRAIN_YAML + f"train:\n  - {{path: {world['root'] / 'old_train.jsonl'}}}\ndev:\n  - {{path: {small}}}\n")
    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 60, 42, "n", per_doc=3))
    options = RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "c"), base=str(world["base"]), config=str(config))
    result = retrain(replace(options, bootstrap=50, register=False, require_significant=False))
    dev = [spec.name for spec in read_training_data(result.model_dir).dev]
    assert dev[:2] == ["old_dev", "small_dev"] and dev[2].startswith("new-heldout-")
    assert {r.dataset for r in result.gate.rows} == {"small_dev", "new:heldout"}
    assert result.gate.left_out == ("old_dev",)
    gate_md = (tmp_path / "c" / "gate.md").read_text()
    assert "gated on: small_dev, new:heldout" in gate_md and "left out: old_dev" in gate_md


def test_a_configs_train_and_dev_lists_each_replace_only_their_own_kind(world, home, tmp_path):
    """A --config with a dev: list and no train: list replayed nothing: the retrain was refused with "the base model
    does not say what it was trained on". And a config's train: list became every descendant's replay sources. Now
    each list replaces only the base's list of its kind, for this retrain alone: the new version's training.json keeps
    the base's training sources, then the config's, then its own new labels (as for dev sets)."""
    from training.config import read_training_data
    from training.retrain import RetrainOptions, retrain

    new = write_jsonl(tmp_path / "new.jsonl", labelled(NEW, 60, 43, "n", per_doc=3))
    quick = {"bootstrap": 50, "register": False, "require_significant": False, "base": str(world["base"])}

    only_dev = tmp_path / "only_dev.yaml"
    small = write_jsonl(tmp_path / "small_dev.jsonl", labelled(OLD, 24, 44, "s"))
    only_dev.write_text(RETRAIN_YAML + f"dev:\n  - {{path: {small}}}\n")
    result = retrain(RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "d"), config=str(only_dev), **quick))
    assert result.counts["replay"] > 30  # drawn from the base's 240 training sentences
    train = [spec.name for spec in read_training_data(result.model_dir).train]
    assert train[0] == "old_train" and train[1].startswith("new-train-") and len(train) == 2

    only_train = tmp_path / "only_train.yaml"
    extra = write_jsonl(tmp_path / "extra.jsonl", labelled(OLD, 30, 45, "x"))
    only_train.write_text(RETRAIN_YAML + f"train:\n  - {{path: {extra}}}\n")
    result = retrain(RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "t"), config=str(only_train), **quick))
    assert result.counts["replay"] == 30  # this retrain replays the config's 30 sentences alone ...
    stored = read_training_data(result.model_dir)
    train = [spec.name for spec in stored.train]
    assert train[:2] == ["old_train", "extra"] and train[2].startswith("new-train-")  # ... its descendants all
    assert [spec.name for spec in stored.dev][0] == "old_dev"
    assert {r.dataset for r in result.gate.rows} == {"old_dev", "new:heldout"}  # gated on the base's dev set


def test_a_dev_only_config_reads_the_bases_lists_from_the_bases_data_folder(world, tmp_path):
    """With a dev: list and no train: list, the base's training sources were read from the config's default data
    folder, not the base's: a base trained with another folder failed with "cannot load the replay data"."""
    import shutil

    from training.config import TrainConfig
    from training.replay import data_sources
    from training.retrain import RetrainOptions

    base = tmp_path / "base"
    shutil.copytree(world["base"], base)
    spec = json.loads((base / "training.json").read_text())
    (base / "training.json").write_text(json.dumps({**spec, "data_dir": str(tmp_path / "their_data")}))
    options = RetrainOptions(new=("x.jsonl",), output_dir=str(tmp_path / "out"))
    dev_only = TrainConfig.from_dict({"dev": [{"path": str(world["root"] / "old_dev.jsonl")}]})
    assert data_sources(base, options, dev_only).data_dir == str(tmp_path / "their_data")
    own = TrainConfig.from_dict({"dev": [{"path": "d.jsonl"}], "data_dir": str(tmp_path / "mine")})
    assert data_sources(base, options, own).data_dir == str(tmp_path / "mine")


class _Stop(Exception):
    pass


def test_corrected_labels_replace_the_earlier_ones_in_the_replay(world, home, tmp_path, monkeypatch, caplog):
    """Relabelling sentences of an earlier version's training labels put the old and the new label of the same
    sentence into the replay sample: now the new label replaces the earlier copies (same text, and doc_id where
    both have one), and retrain says how many. A correction of an earlier held-out sentence says which file keeps
    gating with the old label and how to fix it."""
    import logging
    import shutil

    import training.train
    from training.retrain import RetrainOptions, retrain

    flip = {"negative": "positive", "positive": "negative", "neutral": "neutral"}
    first = labelled(NEW, 30, 51, "e", per_doc=3)
    corrected = [dict(r, targets=[dict(t, stance=flip[t["stance"]]) for t in r["targets"]]) for r in first[:6]]
    base = tmp_path / "base"
    shutil.copytree(world["base"], base)
    write_jsonl(base / "new-train-0000aaaa.jsonl", first)  # an earlier retrain's training labels
    write_jsonl(base / "new-train-0000bbbb.jsonl", corrected[:3])  # ... corrected once already by a later one
    held = write_jsonl(base / "new-heldout-0000cccc.jsonl", labelled(NEW, 9, 52, "h", per_doc=3))
    spec = json.loads((base / "training.json").read_text())
    spec["train"] += [{"path": "new-train-0000aaaa.jsonl"}, {"path": "new-train-0000bbbb.jsonl"}]
    spec["dev"] += [{"path": "new-heldout-0000cccc.jsonl"}]
    (base / "training.json").write_text(json.dumps(spec))
    trained_on = []

    def spy(model, records, *args, **kwargs):
        trained_on.extend(records)
        raise _Stop

    monkeypatch.setattr(training.train, "fit", spy)
    elsewhere = [dict(corrected[3], doc_id="another-outlet")]  # the same text in another article: not a correction
    regraded = json.loads(held.read_text().splitlines()[1])
    regraded["targets"] = [
        dict(t, stance=flip[t["stance"]] if t["stance"] != "neutral" else "positive") for t in regraded["targets"]
    ]
    rows = corrected[3:] + elsewhere + [regraded] + labelled(NEW, 30, 53, "m", per_doc=3)
    new = write_jsonl(tmp_path / "new.jsonl", rows)
    options = RetrainOptions(new=(str(new),), output_dir=str(tmp_path / "o"), base=str(base), config=str(world["config"]))
    with caplog.at_level(logging.INFO, logger="stance.retrain"), pytest.raises(_Stop):
        retrain(replace(options, register=False, require_significant=False, replay_ratio=100.0))
    by_text: dict[str, list[str]] = {}
    for r in trained_on:
        by_text.setdefault(r.text, []).append(r.targets[0].stance)
    for row in corrected:  # one label per sentence, the corrected one (the other article's copy aside)
        expected = [row["targets"][0]["stance"]] * (2 if row["text"] == corrected[3]["text"] else 1)
        assert by_text[row["text"]] == expected, row["text"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("3 earlier label(s)" in m and "replaced" in m for m in messages), messages
    hint = next(m for m in messages if "new-heldout-0000cccc" in m)
    assert regraded["text"] in hint and "line 2" in hint and "keeps gating with the old label" in hint


def test_the_gate_counts_false_alarms_on_devices_without_gold_spans(tokenizer):
    """The gate scored only devices with gold spans in a set, so held-out sentences annotated for a device none
    of them holds did not count: a model flagging them all lost nothing. Now every device the lines were
    annotated for is measured."""
    from stance.labels.format import LabelRecord
    from tests.conftest import tiny_stance_model
    from training.gate import compare_models

    quiet, noisy = tiny_stance_model(tokenizer), tiny_stance_model(tokenizer)
    for model, loaded in ((quiet, 1.01), (noisy, 0.0)):
        model.config.device_thresholds = {**{d: 1.01 for d in model.config.device_labels}, "loaded_language": loaded}
    rows = []
    for i in range(12):
        text = f"Russia met China on day {i}."
        spans = [{"start": 0, "end": 6, "label": "scare_quotes"}] if i % 2 else []
        row = {"text": text, "targets": [{"start": 0, "end": 6, "stance": "neutral"}], "devices": spans}
        rows.append(LabelRecord.from_dict({**row, "doc_id": f"d{i}", "device_labels": ["scare_quotes", "loaded_language"]}))
    report = compare_models(quiet, noisy, {"held": rows}, new_sets={"held"}, bootstrap=20)
    row = next(r for r in report.rows if r.metric == "device_free_unflagged")
    assert (row.base, row.new) == (1.0, 0.0) and row.failed, report.table()  # all flagged for loaded_language, none holds it
    assert "dropped" in row.reason  # a guard: it may not drop beyond the tolerance, not required to improve
    free = [r for r in rows if not r.devices]
    report = compare_models(quiet, noisy, {"free": free}, bootstrap=20)
    devices = [(r.metric, r.base, r.new) for r in report.rows if r.metric.startswith("device")]
    assert devices == [("device_free_unflagged", 1.0, 0.5)]  # scare_quotes: neither flags it; loaded_language: all flagged
    calm = compare_models(quiet, quiet, {"free": free}, new_sets={"free"}, bootstrap=20)
    assert [r.failed for r in calm.rows if r.metric == "device_free_unflagged"] == [False]  # no false alarm: nothing to improve
