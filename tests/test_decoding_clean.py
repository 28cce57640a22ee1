"""Decoding gives clean spans: no punctuation-only or function-word spans, scare quotes with both
marks, the label-agnostic PTC span reported as ``propaganda`` with its technique; and the guide's
hard cases decode to the guide's spans when the token tags say so."""

from __future__ import annotations

import numpy as np
import pytest

from stance.labels.taxonomy import FIXED_DEVICES
from stance.model.encoding import OUTSIDE, decode_devices, decode_spans, encode_batch
from stance.store.model_files import InferenceSettings


def _probs_for(enc, marks: dict[str, list[tuple[int, int]]], labels: list[str]) -> np.ndarray:
    """Token probabilities that put exactly the tokens overlapping ``marks`` inside each label."""
    probs = np.zeros((len(enc.input_ids), len(labels), 3))
    probs[:, :, OUTSIDE] = 1.0
    for j, label in enumerate(labels):
        for s, e in marks.get(label, ()):
            first = True
            for i, (a, b) in enumerate(enc.offsets):
                if (a, b) != (-1, -1) and a < e and b > s:
                    probs[i, j] = [0.0, 1.0, 0.0] if first else [0.0, 0.0, 1.0]
                    first = False
    return probs


def _decode(tokenizer, text: str, marks: dict[str, list[tuple[int, int]]], labels: list[str]) -> list[tuple[str, str]]:
    [enc] = encode_batch(tokenizer, [text])
    return [(label, text[s:e]) for s, e, label, _ in decode_spans(_probs_for(enc, marks, labels), enc.offsets, labels, text=text)]


def _at(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.mark.parametrize("junk", ['"', " a ", "are a", "is a", "Whether", ", -"])
def test_function_word_and_punctuation_spans_are_dropped(tokenizer, junk):
    text = 'Whether officials "are a" match for it, - is a question, critics say.'
    start, end = _at(text, junk)
    if junk.strip():  # " a ": the word itself, found with its spaces
        start, end = start + len(junk) - len(junk.lstrip()), end - len(junk) + len(junk.rstrip())
    got = _decode(tokenizer, text, {"loaded_language": [(start, end)]}, ["loaded_language"])
    assert got == []


def test_content_spans_survive_and_lose_edge_punctuation(tokenizer):
    text = "The regime, critics say, parroted the message."
    got = _decode(
        tokenizer,
        text,
        {"name_calling": [_at(text, "regime,")], "unsourced_claim": [_at(text, "critics say")]},
        ["name_calling", "unsourced_claim"],
    )
    assert ("name_calling", "regime") in got
    assert ("unsourced_claim", "critics say") in got


@pytest.mark.parametrize("marked", ["temporary", "“temporary", "temporary”", "“temporary”"])
def test_scare_quotes_keep_both_marks(tokenizer, marked):
    text = "Officials defended the “temporary” curfew, now in its third year."
    assert _decode(tokenizer, text, {"scare_quotes": [_at(text, marked)]}, ["scare_quotes"]) == [("scare_quotes", "“temporary”")]


def test_scare_quote_without_marks_is_dropped(tokenizer):
    text = "Officials defended the temporary curfew."
    assert _decode(tokenizer, text, {"scare_quotes": [_at(text, "temporary")]}, ["scare_quotes"]) == []


# The annotation guide's examples: sentence, device, the span the guide brackets.
GUIDE_CASES = [
    ("Moscow's unprovoked invasion went on.", "loaded_language", "unprovoked"),
    ("Beijing has parroted the message.", "loaded_language", "parroted"),
    ("The regime in Tehran ignored the ruling.", "name_calling", "regime"),
    ("It was what he falsely described as a plot.", "discrediting_attribution", "falsely described"),
    ("The Kremlin rejected the so-called peace plan.", "discrediting_attribution", "so-called"),
    ("The meeting is widely believed to be a precursor to a summit.", "unsourced_claim", "widely believed"),
    ("Critics say the budget favours the wealthy.", "unsourced_claim", "Critics say"),
    (
        "In an apparent dig at the United States, he praised reliable partners.",
        "speculative_interpretation",
        "in an apparent dig at",
    ),
    ("He said, clearly referring to Washington, that bullies fail.", "speculative_interpretation", "clearly referring to"),
    ("They want to create a “more just” world order.", "scare_quotes", "“more just”"),
]


@pytest.mark.parametrize(("text", "device", "span"), GUIDE_CASES)
def test_guide_examples_decode_to_the_guides_span(tokenizer, text, device, span):
    start = text.lower().index(span.lower())
    assert _decode(tokenizer, text, {device: [(start, start + len(span))]}, list(FIXED_DEVICES)) == [
        (device, text[start : start + len(span)])
    ]


def test_propaganda_span_reported_with_its_most_likely_technique(tokenizer):
    text = "Every true patriot must stand behind our troops, the senator said."
    labels = ["loaded_language", "flag_waving", "doubt", "propaganda_span"]
    [enc] = encode_batch(tokenizer, [text])
    span = _at(text, "Every true patriot must stand behind our troops")
    probs = _probs_for(
        enc, {"propaganda_span": [span], "flag_waving": [_at(text, "true patriot")], "doubt": [_at(text, "troops")]}, labels
    )
    got = decode_devices(probs, enc.offsets, text, labels=labels, reported=labels[:3], fixed=("loaded_language",))
    assert [(text[s:e], label, technique) for s, e, label, _, technique in got] == [
        (text[slice(*span)], "propaganda", "flag_waving")
    ]


def test_without_the_propaganda_head_every_reported_label_is_kept(tokenizer):
    text = "Every true patriot must stand behind our troops."
    labels = ["loaded_language", "flag_waving"]
    [enc] = encode_batch(tokenizer, [text])
    probs = _probs_for(enc, {"flag_waving": [_at(text, "true patriot")]}, labels)
    got = decode_devices(probs, enc.offsets, text, labels=labels, reported=labels, fixed=("loaded_language",))
    assert [(text[s:e], label, t) for s, e, label, _, t in got] == [("true patriot", "flag_waving", None)]


def test_a_device_added_by_retraining_reaches_users_beside_the_propaganda_head(tokenizer):
    """A device added with `stance retrain --add-device` ("hedge") is not a PTC technique: users get its
    spans as they are (it was dropped before, as if it were a technique of the propaganda head)."""
    text = "The plan reportedly stalled, and every true patriot knows why."
    labels = ["loaded_language", "flag_waving", "hedge", "propaganda_span"]
    settings = InferenceSettings(device_labels=tuple(labels), internal_device_labels=("propaganda_span",))
    [enc] = encode_batch(tokenizer, [text])
    probs = _probs_for(enc, {"hedge": [_at(text, "reportedly")], "flag_waving": [_at(text, "true patriot")]}, labels)
    got = settings.decode_devices(probs, enc.offsets, text)
    assert [(d.text, d.label) for d in got] == [("reportedly", "hedge")]  # flag_waving: a PTC technique, no span alone


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        # a new user's trial: spans that held an opening mark and lost the closing one to the edge trim
        ('calling her "Nervous Nancy', 'calling her "Nervous Nancy"'),
        ('an "Obama judge', 'an "Obama judge"'),
        # American style: the closing mark after a comma or full stop
        ('promised "a new generation of American leadership', 'promised "a new generation of American leadership,"'),
        # the span stops inside the quotation: cut after the opening mark
        ('so-called "radical', "radical"),
        # the span starts inside the quotation: cut before the closing mark
        ('left" and', "left"),
    ],
)
def test_device_spans_hold_no_quotation_mark_without_its_pair(tokenizer, marked, expected):
    text = 'He kept calling her "Nervous Nancy" and Tigar an "Obama judge" and the so-called "radical left" and more.'
    if "American" in marked:
        text = 'Biden promised "a new generation of American leadership," aides said.'
    got = _decode(tokenizer, text, {"name_calling": [_at(text, marked)]}, ["name_calling"])
    assert got == [("name_calling", expected)]
    assert all(t.count('"') % 2 == 0 for _, t in got)


