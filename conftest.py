"""Doctests that load the shipped default model are integration tests, like tests/test_integration_default.py:
`pytest -m "not integration"` leaves them out too."""

from __future__ import annotations

import pytest
from _pytest.doctest import DoctestItem


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, DoctestItem) and item.dtest is not None:
            if any('from_pretrained("default"' in example.source for example in item.dtest.examples):
                item.add_marker(pytest.mark.integration)
