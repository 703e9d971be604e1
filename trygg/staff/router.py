"""Puts the staff dashboard into the web app: its routes, its refusals, its headers."""

from __future__ import annotations

from fastapi import FastAPI

from trygg.staff import (
    audit_page,
    broadcast_pages,
    campaign_pages,
    erasure,
    exports,
    free_text,
    login,
    results,
    users,
)
from trygg.staff.auth import StaffRefused
from trygg.staff.headers import StaffHeaders
from trygg.staff.pages import refused_page

# Each page module has one APIRouter; they are listed here and nowhere else.
PAGE_MODULES = (
    login,
    campaign_pages,
    results,
    free_text,
    exports,
    broadcast_pages,
    users,
    audit_page,
    erasure,
)


def install(app: FastAPI) -> None:
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.add_exception_handler(StaffRefused, refused_page)
    app.add_middleware(StaffHeaders)
