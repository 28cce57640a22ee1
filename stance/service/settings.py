"""Settings of the HTTP service: defaults, overridden by ``STANCE_*`` environment variables,
overridden by ``stance serve`` flags.

Example:
    >>> s = ServiceSettings.from_env({"STANCE_MAX_BATCH_SIZE": "16", "STANCE_CORS_ORIGINS": "https://a.example,https://b.example"})
    >>> s.max_batch_size, s.cors_origins
    (16, ('https://a.example', 'https://b.example'))
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from stance.run.settings import ACTIVE_MODEL, PipelineSettings

ENV_PREFIX = "STANCE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ServiceSettings(PipelineSettings):
    """Everything the service needs; every field can be set as ``STANCE_<FIELD>`` (upper case).

    The scoring pipeline's fields and their defaults come from :class:`PipelineSettings` (the same
    as ``stance score``'s), except ``model``, which defaults to the registry's active version.
    Lists (``actors``, ``cors_origins``) are comma-separated in the environment. ``api_key``
    unset or empty: no authentication.

    Example:
        >>> ServiceSettings(model="runs/default/model", use_ner=False).max_wait_ms
        5.0
    """

    # model, actors, use_ner, party_members, device, backend, batch_size: from PipelineSettings (its defaults)
    model: str = ACTIVE_MODEL  # the model registry's active version, else the shipped default
    max_batch_size: int = 32  # articles per micro-batch
    max_wait_ms: float = 5.0  # how long the first article of a micro-batch waits for company
    max_queue: int = 256  # articles waiting; more -> 503
    max_body_bytes: int = 8 * 1024 * 1024
    max_article_chars: int = 100_000
    request_timeout_s: float = 30.0
    api_key: str | None = field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        from stance.model.backends import check_backend

        check_backend(self.backend)
        for name in ("max_batch_size", "max_queue", "max_body_bytes", "max_article_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, not {self.max_wait_ms}")
        if self.request_timeout_s <= 0:
            raise ValueError(f"request_timeout_s must be positive, not {self.request_timeout_s}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:
        """Defaults, then ``STANCE_*`` variables, then ``overrides`` (None values are ignored).

        A malformed variable raises ValueError naming it.

        Example:
            >>> ServiceSettings.from_env({"STANCE_USE_NER": "false"}, model="runs/m").use_ner
            False
        """
        environ = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            var = ENV_PREFIX + f.name.upper()
            raw = environ.get(var)
            if raw is not None and raw.strip() != "":
                try:
                    values[f.name] = _parse(raw.strip(), hints[f.name])
                except ValueError as exc:
                    raise ValueError(f"{var}={raw!r}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(raw: str, hint: Any) -> Any:
    """One ``STANCE_*`` value as the field's type. Written here rather than with pydantic-settings: the
    settings are a dataclass that extends :class:`PipelineSettings` (shared with the CLI and the library,
    which must not need pydantic), and ``stance serve --help`` reads them without the ``serve`` extra."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _parse(raw, args[0])
    if origin is tuple:
        return tuple(x.strip() for x in raw.split(",") if x.strip())
    if hint is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError("expected true or false")
    if hint is int:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError("expected an integer") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
    return raw
