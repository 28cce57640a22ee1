"""`stance actors`: the actor table of scored articles, merge proposals, and the actor file they become
(read back by `stance score --actors` as registry entries and by `stance compare --actors` as merges).
The scored rows are written here by hand; no model is run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from stance.analysis.actor_table import merge_map, review_actors, write_overrides
from stance.analysis.compare import compare_scores
from stance.cli.main import app
from stance.pipeline.actor_registry import ActorRegistry
from stance.pipeline.actors import ActorFinder


def mention(actor: str, text: str, kind: str = "person", stance: str = "neutral", resolution: str = "name") -> dict:
    return {
        "actor": actor,
        "type": kind,
        "text": text,
        "start": 0,
        "end": len(text),
        "stance": stance,
        "probs": None,
        "resolution": resolution,
    }


def rows() -> list[dict]:
    """Four articles from two outlets naming the same people under several names."""
    out = []
    spec = [
        ("a1", "Herald", [mention("Donald Trump", "Donald Trump"), mention("Trump", "Trump", resolution="ambiguous")]),
        (
            "a2",
            "Herald",
            [
                mention("Donald Trump", "Trump", stance="negative"),
                mention("Environmental Protection Agency", "EPA", "organisation"),
            ],
        ),
        ("a3", "Ledger", [mention("EPA", "EPA", "organisation"), mention("Donald J Trump", "Donald J Trump", stance="positive")]),
        (
            "a4",
            "Ledger",
            [
                mention("Environmental Protection Agency", "Environmental Protection Agency", "organisation"),
                mention("Trump", "Trump", stance="negative", resolution="ambiguous"),
            ],
        ),
    ]
    for doc, outlet, ms in spec:
        for k, m in enumerate(ms):
            out.append(
                {
                    "doc_id": doc,
                    "sentence_id": k,
                    "start": 0,
                    "end": 10,
                    "text": f"{doc} {k} {m['text']}",  # each sentence its own text (repeated text is page furniture)
                    "section": "body",
                    "boilerplate": False,
                    "mentions": [m],
                    "devices": [],
                    "outlet": outlet,
                }
            )
    return out


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows()), encoding="utf-8")
    return path


def test_table_counts_forms_and_ambiguity(scores: Path) -> None:
    review = review_actors(scores)
    table = review.actors.set_index("actor")
    assert table.loc["Donald Trump", "n_mentions"] == 2 and table.loc["Donald Trump", "n_articles"] == 2
    assert table.loc["Donald Trump", "surface_forms"] in ("Donald Trump ×1; Trump ×1", "Trump ×1; Donald Trump ×1")
    assert table.loc["Trump", "n_ambiguous"] == 2
    assert list(review.actors.columns) == [
        "actor",
        "type",
        "n_mentions",
        "n_articles",
        "n_ambiguous",
        "surface_forms",
        "merge_candidates",
    ]


def test_merge_candidates_and_reasons(scores: Path) -> None:
    merges = review_actors(scores).merges
    found = {(a, b): r for a, b, r in zip(merges["actor"], merges["merge_into"], merges["reason"], strict=True)}
    assert found[("EPA", "Environmental Protection Agency")] == "shared surface form"
    assert ("Donald J Trump", "Donald Trump") in found  # near-identical names
    assert not any(a == "Trump" for a, _ in found)  # its mentions are ambiguous: not proposed into one bearer
    assert not any(a == b for a, b in found)


def test_a_middle_name_is_a_merge_candidate_for_review(tmp_path: Path) -> None:
    """The guide writes people without middle names; articles do not always: proposed, never merged by itself."""
    scored = [
        {"doc_id": d, "sentence_id": 0, "start": 0, "end": 10, "text": f"{d} {actor}", "section": "body",
         "boilerplate": False, "mentions": [mention(actor, actor)], "devices": [], "outlet": "Herald"}
        for d, actor in [("a1", "Lee Harvey Oswald"), ("a2", "Lee Oswald"), ("a3", "Lee Oswald"), ("a4", "Lee Smith")]
    ]  # fmt: skip
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in scored), encoding="utf-8")
    review = review_actors(path)
    merges = review.merges
    found = {(a, b): r for a, b, r in zip(merges["actor"], merges["merge_into"], merges["reason"], strict=True)}
    assert found == {("Lee Harvey Oswald", "Lee Oswald"): "same first and last name"}
    assert set(review.actors["actor"]) == {"Lee Harvey Oswald", "Lee Oswald", "Lee Smith"}  # nothing merged unasked


def test_merge_candidates_are_listed_apart_from_names_with_commas(tmp_path: Path) -> None:
    """Two candidates for one actor, one name holding a comma: the list splits back into the two names."""
    scored = [
        {"doc_id": d, "sentence_id": 0, "start": 0, "end": 10, "text": f"{d} {text}", "section": "body",
         "boilerplate": False, "mentions": [mention(actor, text, "organisation")], "devices": [], "outlet": "Herald"}
        for d, actor, text in [("a1", "Smith, Barney & Co.", "Smith, Barney & Co."), ("a2", "Smith, Barney & Co.", "Smith"),
                               ("a3", "Smith, Barney & Co.", "Smith Barney"), ("a4", "Smith", "Smith"),
                               ("a5", "Smith Barney", "Smith Barney")]
    ]  # fmt: skip
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in scored), encoding="utf-8")
    table = review_actors(path).actors.set_index("actor")
    partners = {a: set(c.split("; ")) - {""} for a, c in table["merge_candidates"].items()}
    assert any(len(p) >= 2 for p in partners.values()), partners
    assert all(p <= set(table.index) for p in partners.values()), "each candidate is an actor's whole name"


def test_overrides_round_trip_into_compare_and_the_registry(scores: Path, tmp_path: Path) -> None:
    review = review_actors(scores)
    path = write_overrides(review, tmp_path / "merges.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {"name": "Donald Trump", "aliases": ["Donald J Trump"]} in data["merges"]  # only the reviewed merge
    donald = ActorRegistry.load(path)["Donald Trump"]  # `stance score --actors`: the registry entry gains the name
    assert donald.affiliation == "United States" and {"Trump", "Donald J Trump"} <= set(donald.aliases)
    mapping = merge_map([path])
    assert mapping["EPA"] == "Environmental Protection Agency" and mapping["Donald J Trump"] == "Donald Trump"
    before = compare_scores(scores, "outlet", method="cc", bootstrap=200, differences=False, examples=0)
    after = compare_scores(scores, "outlet", method="cc", bootstrap=200, differences=False, examples=0, merges=mapping)
    assert "EPA" in set(before.stance["actor"]) and "EPA" not in set(after.stance["actor"])
    assert any("merges" in note for note in after.notes)


def test_merge_map_refuses_a_name_merged_twice(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "actors:\n  - {name: A Corp, type: organisation, aliases: [AC]}\n  - {name: B Corp, type: organisation, aliases: [AC]}\n"
    )
    with pytest.raises(ValueError, match="'AC' already names 'A Corp'"):
        merge_map([path])


def test_cli_actors_table_csv_and_overrides(scores: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["actors", str(scores), "--csv", str(tmp_path / "a.csv"), "--overrides", str(tmp_path / "m.yaml"), "--top", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "merge candidates" in result.output and "5 actors" in result.output
    assert "Environmental Protection Agency" in result.output  # piped, the table is not wrapped at 80 columns
    assert (tmp_path / "a.csv").read_text(encoding="utf-8").startswith("actor,type,n_mentions")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(scores),
            "--out",
            str(out),
            "--method",
            "cc",
            "--bootstrap",
            "200",
            "--actors",
            str(tmp_path / "m.yaml"),
            "--min-mentions",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "EPA" not in set(__import__("pandas").read_csv(out / "stance.csv")["actor"])


def test_cli_actors_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["actors", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "error" in result.output


def scored(mentions: list[tuple[str, dict]]) -> list[dict]:
    """One scored row per (doc_id, mention), outlet Herald for doc ids ending in an odd digit, else Ledger."""
    return [
        {"doc_id": doc, "sentence_id": k, "start": 0, "end": 10, "text": f"{doc} {k}", "section": "body",
         "boilerplate": False, "mentions": [m], "devices": [], "outlet": "Herald" if int(doc[-1]) % 2 else "Ledger"}
        for k, (doc, m) in enumerate(mentions)
    ]  # fmt: skip


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_overrides_for_two_registry_people_with_one_surname_are_read_back(tmp_path: Path) -> None:
    # the audit: each registry target's aliases were copied into its entry, so "Clinton" went into both
    # Bill's and Hillary's, and `stance compare --actors` refused the file `stance actors` had written
    rows = scored(
        [("a1", mention("Bill Clinton", "Bill Clinton")), ("a2", mention("Bill Clinton", "Bill Clinton")),
         ("a3", mention("Bill Jefferson Clinton", "Bill Jefferson Clinton")),
         ("a4", mention("Hillary Clinton", "Hillary Clinton")), ("a5", mention("Hillary Clinton", "Hillary Clinton")),
         ("a6", mention("Hilary Clinton", "Hilary Clinton"))]
    )  # fmt: skip
    scores = write_rows(tmp_path / "scores.jsonl", rows)
    path = write_overrides(review_actors(scores), tmp_path / "merges.yaml")
    assert merge_map([path]) == {"Bill Jefferson Clinton": "Bill Clinton", "Hilary Clinton": "Hillary Clinton"}
    result = compare_scores(scores, "outlet", method="cc", bootstrap=100, differences=False, examples=0,
                            merges=merge_map([path]), min_mentions=1)  # fmt: skip
    assert set(result.stance["actor"]) == {"Bill Clinton", "Hillary Clinton"}


def test_the_actor_file_holds_only_the_reviewed_merges_and_counts_as_rescoring_does(tmp_path: Path) -> None:
    # the audit: a party's entry carried its members, so compare folded "Republicans" (scored with
    # --party-members separate) back into the party, and registry aliases the reviewer never saw were merged
    rows = scored(
        [("a1", mention("Republican Party", "GOP", "organisation")),
         ("a2", mention("Republican Party", "Republican Party", "organisation")),
         ("a3", mention("Republican party", "Republican party", "organisation")),
         ("a4", mention("Republicans", "Republicans", "group")),
         ("a5", mention("Clinton", "Clinton", resolution="ambiguous")),
         ("a6", mention("Hillary Clinton", "Hillary Clinton"))]
    )  # fmt: skip
    path = write_overrides(review_actors(write_rows(tmp_path / "scores.jsonl", rows)), tmp_path / "merges.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data == {"merges": [{"name": "Republican Party", "aliases": ["Republican party"]}]}
    assert merge_map([path]) == {"Republican party": "Republican Party"}  # not "Republicans", not "GOP", not "Clinton"
    # a hand-written file in the registry's shape: what rescoring gives is what compare applies
    hand = tmp_path / "hand.yaml"
    hand.write_text(
        "actors:\n"
        "  - {name: Bill Clinton, type: person, aliases: [Clinton, William Jefferson Clinton]}\n"
        "  - {name: Hillary Clinton, type: person, aliases: [Clinton]}\n"
        "  - {name: Republican Party, type: organisation, aliases: [GOP], members: [Republicans]}\n"
        "merges:\n"
        "  - {name: Oksana Dovzhenko, type: person, aliases: [Dovzhenko]}\n",
        encoding="utf-8",
    )
    mapping = merge_map([hand])
    finder = ActorFinder(ActorRegistry.load(hand), use_ner=False)
    for name in ("Clinton", "Dovzhenko", "GOP"):
        assert mapping.get(name, name) == finder.find(f"{name} spoke.")[0].actor, name
    assert "Republicans" not in mapping  # left to --party-members, as rescoring leaves it


def test_stance_actors_counts_a_file_given_twice_once(scores: Path) -> None:
    # the audit: `stance actors s.parquet s.parquet` doubled every count; compare counts duplicates once
    once, twice = review_actors(scores), review_actors([scores, scores])
    assert twice.actors.equals(once.actors) and twice.merges.equals(once.merges)
    assert twice.notes == ("8 duplicate sentences (same doc_id and sentence_id) were counted once",) and not once.notes
    result = CliRunner().invoke(app, ["actors", str(scores), str(scores)])
    assert result.exit_code == 0 and "8 duplicate sentences" in result.output


def test_an_ambiguous_surname_is_not_proposed_into_one_bearer(tmp_path: Path) -> None:
    # the audit: "Clinton", left ambiguous by the finder, was proposed into Hillary Clinton for her longer name
    rows = scored(
        [("a1", mention("Clinton", "Clinton", resolution="ambiguous")), ("a2", mention("Clinton", "Clinton", resolution="ambiguous")),
         ("a3", mention("Bill Clinton", "Bill Clinton")), ("a4", mention("Hillary Clinton", "Hillary Clinton")),
         ("a5", mention("Vostrikov", "Vostrikov", resolution="unresolved")),
         ("a6", mention("Nikolai Vostrikov", "Nikolai Vostrikov"))]
    )  # fmt: skip
    merges = review_actors(write_rows(tmp_path / "scores.jsonl", rows)).merges
    assert list(zip(merges["actor"], merges["merge_into"], strict=True)) == [("Vostrikov", "Nikolai Vostrikov")]
