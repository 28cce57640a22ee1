"""The framing-device taxonomy (configs/devices.yaml) and the mapping from raw dataset labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from stance.resources import config_path

FIXED_DEVICES = (
    "loaded_language",
    "name_calling",
    "discrediting_attribution",
    "unsourced_claim",
    "speculative_interpretation",
    "scare_quotes",
)


@dataclass(frozen=True)
class Device:
    """One device of the taxonomy."""

    name: str
    definition: str
    examples: tuple[str, ...]
    sources: dict[str, tuple[str, ...]]
    internal: bool = False


@dataclass(frozen=True)
class Taxonomy:
    """The devices and how dataset labels feed them.

    Example:
        >>> tax = Taxonomy.load()
        >>> tax.map_label("ptc", "Loaded_Language")
        'ptc_loaded_language'
    """

    devices: tuple[Device, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """The device taxonomy of a YAML file (default: the shipped ``configs/devices.yaml``); a ValueError
        names what is wrong (no ``devices`` list, a device without a name, a fixed device missing, a duplicate).

        Example:
            >>> Taxonomy.load().names[:2]
            ['loaded_language', 'name_calling']
        """
        path = Path(path) if path else config_path("devices.yaml")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
            raise ValueError(f"{path}: expected a mapping with a 'devices' list")
        devices = []
        for i, d in enumerate(data["devices"]):
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                raise ValueError(f"{path}: devices[{i}] needs a 'name'")
            devices.append(
                Device(
                    name=d["name"],
                    definition=str(d.get("definition", "")),
                    examples=tuple(d.get("examples", ())),
                    sources={k: tuple(v) for k, v in (d.get("sources") or {}).items()},
                    internal=bool(d.get("internal", False)),
                )
            )
        names = [d.name for d in devices]
        if missing := [n for n in FIXED_DEVICES if n not in names]:
            raise ValueError(f"{path}: the fixed devices {missing} are missing")
        if len(set(names)) != len(names):
            raise ValueError(f"{path}: duplicate device names")
        return cls(tuple(devices))

    @property
    def names(self) -> list[str]:
        """Every device label, internal ones included, in the file's order."""
        return [d.name for d in self.devices]

    @property
    def internal(self) -> list[str]:
        """The labels trained but never reported (the label-agnostic ``propaganda_span``)."""
        return [d.name for d in self.devices if d.internal]

    @property
    def user_devices(self) -> list[str]:
        """The devices people label by the annotation guide: every device not fed by PTC alone (the six
        fixed ones and any added to configs/devices.yaml). A label line that does not say what it was
        annotated for (no ``device_labels``) counts as annotated for these, not for PTC's technique labels
        and ``propaganda_span``, which only PTC's own annotation covers (else each such line teaches them
        that nothing is there: BENCHMARKS.md section 0o).

        Example:
            >>> "scare_quotes" in Taxonomy.load().user_devices, "propaganda_span" in Taxonomy.load().user_devices
            (True, False)
        """
        return [d.name for d in self.devices if d.name not in self.ptc_only]

    @property
    def ptc_only(self) -> list[str]:
        """The labels only PTC's own annotation feeds: its technique labels and ``propaganda_span``.

        Example:
            >>> "propaganda_span" in Taxonomy.load().ptc_only, "scare_quotes" in Taxonomy.load().ptc_only
            (True, False)
        """
        return [d.name for d in self.devices if set(d.sources) == {"ptc"}]

    def map_label(self, source: str, raw: str) -> str | None:
        """The device a raw label of a source feeds, or None."""
        for d in self.devices:
            if raw in d.sources.get(source, ()):
                return d.name
        return None

    def annotated(self, source: str, raw_annotated: tuple[str, ...] | None) -> tuple[str, ...]:
        """The devices annotated on a sentence whose raw annotated labels are ``raw_annotated``."""
        if raw_annotated is None:
            return tuple(d.name for d in self.devices if source in d.sources)
        return tuple(d.name for d in self.devices if set(d.sources.get(source, ())) & set(raw_annotated))


@cache
def ptc_techniques() -> frozenset[str]:
    """The labels that only PTC's technique annotation feeds (configs/devices.yaml): a model with the
    ``propaganda_span`` head reports them as the ``technique`` of a ``propaganda`` span, never as spans of
    their own. Every other reported label (the six fixed devices and any device added with
    ``stance retrain --add-device``) is a device users get as it is.

    Example:
        >>> sorted(ptc_techniques())[:2], "scare_quotes" in ptc_techniques(), "hedge" in ptc_techniques()
        (['appeal_to_authority', 'appeal_to_fear'], False, False)
    """
    taxonomy = Taxonomy.load()
    return frozenset(taxonomy.ptc_only) - set(taxonomy.internal)
