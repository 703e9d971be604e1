"""Benchmark 4: a broadcast to opted-in contacts, at each provider's documented rate.

The benchmark itself is in ``suite`` (what it measures and why is said there), imported
only when it runs: ``python -m benchmarks`` lists every benchmark without loading the
fakes and the test helpers.
"""

from __future__ import annotations

from benchmarks.figures import Figure


def run(size: str, postgres_url: str | None) -> list[Figure]:
    from benchmarks.broadcast.suite import run as measure  # noqa: PLC0415 (see above)

    return measure(size, postgres_url)
