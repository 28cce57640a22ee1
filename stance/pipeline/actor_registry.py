"""The actor registry: the known actors of ``configs/actors.yaml`` (and ``--actors FILE`` extensions), their
types, aliases, short forms and party members, read and checked.

Example:
    >>> registry = ActorRegistry.load()
    >>> [a.name for a in registry.lookup("Kremlin")]
    ['Russia']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import yaml

from stance.resources import config_path

ACTOR_TYPES: tuple[str, ...] = ("person", "state", "organisation", "bloc", "group", "place")
_ENTRY_FIELDS = ("name", "type", "aliases", "members", "affiliation")
_FILE_FIELDS = ("as_of", "actors", "ignore", "not_actors", "merges")
_MERGE_FIELDS = ("name", "type", "aliases")


@dataclass(frozen=True)
class Actor:
    """A registry entry.

    Example:
        >>> Actor("Sergei Lavrov", "person", ("Lavrov",), affiliation="Russia").short_forms
        ('Lavrov',)
    """

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    affiliation: str | None = None
    members: tuple[str, ...] = ()  # a party's member plurals ("Republicans"): the party unless kept apart

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or self.name != self.name.strip():
            raise ValueError(f"'name' must be a non-empty string without surrounding spaces, got {self.name!r}")
        if self.type not in ACTOR_TYPES:
            raise ValueError(f"{self.name!r}: unknown type {self.type!r} (expected one of {', '.join(ACTOR_TYPES)})")
        if isinstance(self.aliases, str) or not isinstance(self.aliases, Sequence):
            raise ValueError(f"{self.name!r}: 'aliases' must be a list of strings")
        if isinstance(self.members, str) or not isinstance(self.members, Sequence):
            raise ValueError(f"{self.name!r}: 'members' must be a list of strings")
        for alias in (*self.aliases, *self.members):
            if not isinstance(alias, str) or not alias.strip() or alias != alias.strip():
                raise ValueError(f"{self.name!r}: alias {alias!r} must be a non-empty string, not padded")
        if self.affiliation is not None and (not isinstance(self.affiliation, str) or not self.affiliation.strip()):
            raise ValueError(f"{self.name!r}: 'affiliation' must be a non-empty string or null")
        object.__setattr__(self, "aliases", tuple(a for a in dict.fromkeys(self.aliases) if a != self.name))
        object.__setattr__(self, "members", tuple(dict.fromkeys(self.members)))

    @property
    def short_forms(self) -> tuple[str, ...]:
        """A person's aliases that are leading or trailing words of the name or of a longer alias."""
        if self.type != "person":
            return ()
        longer = [n.split() for n in (self.name, *self.aliases)]
        return tuple(a for a in self.aliases if any(is_part(a.split(), words) for words in longer))


