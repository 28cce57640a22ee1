"""Tests that load the shipped default model (marked `integration`)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from stance.labels.taxonomy import FIXED_DEVICES
from stance.model.modeling import StanceModel
from stance.run.local import score_collection
from stance.run.options import ScoreOptions

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "articles.jsonl"


@pytest.fixture(scope="module")
def model():
    return StanceModel.from_pretrained("default")


def test_labels_and_card(model):
    assert model.stance_labels == ["negative", "neutral", "positive"]
    assert set(FIXED_DEVICES) <= set(model.device_labels)
    assert "propaganda_span" not in model.device_labels
    card = (Path(model.network.config._name_or_path) / "README.md").read_text()
    assert "Training data" in card and "NewsMTSC" in card and "Confusion matrix" in card
    evaluation = model.evaluation()
    assert evaluation["datasets"]["newsmtsc:dev_rw"]["stance"]["confusion"]["matrix"]


def test_clear_stances(model):
    preds = model.predict(
        [
            "Jones was praised by voters for her brave and honest leadership.",
            "Smith was convicted of fraud and widely condemned as a liar.",
        ],
        targets=[[(0, 5)], [(0, 5)]],
    )
    assert preds[0].targets[0].stance == "positive"
    assert preds[1].targets[0].stance == "negative"


CLEAR_DEVICES = [
    ("The senator falsely claimed that the election had been stolen.", "discrediting_attribution"),
    ("It is widely believed that the central bank will cut rates again.", "unsourced_claim"),
    ("In a thinly veiled swipe at Brussels, the prime minister praised national sovereignty.", "speculative_interpretation"),
    ('The government defended its "voluntary" relocation programme for the villagers.', "scare_quotes"),
    ("Protesters denounced the draconian and cruel crackdown on the students.", "loaded_language"),
    ("The thugs of the ruling junta beat the marchers.", "name_calling"),
]


def test_finds_most_clear_fixed_devices(model):
    """One clear example per fixed device; the model's held-out recall is 0.6-0.99, so most are found."""
    preds = model.predict([text for text, _ in CLEAR_DEVICES])
    found = [label in {d.label for d in p.devices} for p, (_, label) in zip(preds, CLEAR_DEVICES)]
    assert sum(found) >= 4, list(zip([label for _, label in CLEAR_DEVICES], found))
    for p in preds:
        for d in p.devices:
            assert p.text[d.start : d.end] == d.text


def test_scores_the_example_articles(tmp_path):
    summary = score_collection([str(EXAMPLES)], tmp_path / "scores.parquet", ScoreOptions())
    articles = [json.loads(line) for line in EXAMPLES.read_text().splitlines()]
    assert summary.articles_scored == len(articles) and summary.errors == 0
    df = pd.read_parquet(tmp_path / "scores.parquet")
    texts = {a["id"]: a for a in articles}
    for row in df.itertuples():
        source = texts[row.doc_id]["title"] if row.section == "title" else texts[row.doc_id]["text"]
        assert source[row.start : row.end] == row.text
    assert df.mentions.map(len).sum() > 50
    assert df.devices.map(len).sum() > 5
