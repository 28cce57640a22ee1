"""Scoring with an exported backend needs neither torch nor transformers: the tokenizer and labels are
read from the model's files, spaCy is imported with torch hidden, and the results are the same."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stance.model.config import StanceConfig
from stance.model.encoding import encode_batch
from stance.model.subwords import SubwordTokenizer
from stance.store.model_files import InferenceSettings

TRICKY = [
    "Moscow slammed the so-called “reform” — again!",
    "Café owners in São Paulo weren't convinced; naïve, perhaps.",
    '北京 said 🙂 the U.S.-led coalition’s plan was "reckless".',
    "   Leading spaces,\ttabs and\nnewlines   ",
    "Antidisestablishmentarianism supercalifragilistic 1,234.56 km²",
    "",
]


def test_subword_tokenizer_gives_the_ids_and_offsets_of_transformers(tiny_model_dir, tokenizer):
    light = SubwordTokenizer.from_directory(tiny_model_dir)
    ours = light.encode(TRICKY)
    theirs = tokenizer(TRICKY, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False)
    assert [ids for ids, _ in ours] == theirs["input_ids"]
    assert [[tuple(o) for o in offs] for _, offs in ours] == [[tuple(o) for o in offs] for offs in theirs["offset_mapping"]]
    ids = (light.cls_token_id, light.sep_token_id, light.pad_token_id, light.unk_token_id)
    assert ids == (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id)
    assert light.token_id("[TGT]") == tokenizer.convert_tokens_to_ids("[TGT]") != light.unk_token_id
    targets = [[(0, 6)], [(17, 26)], [(0, 2), (13, 17)], [], [(0, 5)], []]
    assert encode_batch(light, TRICKY, targets, max_length=16) == encode_batch(tokenizer, TRICKY, targets, max_length=16)


def test_a_transformers_tokenizer_left_truncating_still_encodes_whole_texts(tokenizer):
    long = " ".join(["word"] * 40)
    tokenizer([long], truncation=True, max_length=8)  # may leave truncation set on the Rust tokenizer
    ((ids, _),) = SubwordTokenizer.of(tokenizer).encode([long])
    assert len(ids) == 40


def test_subword_tokenizer_needs_tokenizer_json(tmp_path):
    with pytest.raises(ValueError, match="no tokenizer.json"):
        SubwordTokenizer.from_directory(tmp_path)


def test_inference_settings_read_from_the_file_equal_the_full_config(tiny_model_dir, tmp_path):
    from_file = InferenceSettings.from_file(tiny_model_dir / "config.json")
    assert from_file == InferenceSettings.from_config(StanceConfig.from_pretrained(tiny_model_dir))
    assert from_file.reported_device_labels == ["loaded_language", "scare_quotes", "unsourced_claim"]
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="not a stance model config"):
        InferenceSettings.from_file(tmp_path / "config.json")


_WORKER = r"""
import json, sys
from stance.run.options import ScoreOptions
from stance.run.local import _worker_init
import stance.run.local as batch
from stance.io.records import Article
_worker_init(ScoreOptions(model=sys.argv[1], backend="openvino"), 1)
if batch._WORKER_PREDICTOR is None:
    raise SystemExit(repr(batch._WORKER_FAILURE))
rows = batch._WORKER_PREDICTOR.score_rows([Article(id="a", text=sys.argv[2], title="Kyiv hails the Kremlin’s retreat")])[0]
import thinc.compat
print(json.dumps({"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules, "thinc_has_torch": thinc.compat.has_torch,
                  "rows": [[r["text"], [(m["actor"], m["text"]) for m in r["mentions"]]] for r in rows]}))
"""
ARTICLE = "Sergei Lavrov met Maria Lopez in Geneva. Lavrov said Washington had erred. The Kremlin agreed."


def test_an_openvino_worker_scores_without_importing_torch_or_transformers(tiny_model_dir):
    from stance.io.records import Article
    from stance.model.modeling import StanceModel
    from stance.pipeline.scorer import StanceScorer

    assert StanceModel.from_pretrained(
        tiny_model_dir, backend="openvino"
    ).backend.path.exists()  # the graph exported (needs torch) beforehand
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(tiny_model_dir), ARTICLE], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["torch"], report["transformers"], report["thinc_has_torch"]) == (False, False, False)
    expected = StanceScorer.from_pretrained(str(tiny_model_dir), backend="torch").score_articles(
        [Article(id="a", text=ARTICLE, title="Kyiv hails the Kremlin’s retreat")]
    )[0]
    assert report["rows"] == [[s.text, [[m.actor, m.text] for m in s.mentions]] for s in expected]
    assert any(m.actor == "Sergei Lavrov" and m.text == "Lavrov" for s in expected for m in s.mentions)  # NER and coreference ran


def test_spacy_imported_without_torch_leaves_torch_importable():
    code = (
        "import sys; from stance.pipeline.actors import import_spacy_without_torch as f; first = f(); import thinc.compat, torch; "
        "print(first, thinc.compat.has_torch, torch.tensor([1]).item(), f())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "1", "False"]


def test_a_model_loaded_for_an_exported_backend_reads_its_full_config_and_tokenizer_on_demand(tiny_model_dir):
    from stance.model.modeling import StanceModel

    model = StanceModel.from_pretrained(tiny_model_dir, backend="openvino")
    assert model.device_labels == ["loaded_language", "scare_quotes", "unsourced_claim"] and model.settings.max_seq_length == 64
    assert model.tokenizer.convert_tokens_to_ids("[TGT]") == model.subwords.token_id("[TGT]")  # transformers, loaded now
    model.config.device_thresholds["scare_quotes"] = 0.9  # the full config, loaded now, is what settings follow from then on
    assert model.settings.device_thresholds["scare_quotes"] == 0.9
