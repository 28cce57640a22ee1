"""Choosing real sentences for device annotation and reading the answers back (training.device_annotation)."""

from __future__ import annotations

import json

import pytest

from training import device_annotation as da


def _sentence(doc: str, start: int, text: str, split: str = "train") -> dict:
    return {
        "sid": f"{doc}:{start}:{start + len(text)}",
        "doc_id": doc,
        "start": start,
        "end": start + len(text),
        "text": text,
        "split": split,
    }


def test_scare_quote_candidates_skip_reported_speech():
    assert da.scare_quote_candidate('The "experts" at the agency decided otherwise.')
    assert not da.scare_quote_candidate('She described the plan as "a disaster" on Tuesday.')
    assert not da.scare_quote_candidate("He said nothing about it.")
    assert not da.scare_quote_candidate('The group "has long opposed any such plan for the region" they wrote.')  # too long


def test_a_later_round_skips_labelled_sentences_and_held_out_articles():
    pool = [
        _sentence("a", 0, "The regime cracked down again."),
        _sentence("b", 0, "The regime answered within hours."),
        _sentence("c", 0, "The regime fell last year.", split="heldout"),
        _sentence("d", 0, "Officials met on Monday to talk."),
    ]
    rows = da.choose_more(pool, {"name_calling": 10}, done={("a", 0, 30)})
    assert [r["doc_id"] for r in rows] == ["b"] and rows[0]["why"] == "name_calling"


def test_a_later_round_reads_where_a_model_fires():
    pool = [
        _sentence("a", 0, "The reckless plan failed on Monday."),
        _sentence("b", 0, "The plan failed on Monday, officials said."),
        _sentence("c", 0, "The reckless plan failed again.", split="heldout"),
    ]
    fires = lambda texts: [{"loaded_language"} if "reckless" in t else set() for t in texts]  # noqa: E731
    rows = da.choose_more(pool, {}, done=set(), predicted={"loaded_language": 5}, predict=fires)
    assert [(r["doc_id"], r["why"]) for r in rows] == [("a", "model:loaded_language")]
    with pytest.raises(ValueError, match="predict function"):
        da.choose_more(pool, {}, done=set(), predicted={"loaded_language": 5})
    with pytest.raises(ValueError, match="DEVICE=N"):
        da.device_counts(["loaded=5"], "--predicted")


def test_answers_become_standoff_with_offsets_and_annotator(tmp_path):
    text = 'Critics say the "reform" is a power grab.'
    batches = tmp_path / "batches"
    da.write_batches([{**_sentence("x", 5, text), "why": "random"}], batches, "train9", 10)
    answers = tmp_path / "answers.jsonl"
    spans = [{"label": "scare_quotes", "text": '"reform"'}, {"label": "unsourced_claim", "text": "Critics say"}]
    answers.write_text(json.dumps({"sid": f"x:5:{5 + len(text)}", "spans": spans}) + "\n")
    counts = da.collect([answers], batches, "helper:test", tmp_path / "out.jsonl")
    assert counts == {"sentences": 1, "spans": 2, "errors": 0}
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert row["spans"] == [[0, 11, "unsourced_claim"], [16, 24, "scare_quotes"]] and row["annotator"] == "helper:test"
    assert "text" not in row
