"""Print the headline quality numbers of an evaluation JSON (`stance evaluate --out`) as Markdown.

python bench/summarise_eval.py bench/results/eval_default.json
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    ev = json.load(open(path))["datasets"]
    print("| data | measure | value |\n|---|---|---|")
    for name, m in ev.items():
        if "stance" in m:
            s = m["stance"]
            per = ", ".join(f"{k} {v:.3f}" for k, v in s["f1"].items())
            print(f"| {name} (n={s['n']} targets) | stance macro-F1 | **{s['macro_f1']:.3f}** (F1 {per}) |")
        if "span_identification" in m:
            for how, si in m["span_identification"].items():
                p = si["partial"]
                print(
                    f"| {name} | span identification F1, {how.replace('_', ' ')} | **{p['f1']:.3f}** (P {p['precision']:.3f}, R {p['recall']:.3f}) |"
                )
    for name, m in ev.items():
        if "devices" not in m or "span_identification" in m and name.startswith("ptc"):
            continue
        print(f"\n{name}: device spans (gold, predicted, exact P/R/F1, partial P/R/F1)\n")
        print(
            "| device | gold | predicted | exact P | exact R | exact F1 | partial P | partial R | partial F1 |\n|---|---|---|---|---|---|---|---|---|"
        )
        for label, d in m["devices"].items():
            e, p = d["exact"], d["partial"]
            print(
                f"| {label} | {d['gold']} | {d['predicted']} | {e['precision']:.2f} | {e['recall']:.2f} | {e['f1']:.2f} | {p['precision']:.2f} | {p['recall']:.2f} | {p['f1']:.2f} |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
