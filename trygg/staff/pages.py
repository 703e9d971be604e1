"""Rendering staff pages: one Jinja environment, one layout, and what every page gets.

Every page is in Swedish (the staff's language) and works without JavaScript. Text that
people wrote is put in the page with ``dir="auto"`` and its language, so Arabic shows
right to left and Swedish left to right, each as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dialog_flows.model import Campaign
from trygg.staff.accounts import Staff
from trygg.staff.auth import StaffRefused, runtime_of
from trygg.staff.roles import ROLE_NAMES, may

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["may"] = may
TEMPLATES.env.globals["role_names"] = ROLE_NAMES


def render(
    request: Request,
    template: str,
    staff: Staff | None,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    runtime = runtime_of(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "title": title,
            "campaigns": runtime.library.campaigns,
            **context,
        },
        status_code=status_code,
    )


def campaign_or_404(request: Request, campaign_id: str) -> Campaign:
    for campaign in runtime_of(request).library.campaigns:
        if campaign.id == campaign_id:
            return campaign
    raise StaffRefused(404, f"Det finns ingen kampanj som heter '{campaign_id}'.")


async def refused_page(request: Request, exc: Exception) -> Response:
    """StaffRefused as the answer: a redirect to the login page, JSON for the staff API,
    or a short page saying why."""
    assert isinstance(exc, StaffRefused)
    if exc.location is not None:
        return RedirectResponse(exc.location, status_code=exc.status)
    if request.url.path.startswith("/staff/api/"):
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    staff = getattr(request.state, "staff", None)
    return render(
        request, "refused.html", staff, title="Ingen åtkomst", status_code=exc.status,
        message=exc.message,
    )  # fmt: skip
