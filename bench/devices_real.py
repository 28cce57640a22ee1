"""The six framing devices on real news, measured on what `stance score` outputs.

    python bench/devices_real.py --model default --out bench/results/devices_real_default.json
    python bench/devices_real.py --model OLD --model NEW   # both, and their paired difference
    python bench/devices_real.py --agreement     # annotator agreement on the doubly labelled sentences
    python bench/devices_real.py --agreement --split dev   # the same on the doubly labelled dev sentences
    python bench/devices_real.py --split dev --labels training/data/real_devices \
        --labels "training/data/real_devices_next/dev17_*"   # dev with a later round (as a data spec's labels)

Reads the device-labelled AllSides sentences of a split (default ``heldout``: articles that no
training sentence comes from; training/data/real_devices/), scores their whole articles with the
real pipeline (StanceScorer, as `stance score` does; NER off, which does not touch devices), takes the
device spans of the rows at the labelled sentences, and reports per device: precision and recall by
overlap (a predicted span counts where it overlaps a gold span of the same device) and the
partial-overlap measure beside it; recall by sentence length (<= 20, 21-35, > 35 words); and the
share of device-free sentences given any device. With two models, also the difference of their six-device
macro F1 (overlap) with a 95% interval from a paired article-level bootstrap (the articles resampled with
replacement, both models' spans counted on the same resample), to tell a difference from the noise of 870
sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.labels.taxonomy import FIXED_DEVICES  # noqa: E402
from training.convert.allsides import article_split, article_texts, chosen_by_model, convert, read_standoff  # noqa: E402
from training.metrics import overlap_counts, overlap_prf, span_prf  # noqa: E402

LENGTHS = (("<=20", 0, 20), ("21-35", 21, 35), (">35", 36, 10**6))


def predicted_spans(model: str, records, data_dir: str, backend: str = "auto") -> list[list[tuple[int, int, str]]]:
    """Device spans `stance score` gives at each record's sentence (offsets relative to it)."""
    from stance.io.records import Article
    from stance.pipeline.scorer import StanceScorer

    scorer = StanceScorer.from_pretrained(model, use_ner=False, backend=backend)
    texts = article_texts(data_dir)
    docs = sorted({r.doc_id for r in records})
    rows_at: dict[tuple[str, int], list] = {}
    for lo in range(0, len(docs), 16):
        batch = [Article(id=d, text=texts[d]) for d in docs[lo : lo + 16]]
        for rows in scorer.score_articles(batch):
            for row in rows:
                rows_at[(row.doc_id, row.start)] = row
    out = []
    for r in records:
        row = rows_at.get((r.doc_id, r.meta["sentence_start"]))
        if row is None or row.text != r.text:
            raise ValueError(f"the pipeline did not give the sentence {r.doc_id}@{r.meta['sentence_start']} as one row")
        out.append([(d.start, d.end, d.label) for d in row.devices if d.label in FIXED_DEVICES])
    return out


def score(gold_records, pred: list[list[tuple[int, int, str]]]) -> dict:
    """Per-device overlap and partial P/R/F1, recall by length, false-alarm rate on device-free sentences."""
    out: dict = {"sentences": len(gold_records), "devices": {}}
    for label in FIXED_DEVICES:
        gold = [[(d.start, d.end) for d in r.devices if d.label == label] for r in gold_records]
        got = [[(s, e) for s, e, lab in p if lab == label] for p in pred]
        out["devices"][label] = {"overlap": overlap_prf(gold, got), "partial": span_prf(gold, got)["partial"]}
    words = [len(r.text.split()) for r in gold_records]
    by_length = {}
    for name, lo, hi in LENGTHS:
        idx = [i for i, w in enumerate(words) if lo <= w <= hi]
        gold = [[(d.start, d.end, d.label) for d in gold_records[i].devices] for i in idx]
        got = [pred[i] for i in idx]
        found = sum(any(lab == gl and s < ge and e > gs for s, e, lab in p) for g, p in zip(gold, got) for gs, ge, gl in g)
        n = sum(len(g) for g in gold)
        by_length[name] = {"sentences": len(idx), "gold_spans": n, "recall": found / n if n else None}
    out["recall_by_length"] = by_length
    free = [i for i, r in enumerate(gold_records) if not r.devices]
    out["device_free_sentences"] = len(free)
    out["device_free_flagged_share"] = sum(bool(pred[i]) for i in free) / len(free) if free else None
    # the limit of training's step 6 (training.evaluate.flagged_share) reads only sentences not sampled where a
    # model found a device: reported apart, so that the two measures are never taken for one another
    unchosen = [i for i in free if not chosen_by_model(gold_records[i].meta)]
    out["device_free_not_model_chosen"] = len(unchosen)
    out["device_free_not_model_chosen_flagged_share"] = sum(bool(pred[i]) for i in unchosen) / len(unchosen) if unchosen else None
    macro = [out["devices"][d]["overlap"] for d in FIXED_DEVICES]
    out["macro"] = {k: sum(m[k] for m in macro) / len(macro) for k in ("precision", "recall", "f1")}
    return out


