"""Downloading the exports, each logged (analyst and up).

The files are what ``trygg export responses`` and ``trygg export stats`` write, made by
the same functions (``trygg.export``), for this campaign only. A download is a POST with
the session's CSRF token, so another site cannot make a logged-in browser fetch answers;
its audit entry is committed before the file is sent, so no file leaves unlogged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from storage import repositories as repo
from storage.models import Respondent
from trygg import export
from trygg.staff.auth import Analyst, StaffRefused, runtime_of
from trygg.staff.free_text_filters import STOCKHOLM
from trygg.staff.pages import campaign_or_404, render

router = APIRouter()
MIN_CELL_VARIABLE = "TRYGG_EXPORT_MIN_CELL"  # the same setting as ``trygg export stats``


@dataclass(frozen=True)
class ExportKind:
    kind: str  # in the URL and the audit log
    title: str
    description: str
    name: str  # the Swedish word in the file name
    extension: str
    media_type: str


KINDS = (
    ExportKind(
        "responses-xlsx",
        "Svar som Excel-fil (XLSX)",
        "En rad per svarande. Bladet Svar har svaren, bladet Etiketter frågornas och "
        "svarsalternativens svenska text. Bäst för Excel.",
        "svar",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ExportKind(
        "responses-csv",
        "Svar som CSV",
        "Samma tabell som bladet Svar, som UTF-8 utan BOM. Excel kan läsa fel tecken: "
        "ta XLSX-filen till Excel.",
        "svar",
        "csv",
        "text/csv; charset=utf-8",
    ),
    ExportKind(
        "responses-json",
        "Svar som JSON",
        "En post per svarande med svaren som id:n och taggarna per fråga, för vidare bearbetning.",
        "svar",
        "json",
        "application/json; charset=utf-8",
    ),
    ExportKind(
        "stats-json",
        "Deltagarstatistik (JSON)",
        "Antal deltagare per källa, kanal, språk, åldersgrupp och kön, och hur många som "
        "svarade klart. Små antal är dolda.",
        "statistik",
        "json",
        "application/json; charset=utf-8",
    ),
)
BY_KIND = {kind.kind: kind for kind in KINDS}


def min_cell() -> int:
    """The small-cell threshold: the CLI's setting when it is a whole number from 1 up,
    else the default."""
    value = os.environ.get(MIN_CELL_VARIABLE, "")
    return int(value) if value.isdecimal() and int(value) >= 1 else export.DEFAULT_MIN_CELL


@router.get("/staff/campaigns/{campaign_id}/exports", response_class=HTMLResponse)
async def exports_page(request: Request, campaign_id: str, staff: Analyst) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    query = select(func.count()).where(Respondent.campaign_id == campaign.id)
    async with runtime_of(request).database.sessions() as session:
        respondents = int((await session.execute(query)).scalar_one())
    return render(
        request, "exports.html", staff, title="Export", campaign=campaign, kinds=KINDS,
        respondents=respondents, min_cell=min_cell(),
    )  # fmt: skip


async def _file(request: Request, campaign_id: str, kind: ExportKind) -> tuple[bytes, int]:
    """The file's bytes and how many respondents it holds."""
    runtime = runtime_of(request)
    result = await export.collect(runtime.database, runtime.library, campaign=campaign_id)
    if kind.kind == "stats-json":
        stats = export.build_stats(
            result, runtime.library, min_cell=min_cell(), campaign=campaign_id
        )
        return export.json_text(stats.to_dict()).encode("utf-8"), len(result.rows)
    if kind.extension == "json":
        return export.to_json(result.rows).encode("utf-8"), len(result.rows)
    # Building a big table takes a while: off the event loop, so other pages stay quick.
    if kind.extension == "csv":
        text = await run_in_threadpool(export.to_csv, result)
        return text.encode("utf-8"), len(result.rows)
    return await run_in_threadpool(export.to_xlsx, result), len(result.rows)


@router.post("/staff/campaigns/{campaign_id}/exports/{kind}")
async def download(request: Request, campaign_id: str, kind: str, staff: Analyst) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    wanted = BY_KIND.get(kind)
    if wanted is None:
        raise StaffRefused(404, f"Det finns ingen export som heter '{kind}'.")
    data, rows = await _file(request, campaign.id, wanted)
    runtime = runtime_of(request)
    now = runtime.clock()
    detail = {
        "campaign": campaign.id,
        "kind": wanted.kind,
        "format": wanted.extension,
        "rows": rows,
    }
    async with runtime.database.sessions() as session, session.begin():
        await repo.audit(session, staff.actor, "export.downloaded", detail, now)
    day = now.astimezone(STOCKHOLM).date().isoformat()
    filename = f"{campaign.id}-{wanted.name}-{day}.{wanted.extension}"
    return Response(
        data,
        media_type=wanted.media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