class ActorRegistry:
    """The known actors, by canonical name, plus phrases that are never mentions: ``ignore`` (they block the
    aliases inside them: "Washington" in "Washington Post", which may still be an actor itself) and
    ``not_actors`` (names that are never actors: programmes, laws, religions, credit lines; a named entity
    with one of these names is dropped, and they block the aliases inside them too).

    Example:
        >>> registry = ActorRegistry.load()
        >>> registry["China"].type, registry["Sergei Lavrov"].affiliation
        ('state', 'Russia')
    """

    def __init__(self, actors: Iterable[Actor] = (), ignore: Iterable[str] = (), not_actors: Iterable[str] = ()) -> None:
        """Build a registry from actors; raises ValueError on duplicate names or clashing aliases.

        Example:
            >>> len(ActorRegistry([Actor("Atlantis", "state", ("Atlantean",))]))
            1
        """
        self._build([(a, "<registry>") for a in actors], ignore, not_actors)

    @classmethod
    def load(cls, *extra: str | Path, include_default: bool = True) -> ActorRegistry:
        """Read the shipped registry and then each extra file; an entry of a later file replaces the entry with the
        same name, new names are added, ``ignore`` and ``not_actors`` phrases accumulate. Then the files' ``merges``
        (reviewed merges, as ``stance actors --overrides`` writes them) add their names to an actor's aliases
        (see :func:`apply_merge`). Bad files raise ValueError naming file and entry.

        Example:
            >>> registry = ActorRegistry.load("my_actors.yaml")  # doctest: +SKIP
        """
        paths = ([config_path("actors.yaml")] if include_default else []) + [Path(p) for p in extra]
        merged: dict[str, tuple[Actor, str]] = {}
        ignore: list[str] = []
        not_actors: list[str] = []
        merges: list[tuple[Merge, str]] = []
        for path in paths:
            read = read_registry_file(path)
            for actor in read.actors:
                merged[actor.name] = (actor, str(path))
            ignore.extend(read.ignore)
            not_actors.extend(read.not_actors)
            merges.extend((m, str(path)) for m in read.merges)
        for merge, where in merges:
            apply_merge(merged, merge, where)
        registry = cls.__new__(cls)
        registry._build(list(merged.values()), ignore, not_actors)
        return registry

    def _build(self, entries: list[tuple[Actor, str]], ignore: Iterable[str], not_actors: Iterable[str] = ()) -> None:
        self._actors: dict[str, Actor] = {}
        origin: dict[str, str] = {}
        for actor, where in entries:
            if not isinstance(actor, Actor):
                raise ValueError(f"{where}: expected an Actor, got {type(actor).__name__}")
            if actor.name in self._actors:
                raise ValueError(f"{where}: actor {actor.name!r} is defined twice")
            self._actors[actor.name] = actor
            origin[actor.name] = where
        self._ignore = tuple(dict.fromkeys(ignore))
        self._not_actors = tuple(dict.fromkeys(not_actors))
        for kind, phrases in (("ignore", self._ignore), ("not_actors", self._not_actors)):
            for phrase in phrases:
                if not isinstance(phrase, str) or not phrase.strip():
                    raise ValueError(f"{kind} phrase {phrase!r} must be a non-empty string")
        # alias -> names of the actors it names; only person short forms may be shared.
        table: dict[str, list[str]] = {}
        shorts = {a.name: set(a.short_forms) for a in self._actors.values()}
        for actor in self._actors.values():
            if actor.affiliation is not None and actor.affiliation not in self._actors:
                where = f"{origin[actor.name]}: actor {actor.name!r}"
                raise ValueError(f"{where}: affiliation {actor.affiliation!r} names no actor")
            for alias in (actor.name, *actor.aliases, *actor.members):
                owners = table.setdefault(alias, [])
                for other in owners:
                    if not (alias in shorts[other] and alias in shorts[actor.name]):
                        raise ValueError(
                            f"{origin[actor.name]}: actor {actor.name!r}: {alias!r} already names {other!r}"
                            f" (from {origin[other]}); override that entry to change it"
                        )
                owners.append(actor.name)
        self._table = {alias: tuple(names) for alias, names in table.items()}
        self._members = frozenset(m for a in self._actors.values() for m in a.members)

    def __len__(self) -> int:
        return len(self._actors)

    def __getitem__(self, name: str) -> Actor:
        try:
            return self._actors[name]
        except KeyError:
            raise KeyError(f"no actor named {name!r} in the registry") from None

    def __contains__(self, name: object) -> bool:
        return name in self._actors

    def __iter__(self) -> Iterator[Actor]:
        return iter(self._actors.values())

    def __repr__(self) -> str:
        return f"ActorRegistry({len(self)} actors, {len(self._ignore)} ignore phrases, {len(self._not_actors)} not actors)"

    @property
    def ignore(self) -> tuple[str, ...]:
        """Phrases that are never actor mentions and block the aliases inside them."""
        return self._ignore

    @property
    def not_actors(self) -> tuple[str, ...]:
        """Names that are never actors, whoever finds them (a named entity "Medicaid" is dropped).

        Example:
            >>> "Medicaid" in ActorRegistry.load().not_actors
            True
        """
        return self._not_actors

    def lookup(self, alias: str) -> tuple[Actor, ...]:
        """The actors a name or alias names exactly (several only for a shared short form such as "Sharif").

        Example:
            >>> [a.name for a in ActorRegistry.load().lookup("Kremlin")]
            ['Russia']
        """
        return tuple(self._actors[n] for n in self._table.get(alias, ()))

    def is_member_form(self, alias: str) -> bool:
        """Whether ``alias`` is a party's member plural ("Republicans") rather than a name of the party.

        Example:
            >>> ActorRegistry.load().is_member_form("Republicans"), ActorRegistry.load().is_member_form("GOP")
            (True, False)
        """
        return alias in self._members

    def alias_table(self) -> dict[str, tuple[str, ...]]:
        """Every name and alias, mapped to the names of the actors it names."""
        return dict(self._table)

    @property
    def hash(self) -> str:
        """sha256 (hex) over the entries and ignore phrases, independent of file and alias order.

        Example:
            >>> len(ActorRegistry.load().hash)
            64
        """
        entries = [
            {"name": a.name, "type": a.type, "aliases": sorted(a.aliases), "affiliation": a.affiliation}
            | ({"members": sorted(a.members)} if a.members else {})
            for a in sorted(self, key=lambda a: a.name)
        ]
        payload = {"actors": entries, "ignore": sorted(self._ignore)} | (
            {"not_actors": sorted(self._not_actors)} if self._not_actors else {}
        )
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Merge(NamedTuple):
    """A reviewed merge of an actor file: ``aliases`` (names found in scores) are counted under ``name``;
    ``type`` is needed only where the registry has no actor of that name."""

    name: str
    type: str | None
    aliases: tuple[str, ...]


