"""Choosing real sentences for device annotation and reading the answers back (training.device_annotation)."""

from __future__ import annotations

import json

import pytest

from training import device_annotation as da
from training.convert.allsides import text_hash


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
        _sentence("a", 900, "The regime cracked down again."),  # the article repeats the labelled passage
        _sentence("b", 900, "The regime answered within hours."),  # and a passage of its own
    ]
    rows = da.choose_more(pool, {"name_calling": 10}, done={("a", text_hash("The regime cracked down again."))})
    assert [(r["doc_id"], r["start"]) for r in rows] == [("b", 0)] and rows[0]["why"] == "name_calling"


def test_a_later_round_adds_random_sentences_one_per_article():
    pool = [
        _sentence("a", 0, "The regime cracked down again."),
        _sentence("a", 40, "Officials met on Monday to talk."),
        _sentence("b", 0, "Officials met on Tuesday to talk."),
        _sentence("c", 0, "Officials met on Friday to talk.", split="heldout"),
    ]
    rows = da.choose_more(pool, {"name_calling": 10}, done=set(), randoms=5)
    assert sorted((r["doc_id"], r["why"]) for r in rows) == [("a", "name_calling"), ("a", "random"), ("b", "random")]
    assert len({r["sid"] for r in rows}) == 3  # a sentence is chosen once, whatever the reason
    assert {da.chosen_by(r["why"]) for r in rows} == {"cue_word", "random"}


def test_a_later_round_can_read_dev_articles_alone():
    pool = [
        _sentence("a", 0, "The regime cracked down again."),
        _sentence("b", 0, "The regime answered within hours.", split="dev"),
        _sentence("c", 0, "Officials met on Friday to talk.", split="dev"),
        _sentence("d", 0, "The regime fell last year.", split="heldout"),
    ]
    rows = da.choose_more(pool, {"name_calling": 10}, done=set(), randoms=5, splits=("dev",))
    assert sorted((r["doc_id"], r["why"]) for r in rows) == [("b", "name_calling"), ("c", "random")]
    with pytest.raises(ValueError, match="train and/or dev"):
        da.choose_more(pool, {"name_calling": 10}, done=set(), splits=("heldout",))


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


def test_standoff_exports_as_a_label_file_of_one_split(tmp_path):
    """`export` reads the sentences back from the articles into the label format `stance retrain --new` takes,
    labelled for the six devices, only of the split asked for, a sentence labelled twice once; a changed
    article stops it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from stance.labels.format import read_label_file
    from stance.labels.taxonomy import FIXED_DEVICES
    from training.convert.allsides import article_split, article_texts

    ids = [f"doc{i}" for i in range(200)]
    train_id = next(i for i in ids if article_split(i) == "train")
    dev_id = next(i for i in ids if article_split(i) == "dev")
    text, other = 'Critics say the "reform" is a power grab.', 'Some call the "plan" a power grab.'
    articles = {train_id: f"Lede. {text}", dev_id: f"Lede. {other} {other}"}  # the dev article repeats a passage

    def write_articles():
        pq.write_table(
            pa.table({"id": list(articles), "text": list(articles.values())}), tmp_path / "allsides" / "articles.parquet"
        )

    (tmp_path / "allsides").mkdir()
    write_articles()
    rows = [_sentence(train_id, 6, text), _sentence(dev_id, 6, other), _sentence(dev_id, 7 + len(other), other)]
    batches, answers = tmp_path / "batches", tmp_path / "answers.jsonl"
    da.write_batches([{**r, "why": "random"} for r in rows], batches, "train9", 10)
    quoted = {text: '"reform"', other: '"plan"'}
    answers.write_text(
        "".join(
            json.dumps({"sid": r["sid"], "spans": [{"label": "scare_quotes", "text": quoted[r["text"]]}]}) + "\n" for r in rows
        )
    )
    assert da.collect([answers], batches, "helper:test", tmp_path / "standoff.jsonl")["sentences"] == 3
    standoff_lines = [json.loads(x) for x in (tmp_path / "standoff.jsonl").read_text().splitlines()]
    assert {x["chosen_by"] for x in standoff_lines} == {"random"}  # how each was sampled, from the batches' meta

    out = tmp_path / "new.jsonl"
    assert da.export([tmp_path / "standoff.jsonl"], tmp_path, out, split="train") == 1
    (record,) = read_label_file(out)
    assert record.text == text and record.doc_id == train_id and record.device_labels == FIXED_DEVICES
    assert [(record.text[d.start : d.end], d.label) for d in record.devices] == [('"reform"', "scare_quotes")]
    assert da.export([tmp_path / "standoff.jsonl"], tmp_path, out) == 2  # the repeated passage once
    assert [r.text for r in read_label_file(out)] == [text, other]
    articles[train_id] = "Lede. Critics say the reform is a power grab."
    write_articles()
    article_texts.cache_clear()  # read once per process and data directory
    with pytest.raises(ValueError, match="no longer matches its hash"):
        da.export([tmp_path / "standoff.jsonl"], tmp_path, out)


def test_allsides_records_say_how_their_sentence_was_chosen(tmp_path):
    """The standoff line's own ``chosen_by`` wins over the sampling record (``chosen_by.jsonl.gz``); a sentence
    in neither has none, and only model-chosen ones are marked as such."""
    from training.convert.allsides import chosen_by_model, read_standoff

    text = "Critics say the plan is a power grab. Officials met in Geneva."
    first, second = text[:37], text[38:]
    lines = [
        {"doc_id": "d", "start": 0, "end": 37, "hash": text_hash(first), "spans": []},
        {"doc_id": "d", "start": 38, "end": len(text), "hash": text_hash(second), "spans": [], "chosen_by": "cue_word"},
    ]
    path = tmp_path / "round.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    reasons = {("d", 0, 37): "model", ("d", 38, len(text)): "model"}
    first_record, second_record = read_standoff(path, {"d": text}, reasons)
    assert (first_record.text, first_record.meta["chosen_by"]) == (first, "model")
    assert second_record.meta["chosen_by"] == "cue_word"
    assert [chosen_by_model(r.meta) for r in (first_record, second_record)] == [True, False]
    unrecorded, own = read_standoff(path, {"d": text}, {})
    assert "chosen_by" not in unrecorded.meta and own.meta["chosen_by"] == "cue_word"