def sentence_counts(gold_records, pred: list[list[tuple[int, int, str]]]) -> np.ndarray:
    """Per sentence and device, the overlap counts (sentences x devices x 4, as ``overlap_counts``)."""
    counts = np.zeros((len(gold_records), len(FIXED_DEVICES), 4))
    for i, (r, p) in enumerate(zip(gold_records, pred)):
        for j, label in enumerate(FIXED_DEVICES):
            gold = [(d.start, d.end) for d in r.devices if d.label == label]
            counts[i, j] = overlap_counts([gold], [[(s, e) for s, e, lab in p if lab == label]])
    return counts


def macro_f1(sums: np.ndarray) -> np.ndarray:
    """Six-device macro F1 (overlap) from summed counts (... x devices x 4)."""
    n_gold, n_pred, hit_gold, hit_pred = np.moveaxis(sums, -1, 0)
    precision = np.divide(hit_pred, n_pred, out=np.zeros_like(hit_pred), where=n_pred > 0)
    recall = np.divide(hit_gold, n_gold, out=np.zeros_like(hit_gold), where=n_gold > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(recall), where=precision + recall > 0)
    return f1.mean(axis=-1)


def paired_difference(gold_records, pred_a, pred_b, resamples: int = 2000, seed: int = 0) -> dict:
    """Macro F1 of B minus A, with a 95% interval from a paired bootstrap over articles.

    Example:
        >>> paired_difference(records, old_spans, new_spans)["ci95"]  # doctest: +SKIP
        [-0.041, 0.012]
    """
    docs = sorted({r.doc_id for r in gold_records})
    index = {d: i for i, d in enumerate(docs)}
    doc_of = np.array([index[r.doc_id] for r in gold_records])
    a, b = sentence_counts(gold_records, pred_a), sentence_counts(gold_records, pred_b)
    draws = np.random.default_rng(seed).multinomial(len(docs), np.full(len(docs), 1 / len(docs)), size=resamples)
    weights = draws[:, doc_of]  # resamples x sentences: how often each sentence's article was drawn
    diffs = macro_f1(np.einsum("rs,sdk->rdk", weights, b)) - macro_f1(np.einsum("rs,sdk->rdk", weights, a))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    point = float(macro_f1(b.sum(axis=0)) - macro_f1(a.sum(axis=0)))
    return {"macro_f1_diff": point, "ci95": [float(lo), float(hi)], "articles": len(docs), "resamples": resamples}


def agreement(data_dir: str, split: str = "heldout") -> dict:
    """Per device, span F1 between the two annotators (overlap) and token-level Cohen's kappa, on the
    sentences of ``split`` that ``training/data/real_devices_second/`` labels a second time (first labels:
    ``real_devices/`` and, for rounds not yet trained on, ``real_devices_next/``)."""
    from sklearn.metrics import cohen_kappa_score

    texts = article_texts(data_dir)
    second = [r for p in sorted((ROOT / "training/data/real_devices_second").glob("*.jsonl")) for r in read_standoff(p, texts)]
    first_files = [
        p for folder in ("real_devices", "real_devices_next") for p in sorted((ROOT / "training/data" / folder).glob("*.jsonl"))
    ]
    first = {
        (r.doc_id, r.meta["sentence_start"]): r
        for p in first_files
        for r in read_standoff(p, texts)
        if article_split(r.doc_id) == split
    }
    pairs = [(first[(r.doc_id, r.meta["sentence_start"])], r) for r in second if (r.doc_id, r.meta["sentence_start"]) in first]
    out = {"sentences": len(pairs), "devices": {}}
    for label in FIXED_DEVICES:
        a = [[(d.start, d.end) for d in x.devices if d.label == label] for x, _ in pairs]
        b = [[(d.start, d.end) for d in y.devices if d.label == label] for _, y in pairs]
        ta, tb = [], []
        for (x, _), sa, sb in zip(pairs, a, b):
            for pos in _word_starts(x.text):
                ta.append(any(s <= pos < e for s, e in sa))
                tb.append(any(s <= pos < e for s, e in sb))
        f1 = overlap_prf(a, b)["f1"]
        kappa = cohen_kappa_score(ta, tb) if any(ta) or any(tb) else None
        out["devices"][label] = {"spans_a": sum(map(len, a)), "spans_b": sum(map(len, b)), "span_f1": f1, "token_kappa": kappa}
    return out


def _word_starts(text: str) -> list[int]:
    import re

    return [m.start() for m in re.finditer(r"\S+", text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="a model (default: default); twice: both and their difference")
    parser.add_argument("--split", default="heldout", choices=["heldout", "dev", "train"])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--backend", default="auto")
    parser.add_argument(
        "--labels",
        action="append",
        default=[],
        help="label folders, files or globs, as a data spec's `labels` (default: training/data/real_devices); repeatable",
    )
    parser.add_argument("--agreement", action="store_true", help="annotator agreement instead of a model")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.agreement and args.labels:
        raise ValueError("--labels names what a model is measured on; --agreement reads the doubly labelled sentences")
    if args.agreement:
        result = agreement(args.data_dir, args.split)
    else:
        records = list(convert(Path(args.data_dir), args.split, labels=args.labels))
        models = args.model or ["default"]
        if len(models) > 2:
            raise ValueError("--model: one model, or two to compare")
        spans = [predicted_spans(m, records, args.data_dir, args.backend) for m in models]
        results = [{"model": m, "split": args.split, **score(records, p)} for m, p in zip(models, spans)]
        result = results[0] if len(models) == 1 else {"models": results, "paired": paired_difference(records, *spans)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
