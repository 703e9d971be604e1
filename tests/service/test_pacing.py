"""Pacing: the token bucket, measured on a fake clock (the sleeps are recorded, not slept)."""

from __future__ import annotations

import pytest

from bots.sms.outbound import TwilioSender
from dialog_flows.session import Option, Outgoing
from trygg.service import delivery
from trygg.service.channels import build_senders
from trygg.settings import Settings


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(delivery.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(delivery.asyncio, "sleep", clock.sleep)
    return clock


RATE = delivery.RateLimiter.MARGIN  # pacing runs this much under the given rate


async def test_sends_are_paced_evenly_without_a_burst(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(10)
    for _ in range(4):
        await limiter.acquire()
    assert fake_time.sleeps == pytest.approx([0.1 / RATE] * 3)
    await limiter.acquire(5)  # five segments follow the last one-segment send
    assert fake_time.sleeps[-1] == pytest.approx(0.1 / RATE)
    await limiter.acquire()  # and take half a second at ten a second
    assert fake_time.sleeps[-1] == pytest.approx(0.5 / RATE)


async def test_an_idle_limiter_saves_up_no_burst(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(10)
    fake_time.now += 60  # a quiet minute
    await limiter.acquire()
    await limiter.acquire()
    assert fake_time.sleeps == pytest.approx([0.1 / RATE])


async def test_slower_than_one_a_second(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(0.5)
    await limiter.acquire()
    await limiter.acquire()
    assert fake_time.sleeps == pytest.approx([2.0 / RATE])


async def test_after_a_429_the_providers_second_is_left_empty(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(10)
    await limiter.acquire()
    limiter.drain()
    await limiter.acquire()
    assert fake_time.sleeps == pytest.approx([0.1 / RATE + 1.0])


def test_an_sms_costs_its_segments() -> None:
    sender = TwilioSender("AC" + "0" * 32, "token", "+46769999999")
    swedish = Outgoing("Hur trygg känner du dig här?", "sv", "ltr",
                       options=(Option("green", "Tryggt", "p:green", 1),))  # fmt: skip
    arabic = Outgoing("ما مدى شعورك بالأمان هنا؟ " * 4, "ar", "rtl")
    assert sender.cost(swedish) == 1
    assert sender.cost(arabic) == 2  # UCS-2: 67 characters a segment when split
    assert sender.rate_per_second == 10.0


def test_each_channels_send_rate_is_a_setting_so_workers_can_share_it() -> None:
    """Two workers on one bot must offer Telegram 30 a second between them, not 60."""
    settings = Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        secret_key="k" * 32,
        telegram_token="123:abc",
        telegram_secret="s" * 16,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="token",
        twilio_from="+46769999999",
        facebook_page_token="page",
        facebook_app_secret="secret",
        facebook_verify_token="verify",
        telegram_messages_per_second=15.0,
        twilio_segments_per_second=50.0,
        facebook_messages_per_second=125.0,
    )  # type: ignore[call-arg]
    senders = build_senders(settings)
    assert {channel: senders[channel].rate_per_second for channel in senders} == {
        "telegram": 15.0,
        "sms": 50.0,
        "facebook": 125.0,
    }
    assert (
        build_senders(settings.model_copy(update={"telegram_messages_per_second": 30.0}))[
            "telegram"
        ].rate_per_second
        == 30.0
    )
