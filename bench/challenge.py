"""Stance accuracy per category on the project's own challenge set (never trained or tuned on).

    python bench/challenge.py --model default --model runs/default/model --out bench/results/challenge.json

training/data/challenge/stance_challenge.jsonl was written by a helper that never saw the training
data: news-style sentences with gold stance toward each marked target, in six categories
(evaluative idioms, attacker vs attacked, unnamed critics, negation and hedging, quotation vs the
writer's voice, several actors with opposite stances). Each model reads the marked targets through
its prediction path (one encoder pass per sentence, as `stance score`).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "training" / "data" / "challenge" / "stance_challenge.jsonl"


def evaluate(model_name: str) -> dict:
    from sklearn.metrics import f1_score

    from stance.model.modeling import StanceModel

    model = StanceModel.from_pretrained(model_name, backend="torch")
    items = [json.loads(line) for line in CHALLENGE.read_text(encoding="utf-8").splitlines() if line.strip()]
    preds = model.predict([x["text"] for x in items], [[(t["start"], t["end"]) for t in x["targets"]] for x in items])
    per: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item, pred in zip(items, preds):
        for gold, got in zip(item["targets"], pred.targets):
            per[item["category"]].append((gold["stance"], got.stance or "neutral"))
    out = {"model": model_name, "categories": {}}
    pairs_all = []
    for category, pairs in sorted(per.items()):
        pairs_all += pairs
        out["categories"][category] = {"targets": len(pairs), "accuracy": sum(g == p for g, p in pairs) / len(pairs)}
    gold, got = zip(*pairs_all)
    out["all"] = {
        "targets": len(pairs_all),
        "accuracy": sum(g == p for g, p in pairs_all) / len(pairs_all),
        "macro_f1": float(f1_score(gold, got, average="macro")),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="a model (repeat to compare)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = [evaluate(m) for m in args.model]
    for r in results:
        print(r["model"], json.dumps(r["all"]))
        for c, m in r["categories"].items():
            print(f"  {c:24s} {m['accuracy']:.3f} (n={m['targets']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
