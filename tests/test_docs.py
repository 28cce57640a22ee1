"""README follows the registries: every backend, input suffix, splitter and compare method a registry
holds is named in README.md, so that adding one to a registry without documenting it fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance.analysis.measures import METHODS
from stance.io.formats import SUFFIXES
from stance.model.backends import BACKEND_REGISTRY
from stance.pipeline.sentences import SPLITTERS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "kind, names",
    [
        ("backend", sorted(BACKEND_REGISTRY)),
        ("input suffix", sorted(SUFFIXES)),
        ("sentence splitter", sorted(SPLITTERS)),
        ("compare method", sorted(METHODS)),
    ],
)
def test_every_registered_name_is_documented(kind: str, names: list[str]) -> None:
    missing = [name for name in names if f"`{name}`" not in README and f"`{name.lstrip('.')}`" not in README]
    assert missing == [], f"README.md does not name these ({kind}): {missing}"


def test_the_readme_example_row_is_what_the_shipped_model_gives():
    """The README's example row against the golden output of the shipped model (tests/golden, which
    test_golden.py checks against `stance score`): a new model that is not copied into the README fails here."""
    import json
    import re

    block = re.search(r"```json\n(\{\"doc_id\": \"cdw-estonia-helicopter\".*?)\n```", README, re.S)
    assert block, "the README's example row is missing"
    shown = json.loads(block.group(1))
    golden_file = Path(__file__).resolve().parent / "golden" / "examples.jsonl"
    golden = [json.loads(line) for line in golden_file.read_text(encoding="utf-8").splitlines()]
    [row] = [r for r in golden if (r["doc_id"], r["sentence_id"]) == (shown["doc_id"], shown["sentence_id"])]
    assert [(m["actor"], m["text"], m["stance"]) for m in shown["mentions"]] == [
        (m["actor"], m["text"], m["stance"]) for m in row["mentions"]
    ]
    for m_shown, m_gold in zip(shown["mentions"], row["mentions"]):
        assert all(abs(m_shown["probs"][k] - v) < 0.002 for k, v in m_gold["probs"].items()), (m_shown, m_gold)
    assert shown["devices"] == row["devices"]
