"""Memory over a long `stance score` run: RSS of the main process and of each worker, sampled.

    python bench/memory.py --sentences 1000000 [--workers 1] [--no-ner] [--interval 5]
    python bench/memory.py --real ../shared/data/ptc/train-articles --copies 6 --workers 0

Generates a corpus (bench/corpus.py) of about ``--sentences`` sentences, runs the real command
(`stance score CORPUS --out OUT.parquet`) and samples, every ``--interval`` seconds, the resident
memory of the command and of each of its worker processes, and the progress from the shard
manifest. ``--real DIR`` scores ``--copies`` copies of a directory of real ``.txt`` articles
(new ids each time) instead: real sentences come in many more lengths, hence many more batch
shapes, than generated ones. Writes the trace and the peaks to bench/results/memory-<sentences>.json. "Flat" means:
the RSS in the last tenth of the run is no higher than in the second tenth, plus noise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402


def write_real_corpus(path: Path, directory: Path, copies: int) -> int:
    """``copies`` copies of the .txt articles in ``directory`` as JSONL, each copy with its own ids."""
    files = sorted(directory.glob("*.txt"))
    with open(path, "w") as fh:
        for copy in range(copies):
            for f in files:
                fh.write(json.dumps({"id": f"{copy}-{f.stem}", "text": f.read_text(encoding="utf-8")}) + "\n")
    return copies * len(files)


def write_corpus(path: Path, n_sentences: int) -> int:
    """The corpus in blocks of 20,000 sentences (different seeds), so that it never sits in memory whole."""
    articles = 0
    with open(path, "w") as fh:
        for block in range(0, n_sentences, 20_000):
            for art in generate(min(20_000, n_sentences - block), seed=block):
                art["id"] = f"{block}-{art['id']}"
                fh.write(json.dumps(art) + "\n")
                articles += 1
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--real", help="a directory of real .txt articles to score instead of a generated corpus")
    parser.add_argument("--copies", type=int, default=1, help="with --real: how many copies of it to score")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "corpus.jsonl"
    articles = write_real_corpus(corpus, Path(args.real), args.copies) if args.real else write_corpus(corpus, args.sentences)
    out = tmp / "scores.parquet"
    cmd = [str(Path(sys.executable).with_name("stance")), "score", str(corpus), "--out", str(out), "--workers", str(args.workers)]
    cmd += ["--no-ner"] if args.no_ner else []
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    trace = []
    while proc.poll() is None:
        time.sleep(args.interval)
        try:
            main_rss = proc.memory_info().rss
            workers = [c.memory_info().rss for c in proc.children(recursive=True)]
        except psutil.Error:
            continue
        manifest = out.with_name(out.name + ".parts") / "manifest.json"
        try:
            done = sum(s["sentences"] for s in json.loads(manifest.read_text())["shards"])
        except (OSError, ValueError, KeyError):
            done = None
        trace.append(
            {
                "t": round(time.perf_counter() - started, 1),
                "sentences_done": done,
                "main_mb": main_rss / 2**20,
                "workers_mb": [w / 2**20 for w in workers],
            }
        )
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(proc.stderr.read().decode()[-3000:])
    run = json.loads(next(tmp.glob("*run.json")).read_text())
    total = [t["main_mb"] + sum(t["workers_mb"]) for t in trace]
    per_process = [max([t["main_mb"], *t["workers_mb"]]) for t in trace]
    tenth = max(1, len(trace) // 10)
    result = {
        "date": str(date.today()),
        "command": " ".join(cmd[1:]),
        "articles": articles,
        "sentences": run["counts"]["sentences"],
        "seconds": seconds,
        "sentences_per_s": run["counts"]["sentences_scored"] / run["timings"]["seconds"],
        "peak_process_mb": max(per_process),
        "peak_total_mb": max(total),
        "second_tenth_total_mb": max(total[tenth : 2 * tenth] or total),
        "last_tenth_total_mb": max(total[-tenth:]),
        "errors": run["counts"]["errors"],
        "trace": trace,
    }
    path = Path(args.out or f"bench/results/memory-{args.sentences}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "trace"}, indent=1))


if __name__ == "__main__":
    main()
