"""Device spans that hold a quotation mark without its pair, in what `stance score` writes, from this tree and an
earlier commit, on the same real articles.

    python bench/span_quotes.py BASE_REV [--articles 600]

1. Writes the first ``--articles`` AllSides articles of the dev split (training.convert.allsides.article_split;
   title and text, as the corpus stores them) as JSONL to a temporary folder.
2. Runs the whole `stance score` command on them from this tree and from a git worktree of BASE_REV (as
   bench/ab_commits.py does), NER off (it does not touch devices).
3. Counts, per device, the spans whose text holds a double quotation mark without its pair, as decoding pairs
   them (stance.model.encoding.has_unpaired_quote; single quotes are left out: the apostrophe is the same
   character), and the spans and sentences in all. Writes bench/results/span_quotes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from ab_commits import RUN_STANCE, checkout  # noqa: E402

from stance.model.encoding import has_unpaired_quote  # noqa: E402


def score_once(tree: Path, corpus: Path, out: Path) -> None:
    """The whole `stance score` command from ``tree`` (first on PYTHONPATH), NER off."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-c", RUN_STANCE, "score", str(corpus), "--out", str(out), "--no-ner", "--overwrite"]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr[-3000:]}")


def count(scores: Path) -> dict:
    """Spans in all and spans with an unpaired mark, per device, in a JSONL output of `stance score`."""
    spans: Counter = Counter()
    bad: Counter = Counter()
    examples: dict[str, list[str]] = {}
    sentences = 0
    with open(scores, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            sentences += 1
            for d in row["devices"]:
                spans[d["label"]] += 1
                if has_unpaired_quote(d["text"]):
                    bad[d["label"]] += 1
                    examples.setdefault(d["label"], []).append(d["text"])
    return {
        "sentences": sentences,
        "spans": dict(spans),
        "unpaired": dict(bad),
        "unpaired_all": sum(bad.values()),
        "spans_all": sum(spans.values()),
        "examples": {k: v[:3] for k, v in examples.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_rev")
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from training.convert.allsides import article_split

    table = pq.read_table(Path(args.data_dir) / "allsides" / "articles.parquet", columns=["id", "title", "text"])
    rows = [r for r in table.to_pylist() if article_split(r["id"]) == "dev"][: args.articles]
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "articles.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    base = checkout(args.base_rev, tmp / "base")
    try:
        result = {}
        for name, tree in (("base", base), ("this tree", ROOT)):
            out = tmp / f"{name.replace(' ', '_')}.jsonl"
            score_once(tree, corpus, out)
            result[name] = count(out)
            print(name, {k: v for k, v in result[name].items() if k != "examples"})
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    report = {"date": date.today().isoformat(), "base_rev": args.base_rev, "articles": len(rows), **result}
    out = ROOT / "bench" / "results" / "span_quotes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
