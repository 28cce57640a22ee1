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
                    "text": "x" * 10,
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
    assert any(a == "Trump" and r in ("same surname", "shared surface form") for (a, _), r in found.items())
    assert not any(a == b for a, b in found)


def test_a_middle_name_is_a_merge_candidate_for_review(tmp_path: Path) -> None:
    """The guide writes people without middle names; articles do not always: proposed, never merged by itself."""
    scored = [
        {"doc_id": d, "sentence_id": 0, "start": 0, "end": 10, "text": "x" * 10, "section": "body",
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


def test_overrides_round_trip_into_compare_and_the_registry(scores: Path, tmp_path: Path) -> None:
    review = review_actors(scores)
    path = write_overrides(review, tmp_path / "merges.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    donald = next(e for e in data["actors"] if e["name"] == "Donald Trump")
    assert donald["affiliation"] == "United States" and "Donald J Trump" in donald["aliases"]  # the registry entry kept
    ActorRegistry.load(path)  # a valid registry extension for `stance score --actors`
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
    with pytest.raises(ValueError, match="merged into both"):
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
