"""The HTTP service behind ``stance serve`` (needs ``pip install 'stance[serve]'``).

Example:
    >>> from stance.service import ServiceSettings, create_app
    >>> app = create_app(ServiceSettings(model="default"))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stance.service.settings import ServiceSettings  # light: no FastAPI (the CLI's help reads its defaults)

if TYPE_CHECKING:
    from stance.service.app import create_app, load_scorer
    from stance.service.batcher import ItemError, MicroBatcher, QueueFullError

__all__ = ["ItemError", "MicroBatcher", "QueueFullError", "ServiceSettings", "create_app", "load_scorer"]
_LAZY = {
    "create_app": "app",
    "load_scorer": "app",
    "ItemError": "batcher",
    "MicroBatcher": "batcher",
    "QueueFullError": "batcher",
}


def __getattr__(name: str) -> Any:
    """FastAPI and the app are imported on first use, so that the settings alone stay light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"stance.service.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'stance.service' has no attribute {name!r}")
