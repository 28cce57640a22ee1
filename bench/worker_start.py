"""How long a worker process of `stance score --workers N` takes to start, per backend.

    python bench/worker_start.py [--repeats 5] [--backends torch,openvino]

Each repeat starts a fresh Python process (1 thread, as a worker on a 2-core machine with 2
workers) that imports the pipeline, loads the model, spaCy and the registry, and scores one
short article (the first batch also compiles kernels). Backends are interleaved. Prints the
median seconds to "ready" and to "first article scored", and the process's peak RSS; writes
bench/results/worker_start.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import stance.run.local as batch
from stance.run.options import ScoreOptions
from stance.io.records import Article
batch._worker_init(ScoreOptions(backend=sys.argv[1]), 1)
predictor = batch._WORKER_PREDICTOR
if predictor is None:
    raise SystemExit(repr(batch._WORKER_FAILURE))
t1 = time.perf_counter()
predictor.score_rows([Article(id="a", text="MOSCOW (Wire) - The Kremlin rejected the so-called plan of Maria Lopez in Geneva.")])
t2 = time.perf_counter()
print(json.dumps({"ready_s": t1 - t0, "first_article_s": t2 - t0, "backend": predictor.scorer.model.backend.name,
                  "network_loaded": predictor.scorer.model._network is not None, "transformers_modeling": "transformers.modeling_utils" in sys.modules,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backends", default="torch,openvino")
    parser.add_argument("--out", default="bench/results/worker_start.json")
    args = parser.parse_args()
    backends = args.backends.split(",")
    runs: dict[str, list[dict]] = {b: [] for b in backends}
    env = {"OMP_NUM_THREADS": "1"}
    import os

    for _ in range(args.repeats):
        for backend in backends:
            out = subprocess.run([sys.executable, "-c", _CHILD, backend], capture_output=True, text=True, env=os.environ | env)
            if out.returncode:
                raise SystemExit(out.stderr[-2000:])
            runs[backend].append(json.loads(out.stdout.strip().splitlines()[-1]))
    results = {"date": str(date.today()), "repeats": args.repeats, "backends": {}}
    for backend, rs in runs.items():
        row = {k: statistics.median(r[k] for r in rs) for k in ("ready_s", "first_article_s", "peak_rss_mb")}
        row |= {
            "ready_runs": [round(r["ready_s"], 2) for r in rs],
            "backend": rs[0]["backend"],
            "network_loaded": rs[0]["network_loaded"],
            "transformers_modeling": rs[0]["transformers_modeling"],
        }
        results["backends"][backend] = row
        print(
            f"{backend:10s} ({row['backend']}): ready {row['ready_s']:.2f} s, first article {row['first_article_s']:.2f} s, "
            f"peak RSS {row['peak_rss_mb']:.0f} MB, PyTorch network loaded: {row['network_loaded']} (runs {row['ready_runs']})"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
