"""Timing the dashboard's queries and the export against a seeded database.

The dashboard's counts are timed as the results page calls them (``count_results`` with
the page's choice questions): unfiltered, with one source, and with the last 7 days.
The free-text page's first page is ``text_answers`` and ``tags_of_answers`` and
``tag_counts``, as ``free_text_page`` runs them. Each is the best of a few runs: the
first run warms the page cache, which a dashboard in use has warm too.

The export runs in a child process (``python -m benchmarks.scale.export_child``), so its
peak RSS is its own and not the seeding's or an earlier size's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dialog_flows.library import Library, load_library
from dialog_flows.model import StepKind
from storage import tags as tag_store
from storage.database import Database, open_database
from trygg.settings import Settings
from trygg.staff.aggregates import count_results
from trygg.staff.free_text_filters import PAGE_SIZE, choices_of, text_filter
from trygg.staff.free_text_filters import Filters as TextFilters
from trygg.staff.result_filters import Filters
from trygg.staff.result_questions import CHOICE_KINDS, questionnaire

CAMPAIGN = "karlslund"
REPEATS = 3


def library() -> Library:
    settings = Settings()
    return load_library([settings.flows_dir], settings.locales_dir)


async def best_of(action: Callable[[], Awaitable[Any]], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        await action()
        best = min(best, time.perf_counter() - started)
    return best


async def dashboard_times(database_url: str, today: dt.date) -> dict[str, float]:
    """Seconds for each dashboard query, best of ``REPEATS``."""
    flows = library()
    campaign = flows.campaign(CAMPAIGN)
    questions = questionnaire(flows, campaign)
    counted = [question.id for question in questions.of_kind(*CHOICE_KINDS)]
    counted += [question.id for question in questions.of_kind(StepKind.PLACE_RATING)]
    choices = choices_of(flows, campaign)
    database = open_database(database_url)
    try:
        week = Filters(date_from=today - dt.timedelta(days=6), date_to=today)
        cases: dict[str, Filters] = {
            "unfiltered": Filters(),
            "source": Filters(source="affisch"),
            "last 7 days": week,
        }
        times = {}
        for name, filters in cases.items():
            times[f"results, {name}"] = await best_of(
                lambda f=filters: count_results(database, campaign.id, f, counted)  # type: ignore[misc]
            )
        wanted = text_filter(TextFilters(), campaign, choices)
        times["free text, first page"] = await best_of(lambda: _free_text(database, wanted))
        return times
    finally:
        await database.dispose()


async def _free_text(database: Database, wanted: tag_store.TextFilter) -> int:
    async with database.reading() as session:
        answers, total = await tag_store.text_answers(session, wanted, limit=PAGE_SIZE, offset=0)
        await tag_store.tags_of_answers(session, [a.respondent_id for a in answers])
        await tag_store.tag_counts(session, CAMPAIGN)
    return total


@dataclass(frozen=True)
class ExportResult:
    rows: int
    collect_seconds: float
    csv_seconds: float
    xlsx_seconds: float | None  # None: skipped or over the time limit
    csv_mib: float
    peak_collect_mib: float  # the child's peak RSS after collect, after CSV, after XLSX
    peak_csv_mib: float
    peak_xlsx_mib: float | None
    note: str | None = None


def export_in_child(database_url: str, *, xlsx: bool, timeout: float) -> ExportResult:
    """Run the export in a fresh process and read what it reports."""
    command = [sys.executable, "-m", "benchmarks.scale.export_child", database_url]
    if not xlsx:
        command.append("--no-xlsx")
    env = {**os.environ, "TRYGG_SECRET_KEY": "unused-by-the-export-0123456789"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=True, env=env
        )
    except subprocess.TimeoutExpired:
        return ExportResult(0, 0, 0, None, 0, 0, 0, None, note=f"over {timeout:.0f} s")
    except subprocess.CalledProcessError as failed:
        return ExportResult(0, 0, 0, None, 0, 0, 0, None, note=failed.stderr[-300:])
    return ExportResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def run_dashboard(database_url: str, today: dt.date) -> dict[str, float]:
    return asyncio.run(dashboard_times(database_url, today))
