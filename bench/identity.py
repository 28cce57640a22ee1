"""Does this tree give exactly the rows an earlier commit gives? `stance score` from both on real articles.

    python bench/identity.py BASE_REV [--articles 200] [--data-dir ../shared/data]

1. Writes the first ``--articles`` PTC training-split articles (sorted by id; title = first line,
   text = the rest) to a temporary JSONL file; nothing is written into the project.
2. Checks BASE_REV out into a temporary git worktree and runs the whole `stance score` command from
   each tree on that file (bench/ab_commits.py's `checkout` and `score`, which also checks that each run used its own
   tree's package), JSONL output.
3. Compares the rows one by one (tests/test_golden.py's `differences`: every field equal, probabilities
   within one rounding unit) and prints every difference; exits 1 if there is any. Writes
   bench/results/identity.json with the counts and both trees' sentences/s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]
from ab_commits import checkout, score  # noqa: E402
from test_golden import differences  # noqa: E402

from training.convert.ptc import article_split  # noqa: E402


def ptc_articles(data_dir: Path, limit: int) -> list[dict]:
    """The first ``limit`` PTC articles of the training split as scoring input records."""
    out = []
    for path in sorted((data_dir / "ptc" / "train-articles").glob("article*.txt")):
        article_id = path.stem.removeprefix("article")
        if article_split(article_id) != "train":
            continue
        title, _, body = path.read_text(encoding="utf-8").strip().partition("\n")
        out.append({"id": f"ptc-{article_id}", "title": title.strip(), "text": body.strip()})
        if len(out) == limit:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the git revision to compare against (e.g. a commit hash or HEAD~3)")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default="bench/results/identity.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "ptc.jsonl"
    articles = ptc_articles(Path(args.data_dir), args.articles)
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    base = checkout(args.base, tmp / "base")
    try:
        rows, rates = {}, {}
        for name, tree in {"this tree": ROOT, args.base: base}.items():
            out = tmp / name.replace(" ", "_") / "scores.jsonl"
            rates[name] = score(tree, corpus, out, workers=2)
            rows[name] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    found = differences(rows[args.base], rows["this tree"])
    for line in found[:50]:
        print(line)
    print(f"{len(articles)} articles, {len(rows['this tree'])} rows: {len(found)} differences from {args.base}")
    result = {
        "date": str(date.today()),
        "base": args.base,
        "articles": len(articles),
        "rows": len(rows["this tree"]),
        "differences": len(found),
        "sentences_per_second": rates,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
