"""Fixtures for the Messenger adapter: a local fake Graph API, and captured-format deliveries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bots.facebook.fake_graph_api import FakeGraphApi
from tests.bots.facebook.signing import APP_SECRET, PAGE_TOKEN

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_graph() -> Iterator[FakeGraphApi]:
    """A fresh fake Graph API per test, for ``PAGE_TOKEN`` / ``APP_SECRET``."""
    fake = FakeGraphApi(PAGE_TOKEN, APP_SECRET)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def facebook_payload() -> Callable[[str], dict[str, Any]]:
    """Load ``fixtures/NAME.json``: a webhook delivery as a JSON object. The body Meta
    would POST for it is ``signing.encode(payload)``."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
        return data

    return load
