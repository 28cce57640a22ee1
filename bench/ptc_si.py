"""PTC span identification (SemEval-2020 Task 11 SI) of the device spans users get.

    python bench/ptc_si.py --model default --model runs/default/model --out bench/results/ptc_si.json

Each line of the PTC test articles (15% of PTC's training articles by hash, never trained or tuned
on) goes through `StanceModel.predict`, whose device decoding is the one `stance score` uses
(stance.model.encoding.decode_devices). The spans it reports (the six devices and `propaganda`, or for an
older model its technique labels) are merged and compared with PTC's label-agnostic spans by the
partial-overlap measure; `propaganda` spans alone are reported beside them, and both again on the
sentences whose text is not in PTC's training split (PTC republishes text and repeats page furniture, so
the article-level split still shares about 9% of the test split's sentences of six words or more with it).
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
from training.transfer import normalise  # noqa: E402


def evaluate(model_name: str, data_dir: str, split: str) -> dict:
    from stance.labels.taxonomy import FIXED_DEVICES
    from stance.model.modeling import StanceModel

    model = StanceModel.from_pretrained(model_name, backend="torch")
    records = list(get_converter("ptc")(Path(data_dir), split))
    preds = model.predict([r.text for r in records])
    gold = [merge_spans((d.start, d.end) for d in r.devices if d.label == "SI") for r in records]
    every = [merge_spans((d.start, d.end) for d in p.devices) for p in preds]
    without_fixed = [merge_spans((d.start, d.end) for d in p.devices if d.label not in FIXED_DEVICES) for p in preds]
    # PTC republishes text and repeats page furniture across articles, so an article-level split still shares
    # sentences: the figures are given again on the sentences whose text the training split does not hold
    seen = {normalise(r.text) for r in get_converter("ptc")(Path(data_dir), "train")}
    unseen = [i for i, r in enumerate(records) if normalise(r.text) not in seen]
    return {
        "model": model_name,
        "split": split,
        "sentences": len(records),
        "articles": len({r.doc_id for r in records}),
        "all_reported_spans": span_prf(gold, every)["partial"],
        "propaganda_or_technique_spans": span_prf(gold, without_fixed)["partial"],
        "unseen_sentences": len(unseen),
        "unseen_all_reported_spans": span_prf([gold[i] for i in unseen], [every[i] for i in unseen])["partial"],
        "unseen_propaganda_or_technique_spans": span_prf([gold[i] for i in unseen], [without_fixed[i] for i in unseen])[
            "partial"
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = [evaluate(m, args.data_dir, args.split) for m in args.model]
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
