"""Actor mentions of `stance score` against the labelled actor set (training/data/actors/).

    python bench/actors_real.py [--split test] [--rev REV]
    python bench/actors_real.py --agreement     # a second annotator against the first, same measures

1. Reads the labelled articles (real articles from ../shared/data, AllSides and PTC: ``dev``, on which
   the rules may be tuned, 170 articles in six batches, and ``test``, 60 articles measured only) and
   writes them as a JSONL of
   ``id``, ``title``, ``text`` to a temporary folder.
2. Runs the whole `stance score` command on it, from this tree or (``--rev``) from a git worktree of an
   earlier commit, and maps each reported mention back to the article's character offsets.
3. Matches reported to labelled mentions one to one by the largest character overlap and reports
   mention precision and recall, and canonical-actor accuracy over the matched pairs: both names
   are compared after the registry of this tree maps an alias to its entry's name ("Trump" ->
   "Donald Trump"), case and a leading "the" ignored. Per type as well. Writes
   bench/results/actors_real[_REV].json.

With ``--agreement``, no model runs: the articles that ``training/data/actors_second/`` labels a second
time (annotators who saw neither the rules nor the first labels) are measured the same way, the second
annotator in the place of `stance score`: how far two careful readers of the guide agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from ab_commits import RUN_STANCE  # noqa: E402

from stance.pipeline.actor_registry import ActorRegistry  # noqa: E402
from stance.pipeline.actors.names import us_state_homonym  # noqa: E402
from training.actor_annotation import ACTOR_SET_DIR, read_actor_set  # noqa: E402
from training.convert import resolve_data_dir  # noqa: E402


def write_articles(articles: list, path: Path) -> dict[str, int]:
    """The articles as `stance score` input; returns each id's body offset in its document."""
    body_at = {}
    with open(path, "w", encoding="utf-8") as fh:
        for art in articles:
            title = art.document[: art.title_length]
            rest = art.document[art.title_length :]
            body_at[art.doc_id] = art.title_length + len(rest) - len(rest.lstrip())
            fh.write(json.dumps({"id": art.doc_id, "title": title.strip(), "text": art.document[body_at[art.doc_id] :]}) + "\n")
    return body_at


def score(tree: Path, corpus: Path, out: Path) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-c", RUN_STANCE, "score", str(corpus), "--out", str(out), "--overwrite", "--workers", "1"]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def predicted(rows: list[dict], articles: list, body_at: dict[str, int]) -> dict[str, list[tuple[int, int, str, str]]]:
    """Reported mentions per article, in document offsets."""
    title_start = {a.doc_id: a.document.index(a.document[: a.title_length].strip()) for a in articles}
    out: dict[str, list] = defaultdict(list)
    for row in rows:
        base = title_start[row["doc_id"]] if row["section"] == "title" else body_at[row["doc_id"]]
        for m in row["mentions"]:
            s = base + row["start"] + m["start"]
            out[row["doc_id"]].append((s, s + len(m["text"]), m["actor"], m["type"]))
    return out


def canonical(name: str, registry: ActorRegistry) -> str:
    owners = registry.lookup(name)
    if len(owners) == 1:
        name = owners[0].name
    name = name.strip().casefold()
    return name[4:] if name.startswith("the ") else name


def match(gold: list[tuple], pred: list[tuple]) -> list[tuple[tuple, tuple]]:
    """One-to-one pairs of overlapping mentions, largest overlap first."""
    pairs = []
    for g in gold:
        for p in pred:
            overlap = min(g[1], p[1]) - max(g[0], p[0])
            if overlap > 0:
                pairs.append((overlap, g, p))
    used_g, used_p, out = set(), set(), []
    for _, g, p in sorted(pairs, key=lambda x: -x[0]):
        if g not in used_g and p not in used_p:
            used_g.add(g)
            used_p.add(p)
            out.append((g, p))
    return out


def gold_name(name: str, kind: str) -> str:
    """A canonical name of a ``kind`` as the finder writes it where the guide leaves the form open (applied to both
    sides, so to a second annotator's names too, with ``--agreement``): a place the
    annotator named like a registry state ("Georgia", typed a place) is the US state of that name, as the finder
    names it ("Georgia (US state)"; the annotators wrote "Georgia", "Georgia (US state)" and "Georgia (U.S.
    state)"); the type the annotator gave says which one was meant."""
    name = name.replace("(U.S. state)", "(US state)")
    return (us_state_homonym(name, name, "") or name) if kind == "place" else name


