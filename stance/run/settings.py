"""The scoring pipeline's settings, with their defaults written once.

:class:`PipelineSettings` holds what every way of building a scorer shares: the model, the actor
files, NER on/off, the party-members option, the device, the backend and the model batch size.
Its field defaults are the only place those defaults are written: :class:`stance.run.options.ScoreOptions`
(``stance score``), :class:`stance.service.settings.ServiceSettings` (``stance serve``, which extends
it), :meth:`stance.pipeline.scorer.StanceScorer.from_pretrained`, ``stance predict-stance`` and the
model's own ``predict``/``run`` all read them from :data:`DEFAULTS`.

This module imports nothing from stance (every wing may use it) and nothing heavy.

Example:
    >>> DEFAULTS.batch_size
    64
    >>> PipelineSettings(use_ner=False).backend
    'auto'
"""

from __future__ import annotations

from dataclasses import dataclass

PARTY_MEMBERS: tuple[str, ...] = ("party", "separate")
"""How a party's members ("Republicans") are reported: as the party, or as a group of their own."""

ACTIVE_MODEL = "active"
"""The model the commands and the service load unless told otherwise: the model registry's active
version, else the shipped default (library calls default to :attr:`PipelineSettings.model`)."""


@dataclass(frozen=True)
class PipelineSettings:
    """Settings of the scoring pipeline shared by every entry point; the field defaults are the defaults.

    ``model``: ``"default"`` (the shipped model), a registry version id, a model directory or a hub id;
    ``actors``: YAML files adding or overriding actor registry entries; ``use_ner``: find actors
    missing from the registry with spaCy NER; ``party_members``: ``"party"`` or ``"separate"`` (a
    party's members, "Republicans", as a group of their own); ``device``: ``cpu``, ``cuda``, ...;
    ``backend``: what runs the network (one of :data:`stance.model.backends.BACKENDS`);
    ``batch_size``: sentences per model batch.

    Example:
        >>> PipelineSettings(batch_size=16).batch_size
        16
        >>> PipelineSettings(batch_size=0)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be at least 1, not 0
        >>> PipelineSettings(party_members="members")
        Traceback (most recent call last):
        ...
        ValueError: party_members must be one of party, separate, not 'members'
    """

    model: str = "default"
    actors: tuple[str, ...] = ()
    use_ner: bool = True
    party_members: str = "party"  # "separate": a party's members ("Republicans") as a group of their own
    device: str = "cpu"
    backend: str = "auto"  # see stance.model.backends (BACKENDS)
    batch_size: int = 64  # sentences per model batch

    def __post_init__(self) -> None:
        """Every setting checked once, here, for every entry point (a bad value fails at once, not in a worker)."""
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise ValueError(f"batch_size must be an int, not {self.batch_size!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.party_members not in PARTY_MEMBERS:
            raise ValueError(f"party_members must be one of {', '.join(PARTY_MEMBERS)}, not {self.party_members!r}")
        # backend: checked by stance.model.backends.check_backend (its registry imports this module)


DEFAULTS = PipelineSettings()
"""The default pipeline settings: ``DEFAULTS.batch_size`` and so on wherever a default is needed."""
