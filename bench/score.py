"""End-to-end scoring benchmark: `stance score` against a naive baseline, in the same run.

    python bench/score.py --sentences 20000 [--baseline-sentences 2000] [--repeats 3] [--no-ner]
                          [--workers2] [--backends auto,torch] [--corpus FILE.jsonl]

1. Generates a corpus (bench/corpus.py) of news-like articles with a realistic density of actors.
2. Times the whole pipeline (reading, sentence splitting, actor finding, model, writing Parquet)
   `--repeats` times per configuration (1 process, and with `--workers2` 2 worker processes; each
   backend of `--backends`), the configurations interleaved so that the machine's drifts in speed
   hit them alike, and reports the median sentences/s and the peak RSS of the scoring process.
   `--corpus` scores an input of your own instead (anything `stance score` reads, e.g. the
   directory of real PTC articles, `../shared/data/ptc/train-articles`) and skips the baseline.
3. Times the naive baseline on a sample of the same articles: the same splitter and actor finder,
   then a transformers `pipeline("text-classification")` called once per (sentence, actor) pair,
   with the target wrapped in [TGT] markers, on the same encoder weights.
4. Profiles the stages (OUT.run.json) and writes everything to bench/results/score.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402


def run_stance(corpus: Path, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-c", _CHILD, str(corpus), str(out), *extra]
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    wall = time.perf_counter() - started
    child = json.loads(result.stdout.strip().splitlines()[-1])
    run = json.loads(out.with_name(out.stem + ".run.json").read_text())
    return {
        "wall_s": wall,
        "score_s": child["score_s"],
        "peak_rss_mb": child["peak_rss_mb"],
        "peak_rss_worker_mb": child["peak_rss_worker_mb"],
        "sentences": run["counts"]["sentences"],
        "sentences_scored": run["counts"]["sentences_scored"],
        "stages": run["timings"]["stages"],
        "load_s": child["load_s"],
        "backend": run["model"]["backend"],
    }


# Scores in a child process so that its peak RSS is measured alone; model loading is timed apart.
_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from stance.run.local import score_collection
from stance.run.options import ScoreOptions
from stance.run.predictor import make_scorer
corpus, out, *flags = sys.argv[1:]
batch = int(next((f.split("=")[1] for f in flags if f.startswith("--batch-size=")), 64))
backend = next((f.split("=")[1] for f in flags if f.startswith("--backend=")), "auto")
opts = ScoreOptions(use_ner="--no-ner" not in flags, workers=2 if "--workers2" in flags else 1, batch_size=batch, backend=backend)
make_scorer(opts)  # warm: load model and spaCy once (cached by the OS), timed separately
t1 = time.perf_counter()
summary = score_collection([corpus], out, opts, overwrite=True)
t2 = time.perf_counter()
rss = [resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"load_s": t1 - t0, "score_s": t2 - t1, "peak_rss_mb": rss[0], "peak_rss_worker_mb": rss[1]}))
"""


def naive_baseline(articles: list[dict], use_ner: bool) -> dict:
    import torch
    from transformers import BertForSequenceClassification, pipeline

    from stance.model.modeling import StanceModel
    from stance.pipeline.actor_registry import ActorRegistry
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.sentences import get_splitter

    model = StanceModel.from_pretrained("default")
    clf = BertForSequenceClassification(model.network.encoder.config)
    clf.bert.load_state_dict(model.network.encoder.state_dict(), strict=False)
    pipe = pipeline("text-classification", model=clf.eval(), tokenizer=model.tokenizer, device="cpu", torch_dtype=torch.bfloat16)
    splitter, finder = get_splitter("news"), ActorFinder(ActorRegistry.load(), use_ner=use_ner)
    started = time.perf_counter()
    n_sent = n_pairs = 0
    for art in articles:
        sentences = [s for s in splitter.split(art["text"]) if not s.boilerplate]
        mentions = finder.find(art["text"])
        for s in sentences:
            n_sent += 1
            for m in (m for m in mentions if s.start <= m.start and m.end <= s.end):
                a, b = m.start - s.start, m.end - s.start
                pipe(s.text[:a] + "[TGT] " + s.text[a:b] + " [/TGT]" + s.text[b:])
                n_pairs += 1
    seconds = time.perf_counter() - started
    return {"sentences": n_sent, "pairs": n_pairs, "seconds": seconds, "sentences_per_s": n_sent / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--baseline-sentences", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--workers2", action="store_true", help="also time --workers 2")
    parser.add_argument("--out", default="bench/results/score.json")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument("--batch-size", type=int, default=64, help="sentences per model batch")
    parser.add_argument("--backends", default="auto", help="comma-separated --backend values to time, e.g. auto,torch")
    parser.add_argument(
        "--corpus",
        help="score this input (a file or directory stance score reads) instead of a generated corpus; no baseline then",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    if args.corpus:
        corpus, args.no_baseline = Path(args.corpus).resolve(), True
        articles = sorted(corpus.iterdir()) if corpus.is_dir() else corpus.read_text().splitlines()
    else:
        corpus = tmp / "corpus.jsonl"
        articles = generate(args.sentences)
        corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    flags = (["--no-ner"] if args.no_ner else []) + [f"--batch-size={args.batch_size}"]
    configs = {}
    for backend in args.backends.split(","):
        suffix = "" if backend == "auto" else f"-{backend}"
        configs[f"workers1{suffix}"] = flags + [f"--backend={backend}"]
        if args.workers2:
            configs[f"workers2{suffix}"] = flags + ["--workers2", f"--backend={backend}"]
    results: dict = {
        "date": str(date.today()),
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
        "use_ner": not args.no_ner,
        "articles": len(articles),
        "corpus": args.corpus or "generated",
    }
    baseline_articles = generate(args.baseline_sentences, seed=1)
    all_runs: dict[str, list[dict]] = {name: [] for name in configs}
    for i in range(args.repeats):  # interleaved: a slow spell of the machine hits every configuration alike
        for name, extra in configs.items():
            (tmp / f"{name}-{i}").mkdir()
            all_runs[name].append(run_stance(corpus, tmp / f"{name}-{i}" / "scores.parquet", extra))
    for name, runs in all_runs.items():
        rates = [r["sentences_scored"] / r["score_s"] for r in runs]
        results[name] = {
            "runs": runs,
            "median_sentences_per_s": statistics.median(rates),
            "rates": rates,
            "backend": runs[0]["backend"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "peak_rss_worker_mb": max(r["peak_rss_worker_mb"] for r in runs),
        }
        print(name, f"median {statistics.median(rates):.0f} sentences/s", flush=True)
    if not args.no_baseline:
        base = [naive_baseline(baseline_articles, not args.no_ner) for _ in range(max(1, args.repeats // 2))]
        results["naive_baseline"] = {
            "runs": base,
            "median_sentences_per_s": statistics.median(b["sentences_per_s"] for b in base),
        }
        for name in configs:
            results[f"speedup_{name}_vs_naive"] = (
                results[name]["median_sentences_per_s"] / results["naive_baseline"]["median_sentences_per_s"]
            )
        print("naive", f"{results['naive_baseline']['median_sentences_per_s']:.0f} sentences/s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB (children)")


if __name__ == "__main__":
    main()