class RegistryFile(NamedTuple):
    """What one registry file holds."""

    actors: list[Actor]
    ignore: list[str]
    not_actors: list[str]
    merges: tuple[Merge, ...] = ()


def apply_merge(actors: dict[str, tuple[Actor, str]], merge: Merge, where: str) -> None:
    """Add a reviewed merge to ``actors`` (name -> (actor, file)), in place: its aliases join the actor it names
    (added, with ``type``, when there is none). A merge settles a shared short form: "Clinton" merged into
    Hillary Clinton is no longer Bill Clinton's short form, so that rescoring counts "Clinton" as
    `stance compare --actors` does. ValueError when ``type`` is missing for a new actor or differs from the
    actor's.

    Example:
        >>> actors = {"Bill Clinton": (Actor("Bill Clinton", "person", ("Clinton",)), "a.yaml")}
        >>> apply_merge(actors, Merge("Hillary Clinton", "person", ("Clinton",)), "m.yaml")
        >>> actors["Bill Clinton"][0].aliases, actors["Hillary Clinton"][0].aliases
        ((), ('Clinton',))
    """
    current = actors.get(merge.name)
    if current is None and merge.type is None:
        raise ValueError(f"{where}: merge into {merge.name!r}: no actor of that name; give its 'type' to add it")
    if current is not None and merge.type not in (None, current[0].type):
        raise ValueError(f"{where}: merge into {merge.name!r}: type {merge.type!r}, but the actor is a {current[0].type}")
    try:
        if current is None:
            actor = Actor(merge.name, str(merge.type), merge.aliases)
        else:
            actor = replace(current[0], aliases=(*current[0].aliases, *merge.aliases))
    except ValueError as exc:
        raise ValueError(f"{where}: merge into {merge.name!r}: {exc}") from None
    for name, (other, origin) in list(actors.items()):
        shared = [a for a in merge.aliases if a in other.short_forms]
        if name != merge.name and shared:
            actors[name] = (replace(other, aliases=tuple(a for a in other.aliases if a not in shared)), origin)
    actors[merge.name] = (actor, where if current is None else current[1])


