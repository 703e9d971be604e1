"""The audit log (admin): who did what and when, newest first, a page at a time.

Entries are written by the code that acts (logins, exports, broadcasts, erasure,
account changes), in the same transaction as the act. This page only reads them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from storage.models import AuditEntry
from trygg.staff.auth import Admin, runtime_of
from trygg.staff.pages import render

router = APIRouter()
PER_PAGE = 100


def _detail_text(detail: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in detail.items()
    )


@router.get("/staff/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    staff: Admin,
    action: str = Query(default="", max_length=64),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    async with runtime_of(request).database.sessions() as session:
        actions = list(
            (
                await session.execute(
                    select(AuditEntry.action).distinct().order_by(AuditEntry.action)
                )
            )
            .scalars()
            .all()
        )
        query = select(AuditEntry)
        count = select(func.count()).select_from(AuditEntry)
        if action:
            query = query.where(AuditEntry.action == action)
            count = count.where(AuditEntry.action == action)
        total = int((await session.execute(count)).scalar_one())
        query = query.order_by(AuditEntry.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        entries = [
            (entry.at, entry.actor, entry.action, _detail_text(entry.detail))
            for entry in (await session.execute(query)).scalars()
        ]
    pages = max(1, -(-total // PER_PAGE))
    return render(
        request, "audit.html", staff, title="Logg", entries=entries, actions=actions,
        action=action, page=page, pages=pages, total=total,
    )  # fmt: skip
