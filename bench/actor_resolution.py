"""How bare surnames and party names are counted on real news: AllSides articles through the mentions
`stance score` reports (stance.pipeline.scorer.find_targets: the same splitter, actor finder and dateline rule).

    python bench/actor_resolution.py [--articles 2000]                # this tree
    PYTHONPATH=/path/to/old/tree python bench/actor_resolution.py      # an earlier tree, for a before/after

1. Reads a seeded sample of ../shared/data/allsides articles (title and body).
2. For each person of the issue's table (Trump, Obama, McConnell, Sanders, Romney, Schumer, Pelosi):
   among the mentions written as the bare surname (a title before it is not part of the span), the share
   resolved to a full name ending in it ("Donald Trump"; for Sanders also "Sarah Huckabee Sanders"), the
   share resolved to the person of the table, and the share left ambiguous, with why: several bearers
   named in the article, or none named and several in the registry.
3. For the US parties: the actor names under which mentions written as Republican(s), GOP, G.O.P.,
   Democrat(s), Democratic, Dem(s) are counted.
Writes bench/results/actor_resolution.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

PEOPLE = {
    "Trump": "Donald Trump",
    "Obama": "Barack Obama",
    "McConnell": "Mitch McConnell",
    "Sanders": "Bernie Sanders",
    "Romney": "Mitt Romney",
    "Schumer": "Chuck Schumer",
    "Pelosi": "Nancy Pelosi",
}
PARTY_WORDS = re.compile(r"^(?:Republicans?|GOP|G\.O\.P\.|Democrats?|Democratic|Dems?)$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import pyarrow.parquet as pq

    import stance

    try:
        from stance.pipeline.actors import ActorFinder
        from stance.pipeline.scorer import find_targets, to_article
        from stance.pipeline.sentences import get_splitter
    except ImportError:  # a tree from before the relayout into wings
        from stance.actors import ActorFinder  # type: ignore[no-redef]
        from stance.scoring import find_targets, to_article  # type: ignore[no-redef]
        from stance.sentences import get_splitter  # type: ignore[no-redef]

    rows = pq.read_table(Path(args.data_dir) / "allsides" / "articles.parquet", columns=["id", "title", "text"]).to_pylist()
    random.Random(2026).shuffle(rows)
    articles, refused = [], 0
    for i, r in enumerate(rows[: args.articles]):
        try:
            articles.append(to_article({"id": r["id"], "title": (r["title"] or "").strip(), "text": r["text"]}, i))
        except ValueError:  # what `stance score` puts in its errors file (a control character): left out, counted
            refused += 1
    finder, splitter = ActorFinder(), get_splitter("news")
    started = time.perf_counter()
    units, targets, _ = find_targets(articles, splitter, finder)
    seconds = time.perf_counter() - started
    per_article: dict[int, list] = defaultdict(list)
    for u, _, _, mentions in targets:
        per_article[units[u][0]].extend(mentions)

    people: dict[str, Counter] = {s: Counter() for s in PEOPLE}
    parties: dict[str, Counter] = {"Republican": Counter(), "Democratic": Counter()}
    for mentions in per_article.values():
        bearers = {s: {m.actor for m in mentions if m.actor != s and m.actor.endswith(" " + s)} for s in PEOPLE}
        for m in mentions:
            if m.text in PEOPLE:
                c = people[m.text]
                c["bare"] += 1
                c["full_name"] += m.actor != m.text and m.actor.endswith(" " + m.text)
                c["this_person"] += m.actor == PEOPLE[m.text]
                if getattr(m, "resolution", None) == "ambiguous" or m.actor == m.text:
                    c["left_as_surname"] += 1
                    c[
                        "several_named_in_article"
                        if len(bearers[m.text]) > 1
                        else "none_named"
                        if not bearers[m.text]
                        else "one_named"
                    ] += 1
            if PARTY_WORDS.match(m.text):
                side = "Republican" if m.text[0] in "RG" else "Democratic"
                parties[side][m.actor] += 1
    report = {
        "date": date.today().isoformat(),
        "stance": str(Path(stance.__file__).resolve().parent),
        "articles": len(articles),
        "articles_refused": refused,
        "finder_seconds": round(seconds, 1),
        "machine": os.uname().nodename,
        "surnames": {
            s: {
                "bare_mentions": c["bare"],
                "resolved_to_a_full_name": round(c["full_name"] / c["bare"], 3) if c["bare"] else None,
                "resolved_to_" + PEOPLE[s].replace(" ", "_"): round(c["this_person"] / c["bare"], 3) if c["bare"] else None,
                "left_as_surname": c["left_as_surname"],
                "why_left": {k: c[k] for k in ("several_named_in_article", "none_named", "one_named") if c[k]},
            }
            for s, c in people.items()
        },
        "parties": {side: {"names_counted_under": len(c), "top": c.most_common(5)} for side, c in parties.items()},
    }
    print(json.dumps(report, indent=1))
    out = Path(args.out or Path(__file__).resolve().parent / "results" / "actor_resolution.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