def read_registry_file(path: Path) -> RegistryFile:
    """Parse one registry file: a mapping with ``actors`` (and optional ``ignore``, ``not_actors``, ``as_of``) or a bare list.
    Its entries are checked one by one (ValueError naming the file and entry); how they fit the rest of the
    registry is :class:`ActorRegistry`'s business.

    Example:
        >>> read_registry_file(Path("merges.yaml")).actors  # doctest: +SKIP
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"actor registry file not found: {path}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return RegistryFile([], [], [])
    if isinstance(data, list):
        data = {"actors": data}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'actors' or a list of actors, got {type(data).__name__}")
    if unknown := sorted(set(map(str, data)) - set(_FILE_FIELDS)):
        raise ValueError(f"{path}: unknown top-level field(s) {unknown} (expected: {', '.join(_FILE_FIELDS)})")
    entries = data.get("actors") or []
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 'actors' must be a list")
    lists = {}
    for key in ("ignore", "not_actors"):
        lists[key] = data.get(key) or []
        if not isinstance(lists[key], list) or not all(isinstance(p, str) and p.strip() for p in lists[key]):
            raise ValueError(f"{path}: {key!r} must be a list of non-empty strings")
    actors: list[Actor] = []
    seen: set[str] = set()
    merges = data.get("merges") or []
    if not isinstance(merges, list):
        raise ValueError(f"{path}: 'merges' must be a list")
    for i, entry in enumerate(entries, start=1):
        where = f"{path}: actor #{i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping with {', '.join(_ENTRY_FIELDS)}, got {entry!r}")
        name = entry.get("name")
        if isinstance(name, str):
            where += f" ({name!r})"
        if unknown := sorted(set(map(str, entry)) - set(_ENTRY_FIELDS)):
            raise ValueError(f"{where}: unknown field(s) {unknown} (expected: {', '.join(_ENTRY_FIELDS)})")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: 'name' is missing or empty")
        if "type" not in entry:
            raise ValueError(f"{where}: 'type' is missing (expected one of {', '.join(ACTOR_TYPES)})")
        aliases, members = entry.get("aliases") or [], entry.get("members") or []
        if not isinstance(aliases, list) or not isinstance(members, list):
            raise ValueError(f"{where}: 'aliases' and 'members' must be lists of strings")
        try:
            actor = Actor(name, entry["type"], tuple(aliases), entry.get("affiliation"), tuple(members))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if name in seen:
            raise ValueError(f"{where}: actor {name!r} is defined twice in this file")
        seen.add(name)
        actors.append(actor)
    read = tuple(_read_merge(entry, f"{path}: merge #{i}") for i, entry in enumerate(merges, start=1))
    return RegistryFile(actors, list(lists["ignore"]), list(lists["not_actors"]), read)


def _read_merge(entry: object, where: str) -> Merge:
    """One entry of a file's ``merges``: a mapping with ``name``, ``aliases`` and (for a new actor) ``type``."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping with {', '.join(_MERGE_FIELDS)}, got {entry!r}")
    name, kind, aliases = entry.get("name"), entry.get("type"), entry.get("aliases")
    if unknown := sorted(set(map(str, entry)) - set(_MERGE_FIELDS)):
        raise ValueError(f"{where}: unknown field(s) {unknown} (expected: {', '.join(_MERGE_FIELDS)})")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ValueError(f"{where}: 'name' must be a non-empty string without surrounding spaces, got {name!r}")
    if kind is not None and kind not in ACTOR_TYPES:
        raise ValueError(f"{where} ({name!r}): unknown type {kind!r} (expected one of {', '.join(ACTOR_TYPES)})")
    if not isinstance(aliases, list) or not aliases:
        raise ValueError(f"{where} ({name!r}): 'aliases' must be a non-empty list of the names merged into it")
    for alias in aliases:
        if not isinstance(alias, str) or not alias.strip() or alias != alias.strip():
            raise ValueError(f"{where} ({name!r}): alias {alias!r} must be a non-empty string, not padded")
    return Merge(name, kind, tuple(a for a in dict.fromkeys(aliases) if a != name))


def is_part(short: Sequence[str], words: Sequence[str]) -> bool:
    """True when ``short`` is a proper leading or trailing run of ``words``, a name's suffix aside ("King" of
    "Martin Luther King Jr.").

    Example:
        >>> is_part(["King"], ["Martin", "Luther", "King", "Jr."]), is_part(["Luther"], ["Martin", "Luther", "King"])
        (True, False)
    """
    n = len(short)
    if 0 < n < len(words) and (list(words[:n]) == list(short) or list(words[-n:]) == list(short)):
        return True
    bare = without_suffix(words)
    return len(bare) < len(words) and is_part(short, bare)


_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def is_name_suffix(word: str) -> bool:
    """Whether a word is the suffix of a person's name ("Jr.", "III"), not a surname.

    Example:
        >>> is_name_suffix("Jr."), is_name_suffix("King")
        (True, False)
    """
    return word.rstrip(".,").lower() in _NAME_SUFFIXES


def without_suffix(words: Sequence[str]) -> Sequence[str]:
    """A person's name without its suffix ("Martin Luther King Jr." -> "Martin Luther King"); a name of two words
    keeps both (the second is the surname).

    Example:
        >>> without_suffix(["Martin", "Luther", "King", "Jr."]), without_suffix(["Joe", "Biden"])
        (['Martin', 'Luther', 'King'], ['Joe', 'Biden'])
    """
    return words[:-1] if len(words) > 2 and is_name_suffix(words[-1]) else words