def measure(articles: list, pred: dict[str, list], registry: ActorRegistry) -> dict:
    counts: dict[str, Counter] = defaultdict(Counter)
    errors: Counter = Counter()
    for art in articles:
        gold = list(art.mentions)
        guess = pred.get(art.doc_id, [])
        pairs = match(gold, guess)
        for key in ("all", *{g[3] for g in gold}):
            counts[key]["gold"] += sum(1 for g in gold if key in ("all", g[3]))
        counts["all"]["predicted"] += len(guess)
        for g, p in pairs:
            same = canonical(gold_name(g[2], g[3]), registry) == canonical(gold_name(p[2], p[3]), registry)
            for key in ("all", g[3]):
                counts[key]["matched"] += 1
                counts[key]["same_actor"] += same
            if not same:
                errors[("actor", art.document[p[0] : p[1]], p[2], g[2])] += 1
        matched_g, matched_p = {g for g, _ in pairs}, {p for _, p in pairs}
        for g in gold:
            if g not in matched_g:
                errors[("missed", art.document[g[0] : g[1]], "", g[2])] += 1
        for p in guess:
            if p not in matched_p:
                errors[("extra", art.document[p[0] : p[1]], p[2], "")] += 1
    out = {}
    for key, c in counts.items():
        row = {
            "gold": c["gold"],
            "recall": round(c["matched"] / c["gold"], 3) if c["gold"] else None,
            "actor_accuracy": round(c["same_actor"] / c["matched"], 3) if c["matched"] else None,
        }
        if key == "all":
            row["predicted"] = c["predicted"]
            row["precision"] = round(c["matched"] / c["predicted"], 3) if c["predicted"] else None
        out[key] = row
    return out, errors


def agreement(data_dir: Path, show_errors: int = 0) -> dict:
    """The second annotator's mentions (``training/data/actors_second/``) measured against the first's."""
    second = {a.doc_id: a for a in read_actor_set(data_dir, folder=ACTOR_SET_DIR.parent / "actors_second")}
    first = [a for a in read_actor_set(data_dir) if a.doc_id in second]
    if not first:
        raise SystemExit("no article of training/data/actors_second/ is in the labelled actor set")
    pred = {a.doc_id: list(second[a.doc_id].mentions) for a in first}
    result, errors = measure(first, pred, ActorRegistry.load())
    print_errors(errors, show_errors)
    report = {"date": date.today().isoformat(), "agreement": True, "articles": len(first), "by_type": result}
    publish(report, "actors_agreement")
    return report


def print_errors(errors: Counter, most: int) -> None:
    """The ``most`` commonest mismatches: kind, the text, what was reported / what the labels say."""
    for (kind, text, got, want), n in errors.most_common(most):
        print(f"{n:3d}  {kind:6s} {text!r}: {got!r} / {want!r}")


def publish(report: dict, name: str) -> None:
    """Print the report and write it to bench/results/NAME.json."""
    print(json.dumps(report, indent=1))
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=["dev", "test", "all"])
    parser.add_argument("--rev", default=None, help="score with an earlier commit (a git worktree of it)")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument(
        "--files", default="*.jsonl", help="only the labelled files matching this pattern, e.g. one batch: 'dev4_*'"
    )
    parser.add_argument("--show-errors", type=int, default=0, help="print the most common actor mismatches (dev only)")
    parser.add_argument("--agreement", action="store_true", help="the second annotator against the first, no model")
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir)
    if args.agreement:
        agreement(data_dir, args.show_errors)
        return
    articles = list(read_actor_set(data_dir, None if args.split == "all" else args.split, files=args.files))
    if not articles:
        raise SystemExit(f"no labelled {args.split} articles in files {args.files!r}")
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "articles.jsonl"
    body_at = write_articles(articles, corpus)
    tree = ROOT
    if args.rev:
        tree = tmp / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.rev], cwd=ROOT, check=True, capture_output=True)
    try:
        rows = score(tree, corpus, tmp / "scores.jsonl")
    finally:
        if args.rev:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    result, errors = measure(articles, predicted(rows, articles, body_at), ActorRegistry.load())
    if args.split == "dev":
        print_errors(errors, args.show_errors)
    report = {
        "date": date.today().isoformat(),
        "split": args.split,
        "rev": args.rev or "working tree",
        "files": args.files,
        "articles": len(articles),
        "machine": os.uname().nodename,
        **{"by_type": result},
    }
    batch = "" if args.files == "*.jsonl" else "_" + "".join(ch for ch in args.files if ch.isalnum())
    publish(report, f"actors_real_{args.split}{batch}" + (f"_{args.rev[:8]}" if args.rev else ""))


if __name__ == "__main__":
    main()
