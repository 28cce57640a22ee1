"""The labelled actor set's tooling: sampling articles, answers -> standoff, reading it back (hash-checked).
A two-article data folder is written here; nothing from ../shared/data is read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from training import actor_annotation as aa

BODY = " ".join(["Sergei Lavrov met Wang Yi in Beijing on Monday, and Lavrov said the talks went well."] * 12)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "allsides").mkdir()
    (tmp_path / "ptc" / "train-articles").mkdir(parents=True)
    table = pa.table(
        {
            "id": ["a1", "a2"],
            "title": ["Lavrov in Beijing", "Another title"],
            "text": [BODY, BODY.replace("Lavrov", "Peskov")],
            "outlet": ["Herald", "Ledger"],
        }
    )
    pq.write_table(table, tmp_path / "allsides" / "articles.parquet")
    (tmp_path / "ptc" / "train-articles" / "article1.txt").write_text("A PTC title\n\n" + BODY + "\n", encoding="utf-8")
    aa._CACHE.clear()
    return tmp_path


def test_sample_collect_and_read_back(data_dir: Path, tmp_path: Path) -> None:
    articles = aa.sample(data_dir, n_allsides=2, n_ptc=1, n_dev=1)
    assert {a["doc_id"] for a in articles} == {"allsides:a1", "allsides:a2", "ptc:1"}
    assert sum(a["split"] == "dev" for a in articles) == 1
    batches = tmp_path / "batches"
    aa.write_batches(articles, batches, per_batch=10)
    doc = next(a for a in articles if a["doc_id"] == "allsides:a1")
    para = next(i for i, (_, text) in enumerate(doc["paragraphs"]) if text.startswith("Sergei"))
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        json.dumps(
            {
                "doc_id": "allsides:a1",
                "para": para,
                "mentions": [
                    {"text": "Lavrov", "occurrence": 2, "actor": "Sergei Lavrov", "type": "person"},
                    {
                        "text": "Nobody",
                        "occurrence": 1,
                        "actor": "X",
                        "type": "person",
                    },  # not in the paragraph: counted as an error
                    {"text": "Beijing", "occurrence": 1, "actor": "China", "type": "nation"},
                ],
            }
        )
        + "\n"
    )  # bad type
    out = tmp_path / "labels" / "h1.jsonl"
    counts = aa.collect([answers], batches, "h1", out, data_dir)
    assert counts == {"articles": 1, "mentions": 1, "errors": 2}
    line = json.loads(out.read_text())
    assert set(line) == {"doc_id", "split", "hash", "annotator", "mentions"} and "Lavrov met" not in out.read_text()
    (gold,) = list(aa.read_actor_set(data_dir, folder=out.parent))
    start, end, actor, kind = gold.mentions[0]
    assert gold.document[start:end] == "Lavrov" and actor == "Sergei Lavrov" and gold.title_length == len("Lavrov in Beijing")
    assert gold.document.index("and Lavrov") + 4 == start  # the second occurrence in the paragraph
    line["hash"] = "0" * 12
    out.write_text(json.dumps(line) + "\n")
    with pytest.raises(ValueError, match="no longer matches"):
        list(aa.read_actor_set(data_dir, folder=out.parent))


def test_committed_actor_labels_are_standoff_without_text():
    """The labelled actor set and its second annotation hold ids, offsets and names, never the article text."""
    types = {"person", "state", "organisation", "bloc", "group", "place"}
    files = sorted(aa.ACTOR_SET_DIR.glob("*.jsonl")) + sorted((aa.ACTOR_SET_DIR.parent / "actors_second").glob("*.jsonl"))
    assert any("actors_second" in str(p) for p in files)
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            obj = json.loads(line)
            assert set(obj) == {"doc_id", "split", "hash", "annotator", "mentions"}, f"{path}:{n}"
            assert obj["split"] in ("dev", "test"), f"{path}:{n}"
            for start, end, actor, kind in obj["mentions"]:
                assert 0 <= start < end and actor and kind in types, f"{path}:{n}: {start, end, actor, kind}"
