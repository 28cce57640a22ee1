"""The Ray engine's overhead: `stance score --engine ray` against the local engine, same corpus, same run.

    python bench/ray_overhead.py --sentences 10000 --repeats 3 [--no-ner]

1. Generates a corpus with bench/corpus.py (the one bench/score.py uses) and writes it as JSONL.
2. Times, alternately and `--repeats` times each, in child processes:
   - local: `score_collection(..., ScoreOptions(workers=2))`, the best local set-up on 2 cores
     (2 worker processes, 1 torch thread each; they load the model inside the timed call);
   - ray: `score_collection_ray(..., RayOptions(actors_per_node=2))` on a Ray started before the
     timer (`ray.init(num_cpus=<cores>)`, as a cluster that already exists): 2 actors, 1 thread
     each, loading the model inside the timed call; the time includes the validation pre-pass.
3. Reports the median scored sentences/s of each, the ratio ray / local, the Ray run's split into
   pre-pass and scoring, and checks that both wrote the same rows. Writes bench/results/ray_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402

_CHILD = r"""
import json, os, sys, time
engine, corpus, out, use_ner = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
from stance.run.options import ScoreOptions
from stance.run.local import score_collection
opts = ScoreOptions(use_ner=use_ner, workers=2)
if engine == "ray":
    import ray
    from stance.run.ray_engine import RayOptions, score_collection_ray
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    summary = score_collection_ray([corpus], out, opts, RayOptions(actors_per_node=2), overwrite=True)
else:
    t0 = time.perf_counter()
    summary = score_collection([corpus], out, opts, overwrite=True)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "sentences_scored": summary.sentences_scored, "sentences": summary.sentences,
                  "articles": summary.articles_scored, "stages": summary.stage_seconds}))
"""


def run(engine: str, corpus: Path, out: Path, use_ner: bool) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, engine, str(corpus), str(out), "1" if use_ner else "0"], capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    child = json.loads(result.stdout.strip().splitlines()[-1])
    child["sentences_per_s"] = child["sentences_scored"] / child["seconds"]
    return child


def same_rows(local_out: Path, ray_out: Path) -> bool:
    import pandas as pd

    a = pd.read_parquet(local_out).sort_values(["doc_id", "sentence_id"]).reset_index(drop=True)
    b = pd.read_parquet(ray_out).sort_values(["doc_id", "sentence_id"]).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(a, b)
        return True
    except AssertionError as exc:
        print("rows differ:", str(exc)[:500])
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--out", default="bench/results/ray_overhead.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "corpus.jsonl"
    articles = generate(args.sentences)
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    runs: dict[str, list[dict]] = {"local": [], "ray": []}
    for i in range(args.repeats):
        for engine in ("local", "ray"):
            r = run(engine, corpus, tmp / f"{engine}-{i}" / "scores.parquet", not args.no_ner)
            runs[engine].append(r)
            print(f"{engine} run {i}: {r['sentences_per_s']:.0f} sentences/s ({r['seconds']:.1f} s)", flush=True)
    medians = {e: statistics.median(r["sentences_per_s"] for r in rs) for e, rs in runs.items()}
    results = {
        "date": str(date.today()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "use_ner": not args.no_ner,
        "articles": len(articles),
        "sentences_scored": runs["local"][0]["sentences_scored"],
        "runs": runs,
        "median_sentences_per_s": medians,
        "ratio_ray_over_local": medians["ray"] / medians["local"],
        "same_rows": same_rows(tmp / "local-0" / "scores.parquet", tmp / "ray-0" / "scores.parquet"),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    print(
        f"local {medians['local']:.0f}, ray {medians['ray']:.0f} sentences/s; ratio {results['ratio_ray_over_local']:.2f}; "
        f"same rows: {results['same_rows']}"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
