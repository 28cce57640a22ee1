"""A labelled actor set from real news: articles for annotators, and their answers back to standoff.

    python -m training.actor_annotation sample --out /tmp/actors          # 1. choose articles, write batches
    # 2. annotators mark every actor mention and its canonical actor (docs/actor-annotation.md)
    python -m training.actor_annotation collect /tmp/actors/answers/*.jsonl --batches /tmp/actors \
        --annotator NAME --out training/data/actors/NAME.jsonl          # 3. answers -> standoff
    python -m training.actor_annotation sample --more --allsides 24 --ptc 6 --out /tmp/actors2  # more dev articles

Articles come from ../shared/data/allsides (title, blank line, text) and PTC's training articles
(the file as stored), in a seeded order, 150-900 words, at most two per outlet. Each article is
written as numbered paragraphs; an answer names a paragraph, the mention's exact text and its
occurrence in that paragraph. The standoff written by ``collect`` holds one line per article: its
id, split (``dev``: rules may be tuned on it; ``test``: measured only), a hash of the whole text,
the annotator and the mentions as ``[start, end, actor, type]`` character offsets, never the text.
``bench/actors_real.py`` reads it back (:func:`read_actor_set`) and scores ``stance score`` output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stance.pipeline.actor_registry import ACTOR_TYPES
from training.convert import resolve_data_dir
from training.convert.allsides import text_hash

ACTOR_SET_DIR = Path(__file__).resolve().parent / "data" / "actors"


@dataclass(frozen=True)
class GoldArticle:
    """One labelled article: ``document`` is the text the offsets point into; ``title_length`` the
    characters of its first line (the title; the body starts after the blank line that follows)."""

    doc_id: str
    split: str
    document: str
    title_length: int
    mentions: tuple[tuple[int, int, str, str], ...]  # (start, end, canonical actor, type)
    annotator: str


def document(doc_id: str, data_dir: str | Path) -> str:
    """The text an actor-set id points at: ``allsides:ID`` as title + blank line + text, ``ptc:N`` as stored.

    Example:
        >>> document("ptc:111111111", "../shared/data")[:20]  # doctest: +SKIP
        'Next plague outbreak'
    """
    source, _, key = doc_id.partition(":")
    if source == "allsides":
        return f"{_allsides(str(data_dir))[key][0]}\n\n{_allsides(str(data_dir))[key][1]}"
    if source == "ptc":
        return (Path(data_dir) / "ptc" / "train-articles" / f"article{key}.txt").read_text(encoding="utf-8")
    raise ValueError(f"unknown actor-set source in {doc_id!r} (expected allsides: or ptc:)")


_CACHE: dict[str, dict[str, tuple[str, str, str]]] = {}


def _allsides(data_dir: str) -> dict[str, tuple[str, str, str]]:
    """AllSides id -> (title, text, outlet), read once."""
    if data_dir not in _CACHE:
        import pyarrow.parquet as pq

        rows = pq.read_table(
            Path(data_dir) / "allsides" / "articles.parquet", columns=["id", "title", "text", "outlet"]
        ).to_pylist()
        _CACHE[data_dir] = {r["id"]: ((r["title"] or "").strip(), r["text"], r["outlet"]) for r in rows}
    return _CACHE[data_dir]


def paragraphs(text: str) -> list[tuple[int, str]]:
    """Non-empty lines of ``text`` with their character offsets."""
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, line))
        pos += len(line) + 1
    return out


def sample(data_dir: Path, n_allsides: int, n_ptc: int, n_dev: int) -> list[dict]:
    """Articles for annotation, in a seeded order: ``{"doc_id", "split", "paragraphs": [[offset, text]]}``."""

    def key(doc_id: str) -> str:
        return hashlib.sha256(f"actors:{doc_id}".encode()).hexdigest()

    chosen: list[tuple[str, str]] = []
    per_outlet: dict[str, int] = {}
    table = _allsides(str(data_dir))
    for doc_id in sorted(table, key=lambda d: key(f"allsides:{d}")):
        title, text, outlet = table[doc_id]
        if not title or not 150 <= len(text.split()) <= 900 or per_outlet.get(outlet, 0) >= 2:
            continue
        per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
        chosen.append(("allsides", f"allsides:{doc_id}"))
        if len(chosen) == n_allsides:
            break
    ptc = sorted(
        (p.stem.removeprefix("article") for p in (data_dir / "ptc" / "train-articles").glob("article*.txt")),
        key=lambda k: key(f"ptc:{k}"),
    )
    for k in ptc:
        if 150 <= len(document(f"ptc:{k}", data_dir).split()) <= 900:
            chosen.append(("ptc", f"ptc:{k}"))
            if sum(s == "ptc" for s, _ in chosen) == n_ptc:
                break
    # dev: the first articles of each source in the seeded order, in proportion
    dev_ptc = round(n_dev * n_ptc / (n_allsides + n_ptc))
    ptc_ids = [d for s, d in chosen if s == "ptc"]
    allsides_ids = [d for s, d in chosen if s == "allsides"]
    dev = set(ptc_ids[:dev_ptc]) | set(allsides_ids[: n_dev - dev_ptc])
    return [
        {"doc_id": d, "split": "dev" if d in dev else "test", "paragraphs": [list(p) for p in paragraphs(document(d, data_dir))]}
        for _, d in chosen
    ]


def labelled_articles(folder: Path = ACTOR_SET_DIR) -> set[str]:
    """The ids of every article in the labelled actor set."""
    return {
        json.loads(line)["doc_id"] for path in folder.glob("*.jsonl") for line in path.read_text(encoding="utf-8").splitlines()
    }


def sample_more(data_dir: Path, n_allsides: int, n_ptc: int, labelled: set[str]) -> list[dict]:
    """A later round: the next ``n_allsides`` and ``n_ptc`` articles of :func:`sample`'s seeded order after
    the ``labelled`` ones (which were its first), all of them in the ``dev`` split (more to tune rules on)."""
    have_allsides = sum(d.startswith("allsides:") for d in labelled)
    rows = sample(data_dir, have_allsides + n_allsides, len(labelled) - have_allsides + n_ptc, n_dev=0)
    return [{**r, "split": "dev"} for r in rows if r["doc_id"] not in labelled]


def write_batches(articles: list[dict], out: Path, per_batch: int) -> list[Path]:
    """Batches of articles as JSONL: ``dev_01.jsonl`` ..., ``test_01.jsonl`` ..."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in ("dev", "test"):
        rows = [a for a in articles if a["split"] == split]
        for b in range(0, len(rows), per_batch):
            path = out / f"{split}_{b // per_batch + 1:02d}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[b : b + per_batch]), encoding="utf-8")
            paths.append(path)
    return paths


