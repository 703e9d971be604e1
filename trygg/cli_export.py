"""``trygg export responses`` and ``trygg export stats`` (see ``trygg/export/``)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import repositories as repo
from storage.database import migrate
from trygg import export
from trygg.cli_service import runtime_or_exit
from trygg.service.runtime import Runtime

export_app = typer.Typer(
    help="Export the answers and participant statistics.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")


class ResponseFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class StatsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


CampaignOption = Annotated[
    str | None, typer.Option("--campaign", help="Only this campaign (default: all).")
]


def _run(job: Callable[[Runtime], Awaitable[T]], campaign: str | None) -> T:
    """Open the runtime, bring a SQLite database up to date (a new one exports nothing),
    run the job and close."""
    runtime = runtime_or_exit()
    if campaign is not None and campaign not in {c.id for c in runtime.library.campaigns}:
        known = ", ".join(c.id for c in runtime.library.campaigns)
        err.print(f"unknown campaign '{campaign}'; known campaigns: {known}", markup=False)
        raise typer.Exit(2)

    async def run() -> T:
        try:
            if runtime.database.is_sqlite:
                await migrate(runtime.database)
            return await job(runtime)
        finally:
            await runtime.close()

    return asyncio.run(run())


async def _audit(runtime: Runtime, action: str, detail: dict[str, Any]) -> None:
    """Exports are staff actions that touch data: each leaves an audit entry."""
    async with runtime.database.sessions() as session, session.begin():
        await repo.audit(session, f"cli:{getpass.getuser()}", action, detail, runtime.clock())


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside ``path`` and rename it over ``path``: a crash leaves
    the old file or the new one, never half of one. The file is readable by its owner
    only (it holds answers)."""
    folder = path.parent if str(path.parent) else Path()
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable, where possible
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _stdout_bytes(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (some test harnesses)
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


@export_app.command("responses")
def responses(
    output_format: Annotated[
        ResponseFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="json: an array of objects; csv: plain UTF-8 (Excel users: take xlsx); "
            "xlsx: sheets Svar and Etiketter.",
        ),
    ] = ResponseFormat.JSON,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            dir_okay=False,
            help="Write to this file, atomically. Default: standard output, which for xlsx "
            "must be redirected to a file or pipe.",
        ),
    ] = None,
    campaign: CampaignOption = None,
) -> None:
    """One row per respondent: campaign, flow, channel, language, source, times, answers by id."""
    if output_format is ResponseFormat.XLSX and out_file is None and sys.stdout.isatty():
        err.print(
            "xlsx is a binary format: give --out FILE, or redirect standard output to a file",
            markup=False,
        )
        raise typer.Exit(2)

    async def job(runtime: Runtime) -> export.ResponseExport:
        result = await export.collect(runtime.database, runtime.library, campaign=campaign)
        detail = {
            "format": output_format.value,
            "campaign": campaign,
            "respondents": len(result.rows),
        }
        await _audit(runtime, "export responses", detail)
        return result

    result = _run(job, campaign)
    if output_format is ResponseFormat.JSON:
        data = export.to_json(result.rows).encode("utf-8")
    elif output_format is ResponseFormat.CSV:
        data = export.to_csv(result).encode("utf-8")
    else:
        data = export.to_xlsx(result)
    if out_file is None:
        _stdout_bytes(data)
        return
    try:
        write_atomically(out_file, data)
    except OSError as exc:
        err.print(f"cannot write {out_file}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    err.print(f"wrote {len(result.rows)} respondents to {out_file}", markup=False)


@export_app.command("stats")
def stats(
    output_format: Annotated[
        StatsFormat,
        typer.Option("--format", "-f", case_sensitive=False, help="table: readable; json."),
    ] = StatsFormat.TABLE,
    min_cell: Annotated[
        int,
        typer.Option(
            "--min-cell",
            min=1,
            envvar="TRYGG_EXPORT_MIN_CELL",
            help="Counts below this are shown as <N, never as the number.",
        ),
    ] = export.DEFAULT_MIN_CELL,
    campaign: CampaignOption = None,
) -> None:
    """Participants per source, channel, language, age group and gender, and how many
    completed. Small counts are hidden so that no person can be singled out."""

    async def job(runtime: Runtime) -> export.Stats:
        result = await export.participant_stats(runtime, min_cell=min_cell, campaign=campaign)
        await _audit(runtime, "export stats", {"campaign": campaign, "min_cell": min_cell})
        return result

    result = _run(job, campaign)
    if output_format is StatsFormat.JSON:
        _stdout_bytes(export.json_text(result.to_dict()).encode("utf-8"))
        return
    for item in result.tables:
        table = Table(title=item.title, title_justify="left")
        table.add_column(item.name)
        table.add_column("name")
        table.add_column("respondents", justify="right")
        table.add_column("completed", justify="right")
        for row in item.rows:
            table.add_row(
                Text(row.key or "-"),
                Text(row.label),
                Text(str(row.respondents)),
                Text(str(row.completed)),
            )
        table.add_section()
        table.add_row(
            Text("total"),
            Text(""),
            Text(str(item.total_respondents)),
            Text(str(item.total_completed)),
            style="bold",
        )
        out.print(table, markup=False, highlight=False)
    out.print(
        f"<{result.min_cell}: fewer than {result.min_cell}, hidden. {export.HIDDEN}: hidden so "
        "that a small count cannot be worked out from the total. A restarted dialog is not "
        "counted; its person is counted in the dialog they went on with.",
        markup=False,
        highlight=False,
    )
