"""Converters for PolNeAR, Szeged (Wikipedia) and BABE, on small invented files in each dataset's format."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stance.labels.format import LabelRecord
from training.convert import babe, get_converter, polnear, szeged


def _spans(record: LabelRecord) -> list[tuple[str, str]]:
    return [(record.text[d.start : d.end], d.label) for d in record.devices]


def _round_trips(records: list[LabelRecord]) -> None:
    for r in records:
        for d in r.devices:
            assert 0 <= d.start < d.end <= len(r.text)
        again = LabelRecord.from_dict(r.to_dict())
        assert again == r
        assert again.meta == r.meta


# --------------------------------------------------------------------------- polnear

ARTICLE_A = (
    "Town council backs new park\n"
    "\n"
    "The council said the park would open soon. Residents are reportedly worried about the cost.\n"
    "Rumours swirled on Monday.\n"
    "Follow us on Chirper for updates.\n"
)
ARTICLE_B = "Library hours extended\n\nOfficials announced longer hours, a spokeswoman confirmed.\n"


def _off(text: str, span: str, after: int = 0) -> tuple[int, int]:
    start = text.index(span, after)
    return start, start + len(span)


def _t(ident: str, typ: str, text: str, *spans: str) -> str:
    frags = [_off(text, s) for s in spans]
    offsets = ";".join(f"{a} {b}" for a, b in frags)
    return f"{ident}\t{typ} {offsets}\t{' '.join(spans)}\n"


def _write_polnear(root: Path) -> Path:
    base = root / "polnear"
    for split in ("train", "dev"):
        (base / split / "text").mkdir(parents=True)
        (base / split / "attributions").mkdir(parents=True)
    (base / "metadata.tsv").write_text(
        "compartment\tfilename\tlevel\tannotators\tpublisher\tpublication_date\tauthor\ttitle\n"
        "train\tgazette_2016-01-01_town-council-backs\tNone\taaaa|bbbb\tgazette\t2016-01-01\tA. Writer\tTown\n"
        "dev\tcourier_2016-02-02_library-hours\tNone\tcccc\tcourier\t2016-02-02\tB. Writer\tLibrary\n",
        encoding="utf-8",
    )
    a = ARTICLE_A
    (base / "train/text/gazette_2016-01-01_town-council-backs.txt").write_text(a, encoding="utf-8")
    ann = (
        _t("T1", "Source", a, "The council")
        + _t("T2", "Cue", a, "said")
        + _t("T3", "Content", a, "the park would open soon")
        + _t("T4", "Attribution", a, "said")
        + "E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n"
        + "#1\tAnnotatorNotes T2\tinvented note\n"
        + _t("T5", "Cue", a, "reportedly")
        # a discontinuous span whose text field runs over several lines, as in the real files
        + "T6\tContent {} {};{} {}\tResidents are\n\nworried about the cost\n".format(
            *_off(a, "Residents are"), *_off(a, "worried about the cost")
        )
        + _t("T7", "Attribution-no-source", a, "reportedly")
        + _t("T10", "Content", a, "the cost")
        + "E2\tAttribution-no-source:T7 Cue:T5 Content:T6 Content2:T10\n"
        + _t("T8", "Attribution-no-source", a, "Rumours swirled")
        + "E3\tAttribution-no-source:T8\n"
        + _t("T9", "Discard", a, "Follow us on Chirper for updates.")
    )
    (base / "train/attributions/gazette_2016-01-01_town-council-backs_aaaa.ann").write_text(ann, encoding="utf-8")
    other = _t("T1", "Cue", a, "Town council backs") + _t("T2", "Attribution", a, "Town council backs")
    other += "E1\tAttribution:T2 Cue:T1\n"
    (base / "train/attributions/gazette_2016-01-01_town-council-backs_bbbb.ann").write_text(other, encoding="utf-8")
    b = ARTICLE_B
    (base / "dev/text/courier_2016-02-02_library-hours.txt").write_text(b, encoding="utf-8")
    ann_b = (
        _t("T1", "Source", b, "Officials")
        + _t("T2", "Cue", b, "announced")
        + _t("T3", "Content", b, "longer hours")
        + _t("T4", "Attribution", b, "announced")
        + "E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n"
        + _t("T5", "Source", b, "a spokeswoman")
        + _t("T6", "Cue", b, "confirmed")
        + _t("T7", "Attribution", b, "confirmed")
        + "E2\tAttribution:T7 Source:T5 Cue:T6\n"
    )
    (base / "dev/attributions/courier_2016-02-02_library-hours_cccc.ann").write_text(ann_b, encoding="utf-8")
    return base


def test_polnear_records(tmp_path: Path) -> None:
    _write_polnear(tmp_path)
    records = list(polnear.convert(tmp_path, "train"))
    _round_trips(records)
    assert [r.text for r in records] == [
        "Town council backs new park",
        "The council said the park would open soon.",
        "Residents are reportedly worried about the cost.",
        "Rumours swirled on Monday.",
    ]  # the Discard sentence is dropped; annotator bbbb's cue on the title is not used
    assert [_spans(r) for r in records] == [
        [],
        [("said", "cue")],
        [("reportedly", "cue"), ("reportedly", "cue_no_source")],
        [("Rumours swirled", "cue"), ("Rumours swirled", "cue_no_source")],  # event without a Cue: its trigger
    ]
    for r in records:
        assert r.source == "polnear"
        assert r.doc_id == "gazette_2016-01-01_town-council-backs"
        assert r.device_labels == ("cue", "cue_no_source")
        assert r.meta == {"outlet": "gazette", "annotator": "aaaa"}


def test_polnear_dev_and_get_converter(tmp_path: Path) -> None:
    _write_polnear(tmp_path)
    records = list(get_converter("polnear")(tmp_path, "dev"))
    assert [r.meta["outlet"] for r in records] == ["courier", "courier"]
    assert _spans(records[1]) == [("announced", "cue"), ("confirmed", "cue")]
    assert {r.doc_id for r in records} == {"courier_2016-02-02_library-hours"}


def test_polnear_sentences() -> None:
    text = "A title\n\n  He said it. She did not.\n"
    assert [text[s:e] for s, e in polnear.split_sentences(text)] == ["A title", "He said it.", "She did not."]
    # a span over a sentence boundary joins the sentences
    assert polnear._merge_across([(0, 5), (6, 10), (11, 15)], [(4, 8, "cue")]) == [(0, 10), (11, 15)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T1\tCue 5 x\tsaid\n", "bad offsets"),
        ("T1\tCue 5 9999\tsaid\n", "out of range"),
        ("T1\tQuote 0 4\tTown\n", "unknown span type"),
        ("E1\tAttribution:T99 Cue:T98\n", "unknown span T99"),
        ("E1\tAttribution:T1 Speaker:T1\n", "unknown event role"),
        ("stray text before any span\n", "unexpected line"),
    ],
)
def test_polnear_malformed(tmp_path: Path, line: str, message: str) -> None:
    base = _write_polnear(tmp_path)
    bad = base / "train/attributions/gazette_2016-01-01_town-council-backs_aaaa.ann"
    bad.write_text(line if line.startswith(("E", "stray")) else line + "T2\tCue 0 4\tTown\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        list(polnear.convert(tmp_path, "train"))
    assert f"{bad.name}:1" in str(err.value)


def test_polnear_missing_files(tmp_path: Path) -> None:
    base = _write_polnear(tmp_path)
    (base / "dev/attributions/courier_2016-02-02_library-hours_cccc.ann").unlink()
    with pytest.raises(ValueError, match="courier_2016-02-02_library-hours.txt"):
        list(polnear.convert(tmp_path, "dev"))
    with pytest.raises(ValueError, match="splits"):
        list(polnear.convert(tmp_path, "test"))


# --------------------------------------------------------------------------- szeged

SZEGED_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
    '<!DOCTYPE Annotation PUBLIC "-//Uncertainty//DTD  SCOPE ANNOTATION 1.0//EN" "Uncertainty.dtd">\n'
    '<Annotation created="1/1/2011" creator="test"><DocumentSet>'
)
SZEGED_TAIL = "</DocumentSet></Annotation>\n"


def _szeged_doc(doc_id: str, i: int) -> str:
    return (
        '<Document type="Wikipedia_text_weasel">'
        f'<DocID type="WIKIPEDIA_ARTICLE_ID">{doc_id}</DocID>'
        f'<DocumentPart type="Title"><Sentence id="S{i}.1">Glass Harbour {i}</Sentence></DocumentPart>'
        '<DocumentPart type="Text">'
        f'<Sentence id="S{i}.2">The harbour <ccue type="speculation_modal_probable_">may</ccue> have been '
        f'built by <ccue type="speculation_hypo_doxastic _"> some believe</ccue> fishermen &amp; traders.</Sentence>'
        f'<Sentence id="S{i}.3">It was rebuilt in 1901.</Sentence>'
        "</DocumentPart></Document>"
    )


def _write_szeged(root: Path, docs: str) -> Path:
    path = root / "szeged" / "wiki.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SZEGED_HEAD + docs + SZEGED_TAIL, encoding="utf-8")
    return path


def test_szeged_records(tmp_path: Path) -> None:
    ids = [f"Glass Harbour _LRB2_{i}_RRB2__{100 + i}" for i in range(40)]
    extra = (
        '<Document type="Wikipedia_text_weasel"><DocID type="WIKIPEDIA_ARTICLE_ID">Lone Cue_7</DocID>'
        '<DocumentPart type="Text"><Sentence id="S99.1">Whether it <ccue type="speculation_hypo_investigation _">'
        "was tested</ccue> is unclear.</Sentence></DocumentPart></Document>"
    )
    _write_szeged(tmp_path, "".join(_szeged_doc(d, i) for i, d in enumerate(ids)) + extra)
    train = list(szeged.convert(tmp_path, "train"))
    dev = list(szeged.convert(tmp_path, "dev"))
    _round_trips(train + dev)
    assert len(train) + len(dev) == 40 * 3 + 1
    assert train and dev
    every = ("speculation_hypo_doxastic", "speculation_hypo_investigation", "speculation_modal_probable")
    for r in train + dev:
        assert r.device_labels == every  # all types of the file, whichever split the type occurs in
        assert r.source == "szeged"
    body = next(r for r in train + dev if r.meta["sentence_id"] == "S0.2")
    assert body.text == "The harbour may have been built by  some believe fishermen & traders."
    assert _spans(body) == [("may", "speculation_modal_probable"), ("some believe", "speculation_hypo_doxastic")]
    assert body.doc_id == ids[0] and body.meta["part"] == "Text"
    lone = next(r for r in train + dev if r.doc_id == "Lone Cue_7")
    assert _spans(lone) == [("was tested", "speculation_hypo_investigation")]
    # article-level, deterministic split
    train_docs, dev_docs = {r.doc_id for r in train}, {r.doc_id for r in dev}
    assert not train_docs & dev_docs
    assert all(szeged.split_of(d) == "dev" for d in dev_docs)
    assert [r.to_dict() for r in szeged.convert(tmp_path, "dev")] == [r.to_dict() for r in dev]


def test_szeged_normalise_and_split_of() -> None:
    assert szeged.normalise_type("speculation_hypo_doxastic _") == "speculation_hypo_doxastic"
    assert szeged.normalise_type(" speculation_modal_probable_ ") == "speculation_modal_probable"
    assert szeged.split_of("Some Article_1") == szeged.split_of("Some Article_1")
    shares = [szeged.split_of(f"Article_{i}") for i in range(2000)]
    assert 0.06 < shares.count("dev") / len(shares) < 0.14


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        ("<Document><DocID>A_1</DocID><DocumentPart><Sentence id='S1'>Broken", "not well-formed"),
        ("<Document><DocID>A_1</DocID><DocumentPart><Sentence id='S1'>x <b>y</b></Sentence>", "unexpected element"),
        ("<Document><DocID>A_1</DocID><DocumentPart><Sentence id='S1'>x <ccue>y</ccue></Sentence>", "without a type"),
        ("<Document><DocumentPart><Sentence id='S1'>x</Sentence>", "no DocID"),
    ],
)
def test_szeged_malformed(tmp_path: Path, docs: str, message: str) -> None:
    if "Broken" not in docs:
        docs += "</DocumentPart></Document>"
    _write_szeged(tmp_path, docs)
    with pytest.raises(ValueError, match=message) as err:
        list(szeged.convert(tmp_path, "train"))
    assert "wiki.xml" in str(err.value)


# --------------------------------------------------------------------------- babe

BABE_COLUMNS = ["text", "news_link", "outlet", "topic", "type", "label_bias", "label_opinion", "biased_words"]


def _babe_rows() -> list[list[str]]:
    rows = [
        [
            'The radical plan, radically "reformed", was Radical.',
            "https://news.example/a/0",
            "Daily Example",
            "parks",
            "left",
            "Biased",
            "Expresses writer’s opinion",
            "['radical']",
        ],
        [
            'Critics called it a "token gesture" and Smith’s folly.',
            "https://news.example/a/0",
            "Daily Example",
            "parks",
            "left",
            "Biased",
            "Somewhat factual but also opinionated",
            "['\"token', 'gesture\"', \"Smith's\", 'misspeled']",
        ],
        ["The park opens on Monday.\n", "", "Wire", "parks", "center", "Non-biased", "Entirely factual", "[]"],
    ]
    for i in range(1, 40):
        link = f"https://news.example/b/{i}"
        for j in range(2):
            rows.append([f"Story {i} line {j} was shameful.", link, "Wire", "t", "center", "Biased", "x", "['shameful']"])
    return rows


def _write_babe(root: Path, rows: list[list[str]], *, delimiter: str = ";") -> Path:
    path = root / "babe" / "final_labels_SG2.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(BABE_COLUMNS)
        writer.writerows(rows)
    return path


def test_babe_records(tmp_path: Path) -> None:
    _write_babe(tmp_path, _babe_rows())
    records = list(babe.convert(tmp_path, "train")) + list(babe.convert(tmp_path, "dev"))
    _round_trips(records)
    assert len(records) == 3 + 39 * 2
    by_text = {r.text: r for r in records}
    first = by_text['The radical plan, radically "reformed", was Radical.']
    assert _spans(first) == [("radical", "biased_word"), ("Radical", "biased_word")]  # not "radically"
    assert first.meta == {"outlet": "Daily Example", "label_bias": "Biased"}
    assert first.doc_id == "https://news.example/a/0"
    second = by_text['Critics called it a "token gesture" and Smith’s folly.']
    assert _spans(second) == [("token gesture", "biased_word"), ("Smith’s", "biased_word")]
    plain = by_text["The park opens on Monday."]
    assert plain.devices == () and plain.device_labels == ("biased_word",)
    assert plain.doc_id.startswith("sha1:") and plain.meta["label_bias"] == "Non-biased"
    for r in records:
        assert r.source == "babe" and r.device_labels == ("biased_word",)


def test_babe_split_is_by_article_and_deterministic(tmp_path: Path) -> None:
    _write_babe(tmp_path, _babe_rows())
    train = list(babe.convert(tmp_path, "train"))
    dev = list(babe.convert(tmp_path, "dev"))
    assert train and dev
    assert not {r.doc_id for r in train} & {r.doc_id for r in dev}
    assert [r.to_dict() for r in babe.convert(tmp_path, "dev")] == [r.to_dict() for r in dev]
    assert all(babe.split_of(r.doc_id) == "dev" for r in dev)


def test_babe_words() -> None:
    assert babe.clean_biased_words(['"experts"', '"gender', 'identity"', "radical", ""]) == [
        "experts",
        "gender identity",
        "radical",
    ]
    text = "So-called experts and so-called\nexperts."
    assert [text[s:e] for s, e in babe.find_words(text, ["so-called experts"])] == [
        "So-called experts",
        "so-called\nexperts",
    ]
    with pytest.raises(ValueError, match="list literal"):
        babe.parse_biased_words("__import__('os').getcwd()")
    with pytest.raises(ValueError, match="list of strings"):
        babe.parse_biased_words("[1, 2]")


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (["Text.", "https://x.example/1", "X", "t", "left", "Biased", "x", "['unclosed"], "list literal"),
        (["Text.", "https://x.example/1", "X", "t", "left", "Maybe", "x", "[]"], "label_bias"),
        (["", "https://x.example/1", "X", "t", "left", "Biased", "x", "[]"], "empty text"),
        (["Text.", "https://x.example/1", "X"], "too few fields"),
    ],
)
def test_babe_malformed_row(tmp_path: Path, bad_row: list[str], message: str) -> None:
    rows = _babe_rows()[:2] + [bad_row]
    path = _write_babe(tmp_path, rows)
    with pytest.raises(ValueError, match=message) as err:
        list(babe.convert(tmp_path, "train"))
    # header on line 1, two good rows on lines 2-3, the bad row on line 4
    assert f"{path}:4" in str(err.value)


def test_babe_wrong_delimiter(tmp_path: Path) -> None:
    path = _write_babe(tmp_path, _babe_rows()[:2], delimiter=",")
    with pytest.raises(ValueError, match="missing columns") as err:
        list(babe.convert(tmp_path, "train"))
    assert str(path) in str(err.value)
    with pytest.raises(ValueError, match="splits"):
        list(babe.convert(tmp_path, "test"))
