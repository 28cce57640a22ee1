"""Real news sentences for device annotation, and annotators' answers back to standoff labels.

    python -m training.device_annotation sample --out /tmp/annot      # 1. choose sentences, write batches
    # 2. annotators label each batch by ../shared/annotation-guide.md
    python -m training.device_annotation collect /tmp/annot/answers/*.jsonl --annotator NAME \
        --out training/data/real_devices/NAME.jsonl                     # 3. answers -> standoff
    python -m training.device_annotation sample-more --out /tmp/annot3 \
        --device scare_quotes=900 --device name_calling=400             # later rounds: rarer devices only
    python -m training.device_annotation sample-more --out /tmp/annot5 --prefix train5 \
        --predicted loaded_language=450 --model default                 # or where the model fires
    python -m training.device_annotation sample-more --out /tmp/annot17 --prefix dev17 --split dev \
        --random 200 --device loaded_language=100                       # grow the dev set alone
    python -m training.device_annotation export training/data/real_devices_next/train*_ann_*.jsonl \
        --split train --out /tmp/new_labels.jsonl                        # standoff -> label file (stance retrain --new)

Sentences come from the project's own splitter over ../shared/data/allsides (body sentences, no
boilerplate, 8-80 words). ``sample`` chooses, per article split (training.convert.allsides), cue-word
candidates for each of the six devices, near misses (neutral attribution, named sources, quotations,
official titles) and random sentences; candidates are only where to look: every label comes from
reading. Batches hold ``sid`` (doc_id:start:end) and the sentence text and stay outside the project;
the standoff written by ``collect`` holds only ids, offsets, labels, a hash and the annotator;
``export`` reads the sentences back from ../shared/data into a label file (outside the project: it holds text).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from stance.labels.taxonomy import FIXED_DEVICES
from training.convert.allsides import article_split, text_hash

CUES: dict[str, re.Pattern[str]] = {
    "loaded_language": re.compile(
        r"\b(slamm|blast|lash(?:ed)? out|brag|outrage|disastrous|reckless|draconian|unprovoked|parrot|tirade|rant(?:s|ed)?\b|"
        r"scheme|ploy|brutal|vicious|shameful|disgrace|assault on|war on|crackdown|catastroph|hysteri|chaos|smear|"
        r"rammed|gutted|slash|rigged|onslaught|bombshell|explosive|scathing|furious|fury|horrif|atroc|massive|"
        r"extremist|radical|stunning|shocking|debacle|fiasco|meltdown|gimmick|handout|giveaway|power grab)",
        re.I,
    ),
    "name_calling": re.compile(
        r"\b(regime|thugs?|illegal aliens?|illegals|extremists?|radical left|far-left|far-right|socialists?|snowflakes?|"
        r"elites?|globalists?|mob\b|puppet|tyrant|dictator|demagogue|cronies|zealots?|hardliners?|hawks?\b|"
        r"apologists?|propagandists?|leftists?|right-wingers?|liberals?|alarmists?|deniers?|fanatics?|racists?)",
        re.I,
    ),
    "discrediting_attribution": re.compile(
        r"\b(falsely|wrongly|without (?:any )?evidence|baseless|debunked|unfounded|bogus|so-called|unsubstantiated|"
        r"misleading|false claims?|conspiracy theor|dubious|discredited|spurious|erroneously)",
        re.I,
    ),
    "unsourced_claim": re.compile(
        r"\b(widely (?:believed|seen|expected|considered|viewed|regarded)|critics (?:say|said|argue|contend|charge)|"
        r"some (?:say|argue|have|believe|fear)|many (?:believe|say|observers|fear)|it is (?:thought|believed|said|widely)|"
        r"(?:is|are|was|were) (?:said|believed|thought|seen) to|reportedly|analysts (?:say|said|believe)|"
        r"experts (?:say|said|believe|warn)|observers|(?:is|was) seen as|many (?:americans|people))",
        re.I,
    ),
    "speculative_interpretation": re.compile(
        r"\b(apparent(?:ly)? (?:dig|jab|reference|swipe|shot|attempt|nod|effort)|veiled|thinly|seen as an? (?:rebuke|snub|signal|message|warning|sign)|"
        r"a nod to|hinted|implied|code for|referring to|in what appeared|appeared to|signal(?:ing|led|s)? that|"
        r"in an apparent|an allusion|alluding|not-so-subtle|a swipe at|a dig at|a jab at|a shot at|sending a message)",
        re.I,
    ),
    "scare_quotes": re.compile(r"[\"“][^\"“”]{2,30}[\"”]"),
}
NEAR_MISS = re.compile(
    r"\b(said|told reporters|according to|spokesm[ae]n|spokeswoman|secretary|minister|senator|reported|statement)\b", re.I
)
SHORT_QUOTE_WORDS = 4
LATER_ROUND_SPLITS = ("train", "dev")  # the articles annotation rounds read from; held-out articles never


def sentences(data_dir: str | Path, *, max_articles: int | None = None, seed: int = 13) -> Iterator[dict]:
    """Body sentences of AllSides articles (dicts: sid, doc_id, start, end, text, split), in a seeded order."""
    import pyarrow.parquet as pq

    from stance.pipeline.sentences import get_splitter

    table = pq.read_table(Path(data_dir) / "allsides" / "articles.parquet", columns=["id", "title", "text"]).to_pylist()
    random.Random(seed).shuffle(table)
    splitter = get_splitter("news")
    for row in table[:max_articles]:
        for s in splitter.split(row["text"], title=row["title"]):
            words = len(s.text.split())
            if s.boilerplate or not 8 <= words <= 80:
                continue
            yield {
                "sid": f"{row['id']}:{s.start}:{s.end}",
                "doc_id": row["id"],
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "split": article_split(row["id"]),
            }


def short_quotes(text: str) -> Iterator[re.Match[str]]:
    """Quotations of at most four words: the scare-quote cue."""
    return (m for m in CUES["scare_quotes"].finditer(text) if len(m.group(0).split()) <= SHORT_QUOTE_WORDS)


def cue_devices(text: str) -> list[str]:
    """The devices whose cue words occur in ``text`` (a scare-quote cue is a quotation of at most four words)."""
    found = []
    for name, pattern in CUES.items():
        matches = short_quotes(text) if name == "scare_quotes" else pattern.finditer(text)
        if next(matches, None) is not None:
            found.append(name)
    return found


def pick(chosen: dict[str, dict], why: str, candidates: Iterable[dict], n: int) -> None:
    """Add up to ``n`` of ``candidates`` to ``chosen`` (by sid) with reason ``why``: one sentence per
    article, none chosen twice."""
    seen_docs: set[str] = set()
    taken = 0
    for s in candidates:
        if taken >= n:
            break
        if s["sid"] not in chosen and s["doc_id"] not in seen_docs:
            chosen[s["sid"]] = {**s, "why": why}
            seen_docs.add(s["doc_id"])
            taken += 1


def choose(pool: list[dict], per_device: dict[str, int], near_misses: int, randoms: int, seed: int = 13) -> list[dict]:
    """Cue candidates per device (one sentence per article and device), near misses and random sentences, no repeats."""
    rng = random.Random(seed)
    rng.shuffle(pool)
    chosen: dict[str, dict] = {}
    for device, n in per_device.items():
        pick(chosen, device, (s for s in pool if device in cue_devices(s["text"])), n)
    near = [s for s in pool if s["sid"] not in chosen and not cue_devices(s["text"]) and NEAR_MISS.search(s["text"])]
    for s in near[:near_misses]:
        chosen[s["sid"]] = {**s, "why": "near_miss"}
    rest = [s for s in pool if s["sid"] not in chosen]
    for s in rest[:randoms]:
        chosen[s["sid"]] = {**s, "why": "random"}
    out = list(chosen.values())
    rng.shuffle(out)
    return out


REPORTED_QUOTE = re.compile(
    r"\b(said|says|told|called|calls|call|described|describes|dubbed|termed|wrote|writes|tweeted|posted|added|"
    r"as|like|words?|phrase|term)\W*$",
    re.I,
)


def scare_quote_candidate(text: str) -> bool:
    """A short quotation not introduced as reported speech (``called it "a hoax"`` is a partial quote):
    the likelier scare-quote candidates. Only where to look; the label still comes from reading."""
    return any(not REPORTED_QUOTE.search(text[max(0, m.start() - 25) : m.start()]) for m in short_quotes(text))


LABELLED_DIR = Path(__file__).resolve().parent / "data"


def labelled_sentences(folder: Path = LABELLED_DIR, key: tuple[str, ...] = ("doc_id", "start", "end")) -> set[tuple]:
    """The ``key`` fields (default: doc_id, start, end) of every sentence already labelled for devices
    (training, waiting and held-out files)."""
    done = set()
    for path in folder.glob("real_devices*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            done.add(tuple(obj[k] for k in key))
    return done


def choose_more(
    pool: list[dict],
    per_device: dict[str, int],
    done: set[tuple[str, str]] | None = None,
    seed: int = 17,
    *,
    predicted: dict[str, int] | None = None,
    predict: Callable[[list[str]], list[set[str]]] | None = None,
    randoms: int = 0,
    splits: tuple[str, ...] = LATER_ROUND_SPLITS,
) -> list[dict]:
    """A later round: cue candidates of the named devices only (one sentence per article and device),
    from the articles of ``splits`` (training and dev; never held-out), none of them in ``done``: ``(doc_id, text_hash)`` of every sentence
    labelled so far by default. Keyed by text, not offsets, since some articles repeat a passage: the same
    sentence at another offset counts as labelled (it was read twice in rounds 8 and 10, 10 and 11).

    ``predicted``: also, per device, sentences where a model finds that device (``predict`` gives the
    device labels of each text): where the model fires, so that its false alarms get read and labelled.
    Their reason is written as ``model:DEVICE``. ``randoms``: also that many sentences at random (one per
    article), as text comes: what the false-alarm limit and the held-out set read besides cue words.
    ``splits=("dev",)`` grows the dev set alone, on which shipping decisions are made.
    """
    if not splits or not set(splits) <= set(LATER_ROUND_SPLITS):
        raise ValueError(f"a later round reads train and/or dev articles, not {splits!r}")
    done = set(labelled_sentences(key=("doc_id", "hash"))) if done is None else set(done)
    fresh = []
    for s in pool:
        key = (s["doc_id"], text_hash(s["text"]))
        if s["split"] in splits and key not in done:
            done.add(key)  # a passage repeated within an article is a candidate once
            fresh.append(s)
    pool = fresh
    cued = {
        d: [s for s in pool if (scare_quote_candidate(s["text"]) if d == "scare_quotes" else d in cue_devices(s["text"]))]
        for d in per_device
    }
    if predicted:
        if predict is None:
            raise ValueError("predicted candidates need a predict function")
        found = predict([s["text"] for s in pool])
        cued.update({f"model:{d}": [s for s, labels in zip(pool, found) if d in labels] for d in predicted})
    rng = random.Random(seed)
    chosen: dict[str, dict] = {}
    wanted = {**per_device, **{f"model:{d}": n for d, n in (predicted or {}).items()}}
    for device, n in wanted.items():
        rng.shuffle(cued[device])
        pick(chosen, device, cued[device], n)
    if randoms:
        pick(chosen, "random", rng.sample(pool, len(pool)), randoms)
    out = list(chosen.values())
    rng.shuffle(out)
    return out


def device_counts(items: list[str], option: str) -> dict[str, int]:
    """``["loaded_language=500", ...]`` -> ``{"loaded_language": 500}``; a clear error otherwise."""
    counts = {}
    for item in items:
        name, _, n = item.partition("=")
        if name not in FIXED_DEVICES or not n.isdigit():
            raise ValueError(f"{option} wants DEVICE=N with DEVICE one of {list(FIXED_DEVICES)}, got {item!r}")
        counts[name] = int(n)
    return counts


def model_devices(model: str) -> Callable[[list[str]], list[set[str]]]:
    """A predict function for :func:`choose_more`: the device labels a model gives each text, as users get them."""
    from stance.model.modeling import StanceModel

    loaded = StanceModel.from_pretrained(model)
    return lambda texts: [{d.label for d in p.devices} for p in loaded.predict(texts)]


def write_batches(rows: list[dict], out: Path, prefix: str, size: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(0, len(rows), size):
        path = out / f"{prefix}_{i // size:02d}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows[i : i + size]:
                fh.write(json.dumps({"sid": r["sid"], "text": r["text"]}, ensure_ascii=False) + "\n")
        paths.append(path)
    (out / f"{prefix}_meta.jsonl").write_text(
        "".join(json.dumps({k: r[k] for k in ("sid", "why", "split")}) + "\n" for r in rows)
    )
    return paths


def resolve_span(text: str, span: dict) -> tuple[int, int]:
    """Character offsets of an answer span given as its exact ``text`` and 1-based ``occurrence``."""
    needle, occurrence = span["text"], int(span.get("occurrence", 1))
    pos = -1
    for _ in range(occurrence):
        pos = text.find(needle, pos + 1)
        if pos < 0:
            raise ValueError(f"span {needle!r} (occurrence {occurrence}) not found in: {text[:80]}...")
    return pos, pos + len(needle)


def place_span(text: str, span: dict, where: str, counts: dict[str, int]) -> tuple[int, int] | None:
    """:func:`resolve_span`, or None after printing why (at ``where``) and counting an error: what both
    annotation collectors (devices, actors) do with an answer that cannot be placed."""
    try:
        return resolve_span(text, span)
    except ValueError as exc:
        print(f"{where}: {exc}")
        counts["errors"] += 1
        return None


def chosen_by(why: str) -> str:
    """The standoff's ``chosen_by`` for a sampling reason (``why``): ``model`` for ``model:DEVICE``,
    ``cue_word`` for a device's cue word, else the reason itself (``near_miss``, ``random``).

    Example:
        >>> chosen_by("model:scare_quotes"), chosen_by("scare_quotes"), chosen_by("random")
        ('model', 'cue_word', 'random')
    """
    if why.startswith("model:"):
        return "model"
    return "cue_word" if why in FIXED_DEVICES else why


def collect(answers: list[Path], batches: Path, annotator: str, out: Path) -> dict[str, int]:
    """Turn answer files (``{"sid", "spans": [{"label", "text", "occurrence"}]}``) into standoff lines,
    each with how its sentence was sampled (``chosen_by``, from the batches' ``*_meta.jsonl``)."""
    texts, reasons = {}, {}
    for path in batches.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            if path.name.endswith("_meta.jsonl"):
                reasons[obj["sid"]] = chosen_by(obj["why"])
            else:
                texts[obj["sid"]] = obj["text"]
    counts = {"sentences": 0, "spans": 0, "errors": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    seen = set()
    with open(out, "w", encoding="utf-8") as fh:
        for path in answers:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                sid = obj["sid"]
                if sid not in texts or sid in seen:
                    counts["errors"] += 1
                    continue
                text = texts[sid]
                spans = []
                for span in obj.get("spans", []):
                    if span.get("label") not in FIXED_DEVICES:
                        print(f"{path}:{n}: unknown label {span.get('label')!r}")
                        counts["errors"] += 1
                        continue
                    placed = place_span(text, span, f"{path}:{n}", counts)
                    if placed is not None:
                        spans.append([*placed, span["label"]])
                doc_id, start, end = sid.rsplit(":", 2)
                row = {
                    "doc_id": doc_id,
                    "start": int(start),
                    "end": int(end),
                    "hash": text_hash(text),
                    "spans": sorted(spans),
                    "annotator": annotator,
                }
                if sid in reasons:
                    row["chosen_by"] = reasons[sid]
                fh.write(json.dumps(row) + "\n")
                seen.add(sid)
                counts["sentences"] += 1
                counts["spans"] += len(spans)
    return counts


def export(standoff: Iterable[Path], data_dir: str | Path, out: Path, split: str | None = None) -> int:
    """Standoff device labels as a label-format file (the sentences' text read from ``data_dir``, labelled
    for the six devices), of one article split or all; for ``stance retrain --new``. A sentence labelled
    twice (a passage an article repeats, read in two rounds) is written once, as first labelled, since
    a label file holds each sentence once. Returns the count written.

    Example:
        >>> export(sorted(Path("training/data/real_devices_next").glob("train*_ann_*.jsonl")), "../shared/data",
        ...        Path("/tmp/new_labels.jsonl"), split="train")  # doctest: +SKIP
        2830
    """
    from stance.labels.format import write_label_file
    from training.convert.allsides import article_texts, read_standoff

    if split not in (None, "train", "dev", "heldout"):
        raise ValueError(f"allsides splits are train, dev and heldout, not {split!r}")
    texts = article_texts(str(data_dir))
    seen: set[str] = set()
    records = []
    for r in (r for path in standoff for r in read_standoff(path, texts)):
        if (split is None or article_split(r.doc_id) == split) and r.text not in seen:
            seen.add(r.text)
            records.append(r)
    return write_label_file(records, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="choose sentences and write annotation batches")
    s.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--articles", type=int, default=6000, help="articles to read (seeded sample)")
    s.add_argument("--batch-size", type=int, default=150)
    m = sub.add_parser("sample-more", help="a later round: candidates of named devices, none labelled before")
    m.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--device", action="append", default=[], help="DEVICE=N cue-word candidates, repeatable")
    m.add_argument("--predicted", action="append", default=[], help="DEVICE=N sentences where --model finds DEVICE, repeatable")
    m.add_argument("--model", default="default", help="the model whose predictions --predicted reads")
    m.add_argument("--random", type=int, default=0, help="also N sentences at random, one per article")
    m.add_argument("--articles", type=int, default=None, help="articles to read (seeded order; default all)")
    m.add_argument("--split", choices=LATER_ROUND_SPLITS, default=None, help="only this article split (default: train and dev)")
    m.add_argument("--prefix", default="train3")
    m.add_argument("--batch-size", type=int, default=150)
    c = sub.add_parser("collect", help="answers -> standoff labels")
    c.add_argument("answers", type=Path, nargs="+")
    c.add_argument("--batches", type=Path, required=True, help="the folder the batches were written to")
    c.add_argument("--annotator", required=True)
    c.add_argument("--out", type=Path, required=True)
    e = sub.add_parser("export", help="standoff labels -> a label-format file with the text (stance retrain --new)")
    e.add_argument("standoff", type=Path, nargs="+")
    e.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    e.add_argument("--split", choices=("train", "dev", "heldout"), default=None, help="only this article split")
    e.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "sample":
        pool = list(sentences(args.data_dir, max_articles=args.articles))
        train_pool = [s for s in pool if s["split"] in LATER_ROUND_SPLITS]
        held_pool = [s for s in pool if s["split"] == "heldout"]
        per_device = {
            d: 400 if d in ("scare_quotes", "speculative_interpretation", "discrediting_attribution") else 330
            for d in FIXED_DEVICES
        }
        train = choose(train_pool, per_device, near_misses=550, randoms=550)
        held = choose(held_pool, {d: 45 for d in FIXED_DEVICES}, near_misses=80, randoms=190)
        print(f"pool {len(pool)} sentences; training batches {len(train)}, held-out {len(held)}")
        write_batches(train, args.out / "train", "train", args.batch_size)
        write_batches(held, args.out / "heldout", "heldout", args.batch_size)
    elif args.command == "sample-more":
        per_device, predicted = device_counts(args.device, "--device"), device_counts(args.predicted, "--predicted")
        predict = model_devices(args.model) if predicted else None
        rows = choose_more(
            list(sentences(args.data_dir, max_articles=args.articles)),
            per_device,
            predicted=predicted,
            predict=predict,
            randoms=args.random,
            splits=(args.split,) if args.split else LATER_ROUND_SPLITS,
        )
        print(f"{len(rows)} sentences: {dict(Counter(r['why'] for r in rows))}")
        write_batches(rows, args.out, args.prefix, args.batch_size)
    elif args.command == "export":
        print(f"{export(args.standoff, args.data_dir, args.out, args.split)} sentences -> {args.out}")
    else:
        print(collect(args.answers, args.batches, args.annotator, args.out))


if __name__ == "__main__":
    main()
