"""NER on windows around the words that need it, against NER on whole sentences: the same
mentions? how much faster?

    python bench/ner_windows.py [--data-dir ../shared/data] [--articles 200] [--context 8]

On real articles (the first ``--articles`` PTC training articles) and on the generated benchmark
corpus, the actor finder runs twice: with NER on whole sentences (the previous behaviour) and
with NER on windows of ``--context`` tokens either side of each capitalised word the registry does
not explain (the default). Reports the mentions only one of them finds, their agreement (shared
mentions / all mentions, a mention being its offsets, actor and type) and the time of each;
writes bench/results/ner_windows.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402

from stance.pipeline.actors import NER_CONTEXT, ActorFinder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--context", type=int, default=NER_CONTEXT)
    parser.add_argument("--out", default="bench/results/ner_windows.json")
    args = parser.parse_args()
    ptc = sorted((Path(args.data_dir) / "ptc" / "train-articles").glob("*.txt"))[: args.articles]
    corpora = {"ptc": [p.read_text(encoding="utf-8") for p in ptc], "generated": [a["text"] for a in generate(4000)]}
    finder = ActorFinder()
    finder.find("Warm up in Geneva.")
    results: dict = {"date": str(date.today()), "context": args.context, "corpora": {}}
    for name, texts in corpora.items():
        found, seconds = {}, {}
        for mode, context in (("whole", None), ("windows", args.context)):
            finder._ner_context = context
            t0 = time.perf_counter()
            mentions = list(finder.find_many(texts))
            seconds[mode] = time.perf_counter() - t0
            found[mode] = {(i, m.start, m.end, m.actor, m.type) for i, ms in enumerate(mentions) for m in ms}
        whole, windows = found["whole"], found["windows"]
        row = {
            "documents": len(texts),
            "mentions_whole": len(whole),
            "only_whole": len(whole - windows),
            "only_windows": len(windows - whole),
            "agreement": len(whole & windows) / max(len(whole | windows), 1),
            "seconds": seconds,
            "speedup": seconds["whole"] / seconds["windows"],
            "examples_only_whole": [list(x) for x in sorted(whole - windows)[:5]],
            "examples_only_windows": [list(x) for x in sorted(windows - whole)[:5]],
        }
        results["corpora"][name] = row
        print(
            f"{name}: {len(texts)} documents, {len(whole)} mentions; only whole-sentence NER {row['only_whole']}, only windowed "
            f"{row['only_windows']}; agreement {row['agreement']:.4f}; actor finding {seconds['whole']:.1f} s -> {seconds['windows']:.1f} s "
            f"({row['speedup']:.2f}x)"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
