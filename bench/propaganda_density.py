"""How many `propaganda` spans users get, against how many PTC's annotators mark, by span score.

    python bench/propaganda_density.py [--model default] [--articles 300] [--out bench/results/propaganda_density.json]

`propaganda` spans (PTC's label-agnostic spans, decoded as `stance score` decodes them) have their threshold tuned
for PTC's span-identification F1 (the SemEval-2020 Task 11 partial-overlap measure), which rewards recall. This
script reports, for each minimum span `score` a user might filter on (the shipped threshold first):

1. on the PTC dev articles (a given split): predicted spans per sentence beside the annotators' gold spans per
   sentence, the share of predicted spans that overlap a gold span, and the partial-overlap F1 of what is kept;
2. on real mainstream news (the first ``--articles`` articles of ../shared/data/allsides, split by the project's
   own sentence splitter): predicted spans per sentence, and the share of sentences given at least one.

Nothing here is tuned: it reads the shipped model's output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.convert import get_converter  # noqa: E402
from training.metrics import merge_spans, span_prf  # noqa: E402

MIN_SCORES = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7)


def propaganda(predictions) -> list[list]:
    return [[d for d in p.devices if d.label == "propaganda"] for p in predictions]


def at(spans: list[list], min_score: float) -> list[list[tuple[int, int]]]:
    return [[(d.start, d.end) for d in s if d.score >= min_score] for s in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from stance.model.modeling import StanceModel
    from stance.pipeline.sentences import get_splitter

    model = StanceModel.from_pretrained(args.model, backend="torch")
    threshold = model.config.device_thresholds["propaganda_span"]
    own_minimum = model.config.device_min_scores.get("propaganda_span", 0.0)
    model.config.device_min_scores = {}  # every span the threshold finds; the minimums below are applied here

    records = list(get_converter("ptc")(Path(args.data_dir), "dev"))
    gold = [merge_spans((d.start, d.end) for d in r.devices if d.label == "SI") for r in records]
    ptc = propaganda(model.predict([r.text for r in records]))

    table = pq.read_table(Path(args.data_dir) / "allsides" / "articles.parquet", columns=["title", "text"])
    rows = table.slice(0, args.articles).to_pylist()
    splitter = get_splitter()
    sentences = [s.text for row in rows for s in splitter.split(row["text"], row["title"]) if not s.boilerplate]
    news = propaganda(model.predict(sentences))

    result: dict = {
        "model": args.model,
        "threshold": threshold,
        "model_min_score": own_minimum,
        "ptc_dev": {"sentences": len(records), "gold_spans_per_sentence": sum(map(len, gold)) / len(records)},
        "allsides": {"articles": len(rows), "sentences": len(sentences)},
        "by_min_score": [],
    }
    for min_score in MIN_SCORES:
        kept = at(ptc, min_score)
        n = sum(map(len, kept))
        overlapping = sum(1 for spans, g in zip(kept, gold) for s in spans if any(s[0] < e and b < s[1] for b, e in g))
        partial = span_prf(gold, [merge_spans(k) for k in kept])["partial"]
        on_news = at(news, min_score)
        result["by_min_score"].append(
            {
                "min_score": max(min_score, threshold),
                "ptc_dev_spans_per_sentence": n / len(records),
                "ptc_dev_share_overlapping_gold": overlapping / n if n else None,
                "ptc_dev_partial_f1": partial["f1"],
                "ptc_dev_partial_precision": partial["precision"],
                "ptc_dev_partial_recall": partial["recall"],
                "allsides_spans_per_sentence": sum(map(len, on_news)) / len(sentences),
                "allsides_sentences_with_one": sum(1 for s in on_news if s) / len(sentences),
            }
        )
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
