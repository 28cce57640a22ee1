"""The actors of a scored collection, for a researcher to review: counts, surface forms and merge candidates.

:func:`review_actors` lists every actor of ``stance score`` output with its type, mention and article
counts, its surface forms and how often its name stayed ambiguous, and proposes merges of actors
that may be one (the same surname, the same first and last name, a shared surface form, near-identical names);
:func:`write_overrides` writes the proposals as the ``merges`` of an actor file (the registry's YAML shape)
that the researcher edits and gives back with ``--actors``: ``stance score`` adds each merged name to its
actor's aliases, ``stance compare`` applies the merges to existing scores without rescoring
(:func:`merge_map`), and both count the names the same way.

Example:
    >>> from stance.analysis.actor_table import review_actors, write_overrides
    >>> review = review_actors("scores.parquet")  # doctest: +SKIP
    >>> write_overrides(review, "merges.yaml")  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from stance.io.score_files import (
    REPEATED_IN,
    Source,
    as_list,
    read_scores,
    without_duplicate_sentences,
    without_repeated_sentences,
)
from stance.pipeline.actor_registry import ActorRegistry, read_registry_file

TABLE_COLUMNS = ["actor", "type", "n_mentions", "n_articles", "n_ambiguous", "surface_forms", "merge_candidates"]
CANDIDATE_COLUMNS = ["actor", "merge_into", "reason", "n_mentions", "n_mentions_into"]
SURFACE_FORMS_SHOWN = 8
NEAR_IDENTICAL = 0.92  # difflib ratio of normalised names


@dataclass(frozen=True, eq=False)
class ActorReview:
    """What :func:`review_actors` returns: ``actors`` (one row per actor, most mentioned first: actor,
    type, n_mentions, n_articles, n_ambiguous, surface_forms, merge_candidates), ``merges`` (actor,
    merge_into, reason, n_mentions, n_mentions_into) and ``notes`` (what the reader should know, such as
    duplicate rows counted once)."""

    actors: pd.DataFrame
    merges: pd.DataFrame
    notes: tuple[str, ...] = ()


def review_actors(data: Source, *, repeated_in: int = REPEATED_IN) -> ActorReview:
    """The actors of ``stance score`` output (files, folders of shards or a DataFrame) and merge proposals.

    ``surface_forms`` lists the texts an actor was found as, with counts ("Trump ×120; Donald Trump ×31");
    ``n_ambiguous`` counts mentions whose short name several people could bear (their actor is the short
    name itself). Merges pair actors that may be one, merged into the more mentioned: ``same surname``
    (a bare surname left as an actor and the full names ending in it), ``same first and last name`` (people
    written with and without a middle name: "Lee Harvey Oswald"/"Lee Oswald"), ``shared surface form`` (an actor's
    name is how another actor was also written: "EPA" beside "Environmental Protection Agency" found as
    "EPA") and ``near-identical names`` ("the GOP"/"GOP", "Donald J Trump"/"Donald Trump"). An actor with
    ambiguous mentions ("Clinton", where Bill and Hillary Clinton both qualified) is never proposed into one
    of its bearers. Rows repeated in the input (the same doc_id and sentence_id, as when a file is given
    twice) are counted once, and page furniture repeated across an outlet's articles is counted once
    (:func:`~stance.io.score_files.without_repeated_sentences`, ``repeated_in``), as ``stance compare`` does, with notes.

    Example:
        >>> review = review_actors("scores.parquet")  # doctest: +SKIP
        >>> review.actors[["actor", "type", "n_mentions"]].head(3)  # doctest: +SKIP
        >>> review.merges.head()  # doctest: +SKIP
    """
    notes: list[str] = []
    frame = without_repeated_sentences(without_duplicate_sentences(read_scores(data), notes), notes, repeated_in)
    count: Counter = Counter()
    articles: dict[str, set] = defaultdict(set)
    types: dict[str, Counter] = defaultdict(Counter)
    forms: dict[str, Counter] = defaultdict(Counter)
    ambiguous: Counter = Counter()
    for doc, cell in zip(frame["doc_id"], frame["mentions"], strict=True):
        for m in as_list(cell):
            actor = str(m["actor"])
            count[actor] += 1
            articles[actor].add(doc)
            types[actor][str(m.get("type"))] += 1
            forms[actor][str(m.get("text"))] += 1
            ambiguous[actor] += m.get("resolution") == "ambiguous"
    kind = {a: t.most_common(1)[0][0] for a, t in types.items()}
    merges = _merge_candidates(
        count, kind, {a: set(f) for a, f in forms.items()}, frozenset(a for a, n in ambiguous.items() if n)
    )
    partners: dict[str, list[str]] = defaultdict(list)
    for a, b in zip(merges["actor"], merges["merge_into"], strict=True):
        partners[a].append(b)
        partners[b].append(a)
    rows = [
        {
            "actor": actor,
            "type": kind[actor],
            "n_mentions": n,
            "n_articles": len(articles[actor]),
            "n_ambiguous": ambiguous[actor],
            "surface_forms": "; ".join(f"{t} ×{c}" for t, c in forms[actor].most_common(SURFACE_FORMS_SHOWN)),
            "merge_candidates": "; ".join(dict.fromkeys(partners.get(actor, []))),
        }
        for actor, n in count.most_common()
    ]
    return ActorReview(pd.DataFrame(rows, columns=TABLE_COLUMNS), merges, tuple(notes))


def _merge_candidates(
    count: Counter, kind: dict[str, str], forms: dict[str, set[str]], ambiguous: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Each actor that may be another, with the one it would merge into (chains followed to the end). An actor
    in ``ambiguous`` (one with mentions the finder left ambiguous) is proposed into none."""
    into: dict[str, tuple[str, str]] = {}  # source -> (target, reason); the first proposal for a source stands

    def propose(source: str, target: str, reason: str) -> None:
        if source != target and source not in into and source not in ambiguous:
            into[source] = (target, reason)

    for actor, surfaces in forms.items():  # "EPA" found as an actor and as a form of "Environmental Protection Agency"
        for text in sorted(surfaces):
            if text != actor and text in count and len(actor) > len(text):
                propose(text, actor, "shared surface form")
    full_names: dict[str, list[str]] = defaultdict(list)
    for actor in count:
        if kind[actor] == "person" and " " in actor:
            full_names[actor.split()[-1]].append(actor)
    for actor in count:  # a bare surname left as an actor of its own: the most mentioned full name bearing it
        if kind[actor] == "person" and actor in full_names:
            propose(actor, max(full_names[actor], key=lambda n: (count[n], len(n))), "same surname")
    normal_of = {actor: _normal(actor) for actor in count}
    first_last: dict[tuple[str, str], list[str]] = defaultdict(list)
    for actor in count:  # "Lee Harvey Oswald" beside "Lee Oswald": a middle name written in one article, not another
        words = normal_of[actor].split()
        if kind[actor] == "person" and len(words) >= 2:
            first_last[(words[0], words[-1])].append(actor)
    for names in first_last.values():
        if len({len(normal_of[n].split()) for n in names}) > 1:
            target = max(names, key=lambda n: (count[n], len(n), n))
            for name in names:
                propose(name, target, "same first and last name")
    normal: dict[str, list[str]] = defaultdict(list)
    for actor in count:
        normal[normal_of[actor]].append(actor)
    keys = sorted(normal)
    similar = [(normal[k], "near-identical names") for k in keys if len(normal[k]) > 1]
    for i, key in enumerate(keys):  # close spellings among names of the same first letter and about the same length
        for other in keys[i + 1 :]:
            if other[:1] != key[:1]:
                break
            if (
                abs(len(other) - len(key)) <= 2
                and min(len(key), len(other)) >= 6
                and difflib.SequenceMatcher(None, key, other).ratio() >= NEAR_IDENTICAL
            ):
                similar.append(([*normal[key], *normal[other]], "near-identical names"))
    for names, reason in similar:
        target = max(names, key=lambda n: (count[n], len(n), n))
        for name in names:
            propose(name, target, reason)
    rows = []
    for source, (target, reason) in into.items():
        seen = {source}
        while target in into and target not in seen:  # A -> B -> C: A goes to C
            seen.add(target)
            target = into[target][0]
        if target != source:
            rows.append(
                {
                    "actor": source,
                    "merge_into": target,
                    "reason": reason,
                    "n_mentions": count[source],
                    "n_mentions_into": count[target],
                }
            )
    frame = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    return frame.sort_values(["n_mentions_into", "n_mentions"], ascending=False, ignore_index=True)


