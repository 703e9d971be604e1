"""The scale benchmark's machinery at a tiny size: the seed writes what the app would
read, the figures come out, the served processes are gone afterwards. No speed is
asserted."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.scale import postgres_database, run_engine
from benchmarks.scale.queries import CAMPAIGN, library
from benchmarks.scale.seed import seed_async
from storage.database import open_database
from trygg.export import collect
from trygg.staff.aggregates import count_results
from trygg.staff.result_filters import Filters

POSTGRES = os.environ.get("TRYGG_TEST_POSTGRES_URL")


def children() -> str:
    return Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scale.db'}"
        return
    if POSTGRES is None:
        pytest.skip("TRYGG_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES) as url:
        yield url


async def test_seeded_rows_are_what_the_dashboard_and_export_read(database_url: str) -> None:
    first = await seed_async(database_url, 150)
    second = await seed_async(database_url, 150)
    assert second.total_respondents == 300
    assert 10 * 300 < first.answers + second.answers < 15 * 300
    assert 0.8 * 300 < first.contacts + second.contacts <= 300
    database = open_database(database_url)
    try:
        counts = await count_results(database, CAMPAIGN, Filters(), ["where", "place_1"])
        export = await collect(database, library(), campaign=CAMPAIGN)
    finally:
        await database.dispose()
    not_restarted = sum(1 for row in export.rows if row["status"] != "restarted")
    assert counts.total == not_restarted and len(export.rows) == 300
    assert 0.7 < counts.by_status["completed"] / counts.total < 0.9
    assert set(counts.choices["place_1"]) <= {"green", "yellow", "red"}
    assert {"kopparangen", "pilangen"} <= set(counts.choices["where"])
    texts = [row["answers"].get("problems") for row in export.rows]
    assert any(isinstance(text, str) and "å" in text for text in texts)
    assert any(isinstance(text, str) and "ال" in text for text in texts)
    assert counts.first_started and counts.first_started > dt.datetime.now(dt.UTC) - dt.timedelta(
        days=61
    )


def test_run_engine_gives_every_figure_and_stops_its_processes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scale.db'}"
    figures = run_engine("sqlite", url, (0, 200), xlsx_up_to=200, inbound=(1.0, 12))
    names = [figure.name for figure in figures]
    rates = [f for f in figures if f.name.endswith("inbound messages/s (closed loop)")]
    assert [f.name.split(":")[0] for f in rates] == [
        "sqlite, 0 respondents",
        "sqlite, 200 respondents",
    ]
    assert all(f.value > 0 and f.reference == rates[0].value for f in rates)
    assert all("no failed requests" in (f.note or "") for f in rates)
    assert any("seed 200 respondents" in name for name in names)
    for measure in ("results, unfiltered", "export to_xlsx", "web RSS after startup",
                    "worker RSS after the pages", "results page over HTTP"):  # fmt: skip
        assert any(name.endswith(measure) for name in names), measure
    rss = [f for f in figures if "RSS" in f.name]
    assert all(30 < f.value < 4000 and f.unit == "MiB" for f in rss)
    inbound = [f for f in figures if "in inbound query" in f.name]
    assert len(inbound) >= 6 and all(f.met is not None for f in inbound)
    assert children() == ""
