"""Fixtures for the SMS adapter: a local fake Twilio, and captured-format webhook forms."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.signing import ACCOUNT_SID, AUTH_TOKEN

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN"]

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A fresh fake Twilio REST API per test, for ``ACCOUNT_SID`` / ``AUTH_TOKEN``."""
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def twilio_form() -> Callable[[str], dict[str, str]]:
    """Load ``fixtures/NAME.json``: a webhook form as Twilio POSTs it, every value a string."""

    def load(name: str) -> dict[str, str]:
        data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
        return data

    return load
