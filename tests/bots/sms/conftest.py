"""Fixtures for the SMS adapter: a local fake Twilio, and captured-format webhook forms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.phone import PUBLIC
from tests.bots.sms.signing import ACCOUNT_SID, AUTH_TOKEN
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.service.runtime import Runtime
from trygg.web.app import create_app

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


@pytest.fixture
async def sms(
    database_url: str, fake_twilio: FakeTwilio
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """The service with SMS on, pointed at the fake Twilio, and an HTTP client into it."""
    runtime = await make_runtime(
        database_url, Clock(), public_url=PUBLIC, twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token, twilio_from="+46769999999",
        twilio_api=fake_twilio.root,
    )  # fmt: skip
    app = create_app(runtime, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend:8000") as http:
        yield runtime, http
    await drop_runtime(runtime)
