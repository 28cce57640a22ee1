"""PTC span identification of the spans users get, under decoding variants of the `propaganda` span.

    python bench/ptc_decoding.py --model default --split dev

The model's device probabilities on each PTC line, decoded as `stance score` decodes them
(stance.model.encoding.decode_devices), then filtered: all reported spans, `propaganda` spans alone,
`propaganda` spans of at least k words, and of at least a span score. Tune on `dev` only; `test` is the
held-out split bench/ptc_si.py reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.convert import get_converter  # noqa: E402
from training.metrics import merge_spans, span_prf  # noqa: E402


def variants(model_name: str, data_dir: str, split: str) -> dict[str, dict]:
    from stance.labels.taxonomy import FIXED_DEVICES
    from stance.model.encoding import PROPAGANDA, decode_devices
    from stance.model.modeling import StanceModel
    from training.evaluate import predict_raw

    model = StanceModel.from_pretrained(model_name, backend="torch")
    records = list(get_converter("ptc")(Path(data_dir), split))
    gold = [merge_spans((d.start, d.end) for d in r.devices if d.label == "SI") for r in records]
    raw = predict_raw(model, [replace(r, targets=()) for r in records])
    config = model.config
    decoded = [
        decode_devices(
            probs,
            enc.offsets,
            r.text,
            labels=config.device_labels,
            reported=model.device_labels,
            thresholds=config.device_thresholds,
            fixed=FIXED_DEVICES,
            min_scores=config.device_min_scores,
        )
        for r, enc, probs in zip(records, raw.encoded, raw.devices)
    ]

    def si(keep) -> dict:
        pred = [
            merge_spans((s, e) for s, e, label, score, _ in spans if keep(r.text[s:e], label, score))
            for r, spans in zip(records, decoded)
        ]
        return {k: round(v, 3) for k, v in span_prf(gold, pred)["partial"].items()}

    out = {"all reported spans": si(lambda text, label, score: True)}
    out["propaganda spans only"] = si(lambda text, label, score: label == PROPAGANDA)
    for k in (2, 3, 4):
        out[f"propaganda >= {k} words"] = si(lambda text, label, score, k=k: label != PROPAGANDA or len(text.split()) >= k)
    for floor in (0.55, 0.6, 0.65, 0.7, 0.75):
        out[f"propaganda score >= {floor}"] = si(lambda text, label, score, f=floor: label != PROPAGANDA or score >= f)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    print(json.dumps(variants(args.model, args.data_dir, args.split), indent=2))


if __name__ == "__main__":
    main()