def write_overrides(review: ActorReview, path: str | Path, registry: ActorRegistry | None = None) -> Path:
    """The merge proposals as an actor file of ``merges``: one entry per target actor with the names merged
    into it as its aliases (only those: the registry's own aliases and fields stay where they are), its
    ``type`` where the registry lacks it, and a comment naming each reason. Review it (delete what should
    stay apart), then pass it to ``stance score --actors`` (the names join their actor's aliases) or
    ``stance compare --actors`` (the same merges applied to existing scores).

    Example:
        >>> write_overrides(review_actors("scores.parquet"), "merges.yaml")  # doctest: +SKIP
    """
    registry = registry if registry is not None else ActorRegistry.load()
    kind = dict(zip(review.actors["actor"], review.actors["type"], strict=True))
    merged: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, b, reason in zip(review.merges["actor"], review.merges["merge_into"], review.merges["reason"], strict=True):
        merged[b].append((a, reason))
    entries = []
    for target, sources in merged.items():
        entry: dict[str, str | list[str]] = {"name": target}
        if target not in registry:
            entry["type"] = _registry_type(kind.get(target, "organisation"))
        entry["aliases"] = list(dict.fromkeys(a for a, _ in sources if a != target))
        reasons = "; ".join(f"{a}: {r}" for a, r in sources)
        entries.append((reasons, entry))
    lines = [
        "# Actor merges proposed by `stance actors`. Review: delete an entry (or a name in its aliases) that",
        "# joins different actors, then rescore with `stance score --actors FILE` (each name joins its actor's",
        "# aliases) or apply the merges to existing scores with `stance compare --actors FILE`.",
        "merges:",
    ]
    for reasons, entry in entries:
        lines.append(f"  # {reasons}")
        lines.append("  - " + yaml.safe_dump(entry, default_flow_style=True, allow_unicode=True, width=10_000).strip())
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def merge_map(files: Sequence[str | Path], registry: ActorRegistry | None = None) -> dict[str, str]:
    """Actor name -> the name it is merged into, by actor files, counted as rescoring with them would count it:
    each name of a file's ``merges`` and each alias of its ``actors`` entries maps to its actor's name, but only
    where the registry (``registry``: the shipped one extended with ``files``, loaded when None) gives that name
    to that actor alone. So a short form two registry people share ("Clinton") stays as it is, as it stays
    ambiguous when rescoring, and a party's ``members`` ("Republicans") are left to how the scores were made
    (``--party-members``). Raises ValueError on a bad file.

    Example:
        >>> merge_map(["merges.yaml"])  # doctest: +SKIP
        {'Patrushev': 'Nikolai Patrushev', 'EPA': 'Environmental Protection Agency'}
    """
    registry = registry if registry is not None else ActorRegistry.load(*files)
    out: dict[str, str] = {}
    for path in files:
        read = read_registry_file(Path(path))
        named = [(alias, a.name) for a in read.actors for alias in a.aliases]
        named += [(alias, m.name) for m in read.merges for alias in m.aliases]
        for alias, name in named:
            if [a.name for a in registry.lookup(alias)] == [name]:
                out[alias] = name
    return out


def _registry_type(kind: str) -> str:
    return kind if kind in ("person", "state", "organisation", "bloc", "group", "place") else "organisation"


def _normal(name: str) -> str:
    """A name for comparison: no accents, case, punctuation, leading "the" or middle initials."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    if len(words) > 2:
        words = [words[0], *(w for w in words[1:-1] if len(w) > 1), words[-1]]
    return " ".join(words)
