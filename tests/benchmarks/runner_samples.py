"""Two stand-in benchmarks for the runner's test: one that measures, one that breaks."""

from __future__ import annotations

from benchmarks.figures import Figure


def run(size: str, postgres_url: str | None) -> list[Figure]:
    return [Figure("sample", f"{size} measure", 1.5, "s", reference=3.0, reference_name="ref")]


class broken:  # noqa: N801 (stands in for a module)
    @staticmethod
    def run(size: str, postgres_url: str | None) -> list[Figure]:
        raise RuntimeError("the fake provider did not start")
