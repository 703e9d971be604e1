"""The broadcast benchmark's machinery at a tiny size: real worker processes, the fakes,
figures that add up, and nothing left running. No speed is asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.broadcast.scenario import Setup, measure
from benchmarks.broadcast.suite import LIMITS, alone, describe, mix


def test_a_tiny_broadcast_is_measured_and_cleaned_up(tmp_path: Path) -> None:
    people = mix(200, 10.0)
    setup = Setup("sqlite", 1, people, LIMITS | {"sms": 10.0})
    outcome = asyncio.run(measure(setup, tmp_path))
    assert outcome.problems == []
    for channel in ("telegram", "sms", "facebook"):
        found = outcome.channels[channel]
        assert found.copies == len(people.at_provider(channel))
        assert found.duplicates == 0
        assert found.rate > 0
    assert outcome.prepare_seconds > 0 and outcome.cpu_seconds > 0
    figures = describe("sqlite, 1 worker", outcome, LIMITS | {"sms": 10.0}, people.size)
    assert {f.name for f in figures if f.met is False} <= {
        f"sqlite, 1 worker: {c} rate" for c in ("telegram", "sms", "facebook")
    }  # a loaded machine may miss a rate target; never duplicates or wrong deliveries
    logs = list(tmp_path.glob("worker-*.log"))
    assert len(logs) == 1 and "worker running" in logs[0].read_text()


def test_each_channel_is_also_measured_alone() -> None:
    limits = LIMITS | {"sms": 10.0}
    figures = alone("sqlite", limits, seconds=1.0)
    assert [f.name for f in figures] == [
        f"sqlite, 1 worker, {channel} alone: rate" for channel in ("telegram", "sms", "facebook")
    ]
    expected = {"telegram": 30, "sms": 3, "facebook": 300}  # copies: limit × 1 s (SMS: /3)
    for figure, (channel, copies) in zip(figures, expected.items(), strict=True):
        assert figure.reference == limits[channel]
        assert figure.value > 0
        note = figure.note or ""
        assert f"{copies} copies" in note and "0 duplicates" in note
