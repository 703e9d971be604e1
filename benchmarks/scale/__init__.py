"""Benchmark 3: scale. The dashboard, the export and process memory as respondents pile up.

One database per engine grows 0 -> 100 000 -> 1 000 000 stored Karlslund respondents
(SQLite, the one-municipality database, to 100 000; quick: 0 -> 10 000 -> 50 000),
seeded in bulk (``seed.py``). At each size: inbound messages a second through the real
HTTP stack (``inbound.py``, against the rate on the same database when empty), the
results page's counts and the free-text page's first page (``queries.py``), the
whole-campaign export in a child process (time and peak RSS), and the RSS of ``trygg
serve --no-worker`` and ``trygg worker`` after startup and after the two pages
(``memory.py``). At the largest size the query plans of the inbound path and the
dashboard are checked for full scans (``plans.py``).

References: a query's or the export's time at the smallest non-empty size (so the ratio
shows how it grows with respondents: x10 respondents giving about x10 time is linear);
a process's RSS at 0 respondents. The issue's target here is "indexes, no full scans"
on the inbound path; its throughput at these sizes is the inbound benchmark's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.figures import Figure
from benchmarks.scale.inbound import InboundRate, inbound_rate
from benchmarks.scale.memory import measure_processes
from benchmarks.scale.plans import explain
from benchmarks.scale.queries import export_in_child, run_dashboard
from benchmarks.scale.seed import SeedReport, asyncpg_dsn, seed

__all__ = ["SeedReport", "run", "run_engine", "seed"]

SIZES = {"full": (0, 100_000, 1_000_000), "quick": (0, 10_000, 50_000)}
# SQLite serves one municipality (docs/operations.md); a national 1,000,000 is
# PostgreSQL's. Seeding and exporting a million on SQLite would add a quarter of an hour.
SQLITE_SIZES = {"full": (0, 100_000), "quick": (0, 10_000, 50_000)}
# The closed loop at each size: seconds and people (the full run as benchmark 1's).
INBOUND = {"full": (40.0, 2000), "quick": (5.0, 500)}
MAX_INBOUND_FALL = 0.10  # the bar: at most 10% slower than on the empty database
XLSX_UP_TO = {"full": 100_000, "quick": 50_000}  # openpyxl needs ~15 KiB a row in memory
EXPORT_TIMEOUT = 3600.0
NAME = "scale"


def run(size: str = "full", postgres_url: str | None = None) -> list[Figure]:
    sizes = SIZES[size]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="trygg-scale-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'scale.db'}"
        figures += run_engine(
            "sqlite",
            url,
            SQLITE_SIZES[size],
            xlsx_up_to=XLSX_UP_TO[size],
            inbound=INBOUND[size],
        )
    if postgres_url is None:
        figures.append(Figure(NAME, "postgresql", 0, "", note="skipped: no PostgreSQL URL"))
        return figures
    with postgres_database(postgres_url) as url:
        figures += run_engine(
            "postgresql", url, sizes, xlsx_up_to=XLSX_UP_TO[size], inbound=INBOUND[size]
        )
    return figures


def run_engine(
    engine: str,
    url: str,
    sizes: tuple[int, ...],
    *,
    xlsx_up_to: int = 0,
    inbound: tuple[float, int] | None = None,
) -> list[Figure]:
    """Every figure for one database, growing it through ``sizes``."""
    figures: list[Figure] = []
    first: dict[str, float] = {}  # measure -> value at the smallest (non-empty) size
    stored = 0
    today = dt.datetime.now(dt.UTC).date()
    for index, size in enumerate(sizes):
        if size > stored:
            report = seed(url, size - stored)
            stored = report.total_respondents
            figures.append(
                Figure(NAME, f"{engine}: seed {report.respondents:,} respondents", report.seconds,
                       "s", note=f"{report.answers:,} answers, {report.contacts:,} contacts, "
                       f"{report.respondents / report.seconds:,.0f} respondents/s")
            )  # fmt: skip
        else:
            seed(url, 0)  # migrates an empty database
        label = f"{engine}, {size:,} respondents"
        measured: dict[str, tuple[float, str]] = {}
        if size:
            for name, seconds in run_dashboard(url, today).items():
                measured[name] = (seconds, "s")
            export = export_in_child(url, xlsx=size <= xlsx_up_to, timeout=EXPORT_TIMEOUT)
            if export.note:
                figures.append(Figure(NAME, f"{label}: export", 0, "", note=export.note))
            else:
                measured["export collect"] = (export.collect_seconds, "s")
                measured["export to_csv"] = (export.csv_seconds, "s")
                measured["export peak RSS (collect + CSV)"] = (export.peak_csv_mib, "MiB")
                if export.xlsx_seconds is not None and export.peak_xlsx_mib is not None:
                    measured["export to_xlsx"] = (export.xlsx_seconds, "s")
                    measured["export peak RSS (with XLSX)"] = (export.peak_xlsx_mib, "MiB")
        if inbound is not None:
            seconds, people = inbound
            rate = inbound_rate(url, 50 + index, seconds, people)
            figures.append(inbound_figure(label, rate, first))
        memory = measure_processes(url, f"bench{size}")
        measured["web RSS after startup"] = (memory.web_started_mib, "MiB")
        measured["web RSS after results + free text"] = (memory.web_after_mib, "MiB")
        measured["worker RSS after startup"] = (memory.worker_started_mib, "MiB")
        measured["worker RSS after the pages"] = (memory.worker_after_mib, "MiB")
        measured["results page over HTTP"] = (memory.results_seconds, "s")
        measured["free-text page over HTTP"] = (memory.free_text_seconds, "s")
        for name, (value, unit) in measured.items():
            reference = first.setdefault(name, value)
            reference_size = sizes[0] if "RSS" in name and "export" not in name else None
            figures.append(
                Figure(NAME, f"{label}: {name}", value, unit, reference=reference,
                       reference_name=_reference_name(name, sizes, reference_size))
            )  # fmt: skip
    figures += plan_figures(engine, url, stored)
    return figures


def inbound_figure(label: str, measured: InboundRate, first: dict[str, float]) -> Figure:
    """The rate at this size, against the rate at the first size (the empty database)."""
    reference = first.setdefault("inbound", measured.rate)
    cpu = "?" if measured.server_cpu_ms is None else f"{measured.server_cpu_ms:.2f}"
    return Figure(
        NAME, f"{label}: inbound messages/s (closed loop)", round(measured.rate, 1), "msg/s",
        reference=round(reference, 1), reference_name="the same database empty",
        target=f"at most {MAX_INBOUND_FALL:.0%} below empty",
        met=measured.rate >= (1 - MAX_INBOUND_FALL) * reference,
        note=f"server CPU {cpu} ms/msg; "
        + ("no failed requests" if not measured.failed else f"failed: {measured.failed}"),
    )  # fmt: skip


def _reference_name(name: str, sizes: tuple[int, ...], fixed: int | None) -> str:
    if fixed is not None:
        return f"{fixed:,} respondents"
    smallest = min((size for size in sizes if size), default=0)
    return f"{smallest:,} respondents"


def plan_figures(engine: str, url: str, stored: int) -> list[Figure]:
    figures = []
    for plan in explain(url):
        where = "inbound" if plan.inbound else "dashboard"
        figures.append(
            Figure(
                NAME,
                f"{engine}, {stored:,} respondents: full scans in {where} query {plan.name}",
                len(plan.scans),
                "tables",
                target="no full scans" if plan.inbound else None,
                met=not plan.scans if plan.inbound else None,
                note=" | ".join(plan.plan.splitlines()[:6]) or None,
            )
        )
    return figures


class postgres_database:  # noqa: N801 (used as a context manager, like a function)
    """A fresh database on the given server, dropped afterwards."""

    def __init__(self, postgres_url: str) -> None:
        self.server = postgres_url
        self.name = f"bench_scale_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        _admin(self.server, f"CREATE DATABASE {self.name}")
        return make_url(self.server).set(database=self.name).render_as_string(False)

    def __exit__(self, *_: object) -> None:
        _admin(self.server, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def _admin(url: str, statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415

    async def execute() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute())
