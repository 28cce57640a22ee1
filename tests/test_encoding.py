import numpy as np

from stance.model.encoding import BEGIN, IGNORE, INSIDE, NO_OFFSET, OUTSIDE, decode_spans, device_tags, encode_batch


def test_markers_wrap_each_target_and_keep_offsets(tokenizer):
    text = "Sergei Lavrov met Wang Yi in Beijing."
    [enc] = encode_batch(tokenizer, [text], [[(0, 13), (18, 25), (0, 13)]])
    tokens = tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert len(enc.target_spans) == 2  # the repeated span is marked once
    assert enc.target_slots == [0, 1, 0]
    for (s, e), (open_pos, close_pos) in zip(enc.target_spans, enc.target_markers):
        assert tokens[open_pos] == "[TGT]" and tokens[close_pos] == "[/TGT]"
        inner = [enc.offsets[i] for i in range(open_pos + 1, close_pos)]
        assert inner[0][0] == s and inner[-1][1] == e
    for token, (a, b) in zip(tokens, enc.offsets):
        if (a, b) != NO_OFFSET:
            assert text[a:b].lower() == token.removeprefix("##")


def test_truncation_drops_targets_past_the_cut(tokenizer):
    text = " ".join(["word"] * 100) + " Putin"
    [enc] = encode_batch(tokenizer, [text], [[(len(text) - 5, len(text))]], max_length=32)
    assert enc.truncated and len(enc.input_ids) == 32
    assert enc.target_slots == [None]


def test_device_tags_align_subwords_and_ignore_special(tokenizer):
    text = "They denounced the unprecedentedly draconian rules."
    start = text.index("unprecedentedly draconian")
    [enc] = encode_batch(tokenizer, [text])
    tags = device_tags(
        enc,
        [(start, start + len("unprecedentedly draconian"), "loaded_language")],
        {"loaded_language": 0, "x": 1},
        ["loaded_language"],
    )
    assert tags[0, 0] == IGNORE and tags[-1, 0] == IGNORE
    assert (tags[:, 1] == IGNORE).all()  # label not annotated on this sentence
    inside = [i for i, t in enumerate(tags[:, 0]) if t in (BEGIN, INSIDE)]
    assert tags[inside[0], 0] == BEGIN and all(tags[i, 0] == INSIDE for i in inside[1:])
    assert len(inside) > 2  # several sub-words
    assert enc.offsets[inside[0]][0] == start and enc.offsets[inside[-1]][1] == start + len("unprecedentedly draconian")


def test_decode_recovers_character_spans(tokenizer):
    text = 'Officials defended the "temporary" curfew; critics say it is permanent.'
    spans = [(23, 34, "scare_quotes"), (43, 54, "unsourced_claim")]
    labels = ["scare_quotes", "unsourced_claim"]
    [enc] = encode_batch(tokenizer, [text])
    tags = device_tags(enc, spans, {k: i for i, k in enumerate(labels)}, labels)
    probs = np.zeros(tags.shape + (3,))
    for i in range(tags.shape[0]):
        for j in range(tags.shape[1]):
            probs[i, j, tags[i, j] if tags[i, j] != IGNORE else OUTSIDE] = 1.0
    decoded = decode_spans(probs, enc.offsets, labels)
    assert [(s, e, lab) for s, e, lab, _ in decoded] == spans
    assert text[23:34] == '"temporary"'


def test_decode_widens_spans_to_whole_words(tokenizer):
    text = "They denounced the unprecedentedly draconian rules."
    [enc] = encode_batch(tokenizer, [text])
    start = text.index("unprecedentedly")
    inside = [i for i, (a, b) in enumerate(enc.offsets) if a >= start and b <= start + len("unprecedentedly")]
    assert len(inside) >= 2
    probs = np.zeros((len(enc.input_ids), 1, 3))
    probs[:, 0, OUTSIDE] = 1.0
    probs[inside[-1], 0] = [0.0, 1.0, 0.0]  # only the last sub-word is tagged
    [(s, e, _, _)] = decode_spans(probs, enc.offsets, ["loaded_language"], text=text)
    assert text[s:e] == "unprecedentedly"
    [(s, e, _, _)] = decode_spans(probs, enc.offsets, ["loaded_language"])
    assert text[s:e] != "unprecedentedly"


def test_target_windows_fit_and_keep_the_target(tokenizer):
    from stance.model.encoding import target_windows

    text = (
        "In a long statement "
        + " ".join(["that went on and on about many things"] * 40)
        + ", officials said Russia was to blame."
    )
    start = text.index("Russia")
    [(a, b)] = target_windows(tokenizer, [text], [(start, start + 6)], max_length=64)
    assert a <= start and start + 6 <= b
    [enc] = encode_batch(tokenizer, [text[a:b]], [[(start - a, start - a + 6)]], max_length=64)
    assert enc.target_slots == [0] and not enc.truncated
    assert text[a:b][start - a : start - a + 6] == "Russia"
    assert a == 0 or not text[a - 1].isalnum()  # starts at a word boundary


def test_target_windows_tokenise_each_sentence_once(tokenizer, monkeypatch):
    """A run-on "sentence" with thousands of targets once took 15 GB: it was tokenised once per target."""
    from stance.model.encoding import target_windows
    from stance.model.subwords import SubwordTokenizer

    subwords = SubwordTokenizer.of(tokenizer)
    seen: list[int] = []
    encode = SubwordTokenizer.encode
    monkeypatch.setattr(SubwordTokenizer, "encode", lambda self, texts: seen.append(len(texts)) or encode(self, texts))
    text = "Biden spoke about Russia and China at length without stopping " * 60
    spans = [(m, m + 6) for m in range(len(text)) if text.startswith("Russia", m)]
    windows = target_windows(subwords, [text] * len(spans), spans, max_length=64)
    assert seen == [1] and len(windows) == 60
    assert all(a <= s and e <= b and b - a < 400 for (a, b), (s, e) in zip(windows, spans))


def test_decode_never_reports_one_device_twice_over_the_same_characters():
    # two runs inside one word ("bbbbccee"), each widened to the whole word, used to be two overlapping spans
    text = "aa bbbbccee ff"
    offsets = [NO_OFFSET, (0, 2), (3, 5), (5, 7), (7, 9), (9, 11), (12, 14), NO_OFFSET]
    p_inside = [0.0, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.0]
    probs = np.zeros((len(offsets), 1, 3))
    probs[:, 0, INSIDE] = p_inside
    probs[:, 0, OUTSIDE] = 1 - np.array(p_inside)
    [(s, e, label, score)] = decode_spans(probs, offsets, ["loaded_language"], text=text)
    assert (s, e, label) == (0, 14, "loaded_language") and abs(score - 0.9) < 1e-6


def test_overlapping_training_spans_of_one_label_get_one_begin(tokenizer):
    text = "They called the plan a reckless and dangerous gamble by Moscow."
    [enc] = encode_batch(tokenizer, [text])
    outer = (text.index("a reckless"), text.index(" by Moscow"))
    inner = (text.index("dangerous"), text.index("dangerous") + len("dangerous"))
    tags = device_tags(
        enc, [(*outer, "loaded_language"), (*inner, "loaded_language")], {"loaded_language": 0}, ["loaded_language"]
    )
    inside = [t for t in tags[:, 0] if t in (BEGIN, INSIDE)]
    assert inside[0] == BEGIN and BEGIN not in inside[1:], "a B in mid-span split one span in two"
    alone = device_tags(enc, [(*outer, "loaded_language")], {"loaded_language": 0}, ["loaded_language"])
    assert (tags == alone).all()