def test_ptc_spans_keep_their_edges_but_regain_a_trimmed_mark(tokenizer):
    """PTC marks spans across quotations: its label-agnostic span is not cut at an unpaired mark (that cost PTC dev
    span F1 0.003), but regains the mark the edge trim took off."""
    text = 'They were "very" excited, and he called it a "rude awakening for the young," she said.'
    labels = ["propaganda_span"]
    assert _decode(tokenizer, text, {"propaganda_span": [_at(text, 'very" excited')]}, labels) == [
        ("propaganda_span", '"very" excited')
    ]
    assert _decode(tokenizer, text, {"propaganda_span": [_at(text, 'a "rude awakening for the young')]}, labels) == [
        ("propaganda_span", 'a "rude awakening for the young,"')
    ]


@pytest.mark.parametrize("label", ["loaded_language", "propaganda_span"])
@pytest.mark.parametrize(
    ("text", "marked"),
    [
        # a review of the change: quotations at both ends were cut to the last one, or kept an unpaired mark
        (
            "They denounced the “globalist elites” as “traitors” who “hate America.”",
            "“globalist elites” as “traitors” who “hate America",
        ),
        ('He blasted the "fake news" and "witch hunt" claims.', 'fake news" and "witch hunt'),
        # a straight quote after a comma opens the quotation: the span was dropped
        ('He said,"Stop the steal" loudly.', 'Stop the steal" loudly'),
        # ... but closes one it follows, and one after a sentence's end closes ("Yes" and "great" were cut off)
        ('"Yes,"he said, and walked away.', 'Yes,"he said'),
        ('He said "it was great."The senator left.', 'it was great."The senator'),
    ],
)
def test_spans_with_quotations_at_both_ends_stay_whole_and_paired(tokenizer, label, text, marked):
    got = _decode(tokenizer, text, {label: [_at(text, marked)]}, [label])
    assert len(got) == 1
    span = got[0][1]
    assert marked.strip('"“”') in span and span.count('"') % 2 == 0 and span.count("“") == span.count("”")