def collect(answers: list[Path], batches: Path, annotator: str, out: Path, data_dir: Path) -> dict[str, int]:
    """Answer files (``{"doc_id", "para", "mentions": [{"text", "occurrence", "actor", "type"}]}`` per
    paragraph) -> one standoff line per article of the answers' batches. Problems are printed and counted."""
    from training.device_annotation import place_span

    articles = {}
    for path in sorted(batches.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            articles[obj["doc_id"]] = obj
    found: dict[str, set[tuple[int, int, str, str]]] = {}
    counts = {"articles": 0, "mentions": 0, "errors": 0}
    for path in answers:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            art = articles.get(obj.get("doc_id"))
            if art is None or not 0 <= int(obj.get("para", -1)) < len(art["paragraphs"]):
                print(f"{path}:{n}: unknown article or paragraph")
                counts["errors"] += 1
                continue
            offset, text = art["paragraphs"][int(obj["para"])]
            spans = found.setdefault(obj["doc_id"], set())
            for m in obj.get("mentions", []):
                if m.get("type") not in ACTOR_TYPES or not str(m.get("actor", "")).strip():
                    print(f"{path}:{n}: bad type or actor in {m}")
                    counts["errors"] += 1
                    continue
                placed = place_span(text, m, f"{path}:{n}", counts)
                if placed is not None:
                    spans.add((offset + placed[0], offset + placed[1], m["actor"].strip(), m["type"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for doc_id in found:
            doc = document(doc_id, data_dir)
            row = {
                "doc_id": doc_id,
                "split": articles[doc_id]["split"],
                "hash": text_hash(doc),
                "annotator": annotator,
                "mentions": sorted(list(m) for m in found[doc_id]),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            counts["articles"] += 1
            counts["mentions"] += len(found[doc_id])
    return counts


def read_actor_set(
    data_dir: str | Path, split: str | None = None, folder: Path = ACTOR_SET_DIR, files: str = "*.jsonl"
) -> Iterator[GoldArticle]:
    """The labelled articles (of one ``split``, or all; of the files matching ``files``, e.g. one batch
    ``"dev4_*"``), their text read from ``data_dir``; raises
    ValueError when an article's text no longer matches its hash.

    Example:
        >>> sum(len(a.mentions) for a in read_actor_set("../shared/data", "dev"))  # doctest: +SKIP
        312
    """
    for path in sorted(folder.glob(files)):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            obj = json.loads(line)
            if split is not None and obj["split"] != split:
                continue
            doc = document(obj["doc_id"], data_dir)
            if text_hash(doc) != obj["hash"]:
                raise ValueError(f"{path}:{n}: the text of {obj['doc_id']} no longer matches its hash")
            title_length = len(doc.split("\n", 1)[0])
            mentions = tuple((int(s), int(e), a, t) for s, e, a, t in obj["mentions"])
            yield GoldArticle(obj["doc_id"], obj["split"], doc, title_length, mentions, obj["annotator"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data", help="the shared data folder (found from the project root too)")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="choose articles and write annotation batches")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--allsides", type=int, default=60)
    s.add_argument("--ptc", type=int, default=20)
    s.add_argument("--dev", type=int, default=20, help="articles of the dev split (the rest is test)")
    s.add_argument("--per-batch", type=int, default=20)
    s.add_argument("--more", action="store_true", help="the next --allsides/--ptc articles after the labelled set, all dev")
    c = sub.add_parser("collect", help="answers -> standoff")
    c.add_argument("answers", type=Path, nargs="+")
    c.add_argument("--batches", type=Path, required=True)
    c.add_argument("--annotator", required=True)
    c.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    if args.command == "sample":
        if args.more:
            articles = sample_more(data_dir, args.allsides, args.ptc, labelled_articles())
        else:
            articles = sample(data_dir, args.allsides, args.ptc, args.dev)
        for path in write_batches(articles, args.out, args.per_batch):
            print(path)
    else:
        print(collect(args.answers, args.batches, args.annotator, args.out, data_dir))


if __name__ == "__main__":
    main()
