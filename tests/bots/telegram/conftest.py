"""Fixtures for the Telegram adapter: a local fake Bot API, and captured-format updates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bots.telegram.fake_bot_api import FakeBotApi

TOKEN = "123456:TEST-token"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    """A fresh fake Bot API server per test, with the token ``123456:TEST-token``."""
    fake = FakeBotApi(TOKEN)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def telegram_update() -> Callable[[str], dict[str, Any]]:
    """Load ``fixtures/NAME.json``: an Update as Telegram POSTs it to a webhook."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
        return data

    return load
