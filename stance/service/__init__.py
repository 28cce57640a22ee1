"""The HTTP service behind ``stance serve`` (needs ``pip install 'stance[serve]'``).

Example:
    >>> from stance.service import ServiceSettings, create_app
    >>> app = create_app(ServiceSettings(model="default"))  # doctest: +SKIP
"""

from __future__ import annotations

from stance.service.app import create_app, load_scorer
from stance.service.batcher import ItemError, MicroBatcher, QueueFullError
from stance.service.settings import ServiceSettings

__all__ = ["ItemError", "MicroBatcher", "QueueFullError", "ServiceSettings", "create_app", "load_scorer"]
