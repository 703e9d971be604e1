"""Pacing: the token bucket, measured on a fake clock (the sleeps are recorded, not slept)."""

from __future__ import annotations

import pytest

from bots.sms.outbound import TwilioSender
from dialog_flows.session import Option, Outgoing
from trygg.service import delivery


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


async def test_a_burst_of_one_second_then_the_rate(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(10)
    for _ in range(10):
        await limiter.acquire()
    assert fake_time.sleeps == []
    await limiter.acquire(5)  # five segments at ten a second: half a second's wait
    assert fake_time.sleeps == pytest.approx([0.5])


async def test_slower_than_one_a_second(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(0.5)
    await limiter.acquire()
    await limiter.acquire()
    assert fake_time.sleeps == pytest.approx([2.0])


async def test_a_message_larger_than_a_burst_still_goes(fake_time: FakeTime) -> None:
    limiter = delivery.RateLimiter(2)
    await limiter.acquire(7)  # capped to the bucket, so it cannot wait forever
    await limiter.acquire(1)
    assert fake_time.sleeps == pytest.approx([0.5])


def test_an_sms_costs_its_segments() -> None:
    sender = TwilioSender("AC" + "0" * 32, "token", "+46769999999")
    swedish = Outgoing("Hur trygg känner du dig här?", "sv", "ltr",
                       options=(Option("green", "Tryggt", "p:green", 1),))  # fmt: skip
    arabic = Outgoing("ما مدى شعورك بالأمان هنا؟ " * 4, "ar", "rtl")
    assert sender.cost(swedish) == 1
    assert sender.cost(arabic) == 2  # UCS-2: 67 characters a segment when split
    assert sender.rate_per_second == 10.0
