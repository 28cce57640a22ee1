"""Tests for stance.pipeline.sentences and stance.pipeline.boilerplate: the news sentence splitter, its boilerplate
rules and the spaCy alternative."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from stance.pipeline.boilerplate import is_boilerplate_line
from stance.pipeline.sentences import (
    DEFAULT_SPLITTER,
    SPLITTERS,
    NewsSentenceSplitter,
    Sentence,
    SentenceSplitter,
    SpacySentenceSplitter,
    get_splitter,
    splitter_choices,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles.jsonl"


@pytest.fixture(scope="module")
def splitter() -> NewsSentenceSplitter:
    return NewsSentenceSplitter()


def texts(sentences: list[Sentence]) -> list[str]:
    return [s.text for s in sentences]


def story(sentences: list[Sentence]) -> list[str]:
    return [s.text for s in sentences if not s.boilerplate]


def check_offsets(article: str, sentences: list[Sentence]) -> None:
    previous_end = 0
    for s in sentences:
        assert article[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end


# --------------------------------------------------------------------------------------------
# Abbreviations, decimals, ellipses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "U.S. and U.K. officials met Mr. Li and Mrs. Okafor. Dr. Weber was absent.",
            ["U.S. and U.K. officials met Mr. Li and Mrs. Okafor.", "Dr. Weber was absent."],
        ),
        (
            "Gen. Milley briefed Sen. Warren, Rep. Jones and Gov. Newsom. Lt. Col. Berg listened.",
            ["Gen. Milley briefed Sen. Warren, Rep. Jones and Gov. Newsom.", "Lt. Col. Berg listened."],
        ),
        (
            "The talks ran from Jan. 5 to Feb. 2, then Aug. 1 and Sept. 30. They failed.",
            ["The talks ran from Jan. 5 to Feb. 2, then Aug. 1 and Sept. 30.", "They failed."],
        ),
        (
            "He lives at No. 10 on St. James Street. No. 10 declined to comment.",
            ["He lives at No. 10 on St. James Street.", "No. 10 declined to comment."],
        ),
        (
            "Acme Inc., Globex Corp. and Initech Ltd. bid. All lost.",
            ["Acme Inc., Globex Corp. and Initech Ltd. bid.", "All lost."],
        ),
        (
            "The vote opened at 7 a.m. and closed at 8 p.m. local time. Turnout was low.",
            ["The vote opened at 7 a.m. and closed at 8 p.m. local time.", "Turnout was low."],
        ),
        (
            "George W. Bush met John F. Kennedy Jr. in a dream. It was odd.",
            ["George W. Bush met John F. Kennedy Jr. in a dream.", "It was odd."],
        ),
        (
            "Capt. Ruiz and Maj. Chen spoke to Amb. Patel. The Dept. of State agreed.",
            ["Capt. Ruiz and Maj. Chen spoke to Amb. Patel.", "The Dept. of State agreed."],
        ),
    ],
)
def test_abbreviations_do_not_end_sentences(splitter: NewsSentenceSplitter, text: str, expected: list[str]) -> None:
    assert texts(splitter.split(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He moved to the U.S. The talks went on.", ["He moved to the U.S.", "The talks went on."]),
        ("The deal closed at 5 p.m. It was late.", ["The deal closed at 5 p.m.", "It was late."]),
        (
            "Shares of Acme Inc. fell. Acme Inc. The company said nothing.",
            ["Shares of Acme Inc. fell.", "Acme Inc.", "The company said nothing."],
        ),
        (
            "They met in Washington, D.C. Officials were pleased.",
            ["They met in Washington, D.C.", "Officials were pleased."],
        ),
    ],
)
def test_sentence_final_abbreviation_before_a_sentence_starter(
    splitter: NewsSentenceSplitter, text: str, expected: list[str]
) -> None:
    assert texts(splitter.split(text)) == expected


def test_decimals_and_numbers(splitter: NewsSentenceSplitter) -> None:
    text = "The EU imposed tariffs of up to 35.3% on $3.5 billion of cars. Growth was 0.4 percent."
    assert texts(splitter.split(text)) == [
        "The EU imposed tariffs of up to 35.3% on $3.5 billion of cars.",
        "Growth was 0.4 percent.",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The talks were... constructive, he said.", ["The talks were... constructive, he said."]),
        ("The talks were … constructive, he said.", ["The talks were … constructive, he said."]),
        ("He paused... Then he left.", ["He paused...", "Then he left."]),
        ("He paused … The room fell silent.", ["He paused …", "The room fell silent."]),
        ('"We will … prevail," he said.', ['"We will … prevail," he said.']),
    ],
)
def test_ellipses(splitter: NewsSentenceSplitter, text: str, expected: list[str]) -> None:
    assert texts(splitter.split(text)) == expected


def test_other_punctuation(splitter: NewsSentenceSplitter) -> None:
    text = "Will Moscow respond? Analysts doubt it! Is this the end?! Maybe. (The ministry declined to comment.) Fine."
    assert texts(splitter.split(text)) == [
        "Will Moscow respond?",
        "Analysts doubt it!",
        "Is this the end?!",
        "Maybe.",
        "(The ministry declined to comment.)",
        "Fine.",
    ]


# --------------------------------------------------------------------------------------------
# Quotations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '"We will not yield. We will prevail," he said. Then he left.',
            ['"We will not yield. We will prevail," he said.', "Then he left."],
        ),
        (
            '"We will not yield. We will prevail," Russian President Vladimir Putin said on Tuesday.',
            ['"We will not yield. We will prevail," Russian President Vladimir Putin said on Tuesday.'],
        ),
        (
            "“This was not an accident. It was a provocation,” said Foreign Minister Margus Tsahkna. “Never.”",
            [
                "“This was not an accident. It was a provocation,” said Foreign Minister Margus Tsahkna.",
                "“Never.”",
            ],
        ),
        (
            "‘It is over. Truly over,’ the minister said. Nobody replied.",
            ["‘It is over. Truly over,’ the minister said.", "Nobody replied."],
        ),
        (
            "'It is over. Truly over,' the minister said. Nobody replied.",
            ["'It is over. Truly over,' the minister said.", "Nobody replied."],
        ),
        (
            '"Why now? Why here?" she asked. Nobody knew.',
            ['"Why now? Why here?" she asked.', "Nobody knew."],
        ),
        (
            "“Why now?” Chinese Foreign Minister Wang Yi asked. Nobody knew.",
            ["“Why now?” Chinese Foreign Minister Wang Yi asked.", "Nobody knew."],
        ),
        (
            '"We want trade. We want it fair", von der Leyen said.',
            ['"We want trade. We want it fair", von der Leyen said.'],
        ),
        (
            "“He told me, ‘We will win. Trust me,’ and left,” she said. Then silence.",
            ["“He told me, ‘We will win. Trust me,’ and left,” she said.", "Then silence."],
        ),
    ],
)
def test_quotation_with_attribution_is_one_sentence(splitter: NewsSentenceSplitter, text: str, expected: list[str]) -> None:
    assert texts(splitter.split(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # the quotation ends the sentence: split after the closing quote, not before it
        (
            'He called it a "navigational error." Few believe it.',
            ['He called it a "navigational error."', "Few believe it."],
        ),
        (
            "Kallas called it “unacceptable.” Kallas said more.",
            ["Kallas called it “unacceptable.”", "Kallas said more."],
        ),
        # an opening quote goes with the sentence it opens
        ('He left. "We will win," she said.', ["He left.", '"We will win," she said.']),
        ("He left. “We will win,” she said.", ["He left.", "“We will win,” she said."]),
        # attribution first: the quotation's own sentences stay split
        ('He said: "We are ready. We will win."', ['He said: "We are ready.', 'We will win."']),
        # apostrophes and scare quotes
        (
            "Putin’s aide spoke. The protesters’ demands grew. It’s over.",
            ["Putin’s aide spoke.", "The protesters’ demands grew.", "It’s over."],
        ),
        (
            "The so-called ‘referendum’ was a sham. Critics agree.",
            ["The so-called ‘referendum’ was a sham.", "Critics agree."],
        ),
    ],
)
def test_quotations_that_end_or_do_not_continue(splitter: NewsSentenceSplitter, text: str, expected: list[str]) -> None:
    assert texts(splitter.split(text)) == expected


def test_boundary_before_lower_case_is_dropped(splitter: NewsSentenceSplitter) -> None:
    assert texts(splitter.split('"Is this the end?" asked one diplomat. Nobody knew.')) == [
        '"Is this the end?" asked one diplomat.',
        "Nobody knew.",
    ]


def test_quote_open_across_paragraphs_does_not_merge_them(splitter: NewsSentenceSplitter) -> None:
    text = '"We will not yield. We will prevail.\n\n"And we will win," he said.'
    assert texts(splitter.split(text)) == ['"We will not yield.', "We will prevail.", '"And we will win," he said.']


# --------------------------------------------------------------------------------------------
# Datelines
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, first",
    [
        (
            "MOSCOW (Reuters) - The Kremlin said on Tuesday it would respond. It did.",
            "MOSCOW (Reuters) - The Kremlin said on Tuesday it would respond.",
        ),
        (
            "ST. PETERSBURG, Russia (Reuters) — Officials met. Then more.",
            "ST. PETERSBURG, Russia (Reuters) — Officials met.",
        ),
        ("WASHINGTON, Jan. 5 (AP) — The U.S. said no. More.", "WASHINGTON, Jan. 5 (AP) — The U.S. said no."),
        (
            "KYIV, Ukraine, March 3 (Reuters) - A drone hit. Two died.",
            "KYIV, Ukraine, March 3 (Reuters) - A drone hit.",
        ),
        ("Kyiv (Reuters) - A drone hit. Two died.", "Kyiv (Reuters) - A drone hit."),
        ("BEIJING — China said it would respond. It did.", "BEIJING — China said it would respond."),
        (
            "UNITED NATIONS (CDW) - The U.N. Security Council voted. Russia abstained.",
            "UNITED NATIONS (CDW) - The U.N. Security Council voted.",
        ),
    ],
)
def test_dateline_stays_with_first_sentence(splitter: NewsSentenceSplitter, text: str, first: str) -> None:
    sentences = splitter.split(text)
    assert len(sentences) == 2
    assert sentences[0].text == first
    assert not sentences[0].boilerplate


def test_dateline_on_its_own_line_joins_the_next_sentence(splitter: NewsSentenceSplitter) -> None:
    text = "MOSCOW (Reuters) -\nThe Kremlin said it would respond. It did."
    sentences = splitter.split(text)
    assert texts(sentences) == ["MOSCOW (Reuters) -\nThe Kremlin said it would respond.", "It did."]
    check_offsets(text, sentences)


def test_dateline_alone(splitter: NewsSentenceSplitter) -> None:
    assert texts(splitter.split("MOSCOW (Reuters) -")) == ["MOSCOW (Reuters) -"]


# --------------------------------------------------------------------------------------------
# Lines and paragraphs
# --------------------------------------------------------------------------------------------


def test_newlines_always_end_sentences(splitter: NewsSentenceSplitter) -> None:
    text = "A line without a full stop\nAnother line, Mr.\nSmith said\r\nthe end\n\n\nLast paragraph. Two."
    sentences = splitter.split(text)
    assert texts(sentences) == [
        "A line without a full stop",
        "Another line, Mr.",
        "Smith said",
        "the end",
        "Last paragraph.",
        "Two.",
    ]
    check_offsets(text, sentences)


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\r\n \u2029 "])
def test_empty_or_whitespace_gives_nothing(splitter: NewsSentenceSplitter, text: str) -> None:
    assert splitter.split(text) == []


def test_offsets_with_surrounding_whitespace(splitter: NewsSentenceSplitter) -> None:
    text = "   \n  First one.   Second one.  \n\n\t Third one.\u00a0\n"
    sentences = splitter.split(text)
    assert texts(sentences) == ["First one.", "Second one.", "Third one."]
    check_offsets(text, sentences)


# --------------------------------------------------------------------------------------------
# Boilerplate
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "See also: Kremlin warns NATO over drills",
        "Read more: Why the Narva bridge matters",
        "READ MORE Narva, the city on Europe's front line",
        "Related: EU and China agree to keep talking",
        "Related coverage: Sudan's war in maps",
        "Jane Doe in Moscow contributed to this report.",
        "Anna Lindqvist contributed reporting.",
        "Reporting by Jane Doe; Editing by John Roe",
        "(Reporting by Jane Doe in Moscow; Writing by Mark Smith; Editing by Tom Hogue)",
        "Additional reporting by Liis Tamm",
        "With assistance from Anton Volkov.",
        "Share this article",
        "Share | Tweet | Email",
        "Sign up for our newsletter",
        "Sign up for our Europe Briefing newsletter to get the day's top stories.",
        "Subscribe now",
        "Follow us on Twitter",
        "Follow Jane Doe on X",
        "Interested in Donald Trump?",
        "You can also follow the show on Twitter.",
        "take our poll - story continues below",
        "2.3k SHARES Facebook Twitter",
        "Add Donald Trump as an interest to stay up to date on the latest Donald Trump news, video, and analysis from ABC News.",
        "Advertisement",
        "5 min read",
        "© 2025 The Harbour Ledger. All rights reserved.",
        "Photo: Reuters",
        "(Photo by Jane Doe/AFP)",
        "— With assistance from Anton Volkov and Liis Tamm",
        "Copyright 2025 Capital Daily Wire",
        "https://northernstar.example/world/europe",
        "By Jane Doe",
        "By JANE DOE and John Roe, Capital Daily Wire",
        "Updated 3:45 PM ET",
        "March 3, 2024",
        "Tuesday 4 March 2025 09.12 GMT",
        "Published: 12:01 a.m. EST, Mon March 3, 2025",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Related talks in Geneva failed.",
        "Shares in Gazprom fell 3% on Tuesday.",
        "Share prices fell.",
        "Follow the money, critics say.",
        "By Tuesday, the troops had withdrawn.",
        "Reporting by the BBC showed that the talks had stalled.",
        "Research by the Kiel Institute found that aid had fallen.",
        "With assistance from Iran, the rebels advanced.",
        "Copyright law in the EU is changing.",
        "Video by a bystander showed the helicopter.",
        "On March 3, the talks resumed.",
        "Watch the video of the talks.",
        "Critics say the so-called reform failed.",
        "MOSCOW (Reuters) -",
        "The Harbour Ledger",  # only above the story
        "Are you interested in politics?",
        "300 shares of the company were sold on Monday.",
        "Take our word for it, the senator said.",
        "Interested parties in Geneva met on Tuesday.",
    ],
)
def test_story_lines_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_header_zone(splitter: NewsSentenceSplitter) -> None:
    text = (
        "Northern Star Online\nWorld | Europe\nMarch 4, 2025\nBy Helen Barnes\nUpdated 3:45 PM ET\n\n"
        "Estonia protests Russian helicopter incursion\n\n"
        "TALLINN — Estonia accused Russia on Tuesday of violating its airspace. Moscow denied it.\n\n"
        "A short subhead\n\nMore story here.\n\nRead more: Narva, the city on Europe's front line\n"
        "Reporting by Liis Tamm; Editing by Sarah Whitfield"
    )
    sentences = splitter.split(text)
    check_offsets(text, sentences)
    assert [s.text for s in sentences if s.boilerplate] == [
        "Northern Star Online",
        "World | Europe",
        "March 4, 2025",
        "By Helen Barnes",
        "Updated 3:45 PM ET",
        "Estonia protests Russian helicopter incursion",
        "Read more: Narva, the city on Europe's front line",
        "Reporting by Liis Tamm; Editing by Sarah Whitfield",
    ]
    assert story(sentences) == [
        "TALLINN — Estonia accused Russia on Tuesday of violating its airspace.",
        "Moscow denied it.",
        "A short subhead",  # below the story's first line: kept
        "More story here.",
    ]


def test_repeated_headline_matches_title(splitter: NewsSentenceSplitter) -> None:
    title = "Kremlin’s helicopter stunt over Estonia is a test NATO cannot afford to fail, critics say."
    text = (
        "The story starts here. It goes on.\n"
        "Kremlin's Helicopter Stunt Over Estonia Is A Test NATO Cannot Afford To Fail, Critics Say\n"
        "It ends here."
    )
    sentences = splitter.split(text, title=title)
    assert [s.boilerplate for s in sentences] == [False, False, True, False]
    without_title = splitter.split(text)
    assert not any(s.boilerplate for s in without_title)


def test_headline_with_outlet_suffix(splitter: NewsSentenceSplitter) -> None:
    sentences = splitter.split(
        "Estonia protests incursion | Northern Star Online\nThe story.", title="Estonia protests incursion"
    )
    assert [s.boilerplate for s in sentences] == [True, False]


def test_short_text_without_story_below_is_not_lost(splitter: NewsSentenceSplitter) -> None:
    # header rules need a story below them: a bare headline-like text is kept as story
    assert [(s.text, s.boilerplate) for s in splitter.split("Putin slams NATO")] == [("Putin slams NATO", False)]
    assert [s.boilerplate for s in splitter.split("Putin slams NATO\nThe Kremlin said so.")] == [True, False]


def test_credit_sentence_inside_a_paragraph(splitter: NewsSentenceSplitter) -> None:
    text = "The war goes on, aid groups said. (Reporting by Jane Doe; Editing by John Roe)"
    sentences = splitter.split(text)
    assert [(s.text, s.boilerplate) for s in sentences] == [
        ("The war goes on, aid groups said.", False),
        ("(Reporting by Jane Doe; Editing by John Roe)", True),
    ]


def test_boilerplate_detection_can_be_switched_off() -> None:
    plain = NewsSentenceSplitter(detect_boilerplate=False)
    assert not any(s.boilerplate for s in plain.split("By Jane Doe\nRead more: X\nThe story."))


# --------------------------------------------------------------------------------------------
# Offsets, batching, input checks
# --------------------------------------------------------------------------------------------


def load_examples() -> list[dict[str, str]]:
    with EXAMPLES.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_examples_file() -> None:
    articles = load_examples()
    assert 6 <= len(articles) <= 9
    assert len({a["id"] for a in articles}) == len(articles)
    assert len({a["outlet"] for a in articles}) == 3
    for article in articles:
        assert set(article) >= {"id", "title", "outlet", "date", "url", "text"}


def test_examples_round_trip_and_sizes(splitter: NewsSentenceSplitter) -> None:
    for article in load_examples():
        sentences = splitter.split(article["text"], title=article["title"])
        check_offsets(article["text"], sentences)
        assert 8 <= len(story(sentences)) <= 20, article["id"]
        assert any(s.boilerplate for s in sentences), article["id"]
        # every non-blank character of the article is covered by some sentence
        covered = sum(len(s.text) for s in sentences)
        assert covered <= len(article["text"])
        gaps = "".join(article["text"][a.end : b.start] for a, b in zip(sentences, sentences[1:], strict=False))
        assert not gaps.strip()


def test_one_article_per_call_keeps_no_state(splitter: NewsSentenceSplitter) -> None:
    """The scorer splits article by article (``split(text, title=...)``): an article's sentences do
    not depend on which articles were split before it, nor on the splitter instance."""
    articles = load_examples()
    first = [splitter.split(a["text"], title=a["title"]) for a in articles]
    again = [NewsSentenceSplitter(batch_size=4).split(a["text"], title=a["title"]) for a in reversed(articles)]
    assert again[::-1] == first


@pytest.mark.parametrize("bad", [None, 3, b"bytes", ["a list"]])
def test_split_rejects_non_str(splitter: NewsSentenceSplitter, bad: object) -> None:
    with pytest.raises(ValueError, match="must be a str"):
        splitter.split(bad)  # type: ignore[arg-type]


def test_split_rejects_bad_title(splitter: NewsSentenceSplitter) -> None:
    with pytest.raises(ValueError, match="title"):
        splitter.split("Text.", title=3)  # type: ignore[arg-type]


def test_get_splitter() -> None:
    assert isinstance(get_splitter(), NewsSentenceSplitter)
    assert isinstance(get_splitter("news"), SentenceSplitter)
    with pytest.raises(ValueError, match="unknown splitter"):
        get_splitter("nltk")
    assert get_splitter(DEFAULT_SPLITTER).__class__ is NewsSentenceSplitter
    assert list(SPLITTERS) == ["news", "spacy", "spacy-parser", "sentencizer"]
    assert all(name == entry.name for name, entry in SPLITTERS.items())
    assert splitter_choices() == "news (default), spacy, spacy-parser or sentencizer"
    with pytest.raises(ValueError, match="batch_size"):
        NewsSentenceSplitter(batch_size=0)


def test_custom_splitter_needs_only_split() -> None:
    class Whole(SentenceSplitter):
        def split(self, text: str, title: str | None = None) -> list[Sentence]:
            stripped = text.strip()
            return [Sentence(text.index(stripped), text.index(stripped) + len(stripped), stripped)] if stripped else []

    assert [texts(Whole().split(t)) for t in ["a b", " c "]] == [["a b"], ["c"]]


def test_speed(splitter: NewsSentenceSplitter) -> None:
    """A loose floor (the target is >= 10,000 sentences/s; see the module docstring for measured numbers)."""
    articles = [a["text"] for a in load_examples()] * 40
    [splitter.split(text) for text in articles[:8]]
    start = time.perf_counter()
    count = sum(len(splitter.split(text)) for text in articles)
    rate = count / (time.perf_counter() - start)
    assert rate > 2_000, f"{rate:.0f} sentences/s"


# --------------------------------------------------------------------------------------------
# The spaCy alternative
# --------------------------------------------------------------------------------------------


def test_spacy_sentencizer_runs() -> None:
    spacy_splitter = get_splitter("sentencizer")
    text = 'By Jane Doe\n"We will not yield. We will prevail," he said.'
    sentences = spacy_splitter.split(text)
    check_offsets(text, sentences)
    # plain spaCy rules split inside the quotation; boilerplate is still flagged
    assert [(s.text, s.boilerplate) for s in sentences] == [
        ("By Jane Doe", True),
        ('"We will not yield.', False),
        ('We will prevail," he said.', False),
    ]


def _trained_splitter(mode: str) -> SpacySentenceSplitter:
    try:
        return SpacySentenceSplitter(mode=mode)
    except ValueError as error:  # no trained English pipeline installed
        pytest.skip(str(error))


@pytest.mark.parametrize("mode", ["senter", "parser"])
def test_spacy_trained_pipeline_runs(mode: str) -> None:
    spacy_splitter = _trained_splitter(mode)
    for article in load_examples()[:3]:
        sentences = spacy_splitter.split(article["text"], title=article["title"])
        check_offsets(article["text"], sentences)
        assert len(story(sentences)) >= 8
    assert texts(spacy_splitter.split("He left. She stayed.")) == ["He left.", "She stayed."]
    assert spacy_splitter.split("") == []


def test_spacy_splitter_checks_inputs() -> None:
    with pytest.raises(ValueError, match="mode"):
        SpacySentenceSplitter(mode="magic")
    with pytest.raises(ValueError, match="could not load"):
        SpacySentenceSplitter("no_such_pipeline_xyz")
    from spacy.lang.en import English

    with pytest.raises(ValueError, match="no senter, parser or sentencizer"):
        SpacySentenceSplitter(English())
    nlp = English()
    nlp.add_pipe("sentencizer")
    assert texts(SpacySentenceSplitter(nlp).split("One. Two.")) == ["One.", "Two."]


def test_text_longer_than_max_length_goes_line_by_line() -> None:
    from spacy.lang.en import English

    nlp = English()
    nlp.add_pipe("sentencizer")
    nlp.max_length = 40
    text = "First sentence here. Second one here.\nThird sentence here. Fourth one here."
    assert len(text) > nlp.max_length
    sentences = SpacySentenceSplitter(nlp).split(text)
    check_offsets(text, sentences)
    assert len(sentences) == 4


def test_a_sentence_repeated_down_the_page_is_boilerplate() -> None:
    poll = "Should Jim Acosta have gotten his press pass back?"
    text = f"The poll closed.\n\n{poll} {poll}\n\n{poll}\n\nShe said no. She said no."
    flags = [(s.text, s.boilerplate) for s in get_splitter("news").split(text)]
    assert flags.count((poll, True)) == 3
    assert ("She said no.", False) in flags  # twice, and short: story
    assert ("The poll closed.", False) in flags


def test_a_poll_widget_with_its_answers_and_form_is_boilerplate() -> None:
    # A real site's poll: the question three times, a starred list of answers (names the actor finder counted
    # as mentions), then the sign-up form's lines.
    question = "Whom do you consider to be the most corrupt politician?"
    text = (
        "Parents are worried.\ntake our poll - story continues below\n"
        + f"{question}\n" * 3
        + "* Jane Roe John Doe Mary Major\nEmail *\nPhone This field is for validation purposes and should be left unchanged.\n"
        "Completing this poll grants you access to Daily Widget updates free of charge.\nYou may opt out at anytime.\n"
        "You also agree to this site's Privacy Policy and Terms of Use.\nSchools are changing."
    )
    flags = {s.text: s.boilerplate for s in get_splitter("news").split(text)}
    assert flags["Parents are worried."] is False and flags["Schools are changing."] is False
    assert flags["* Jane Roe John Doe Mary Major"] is True
    assert all(flag for t, flag in flags.items() if t not in ("Parents are worried.", "Schools are changing."))
    # a starred line that follows no repeated question is story
    assert not get_splitter("news").split("Key points:\n* Jane Roe won the vote")[1].boilerplate
