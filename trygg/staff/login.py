"""``/staff/login``, ``/staff/logout`` and the start page ``/staff``.

The login form has its own CSRF guard (a random value in a cookie and in the form, which
another site can neither read nor set), because there is no session yet to keep one in.
Every login gets a new session token, and a session cookie the browser already had is
ended, so a token planted before login is worth nothing after it (session fixation).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trygg.staff import accounts
from trygg.staff.auth import (
    COOKIE,
    StaffRefused,
    Viewer,
    clear_session_cookie,
    current_staff,
    is_secure,
    runtime_of,
    set_session_cookie,
)
from trygg.staff.pages import render

router = APIRouter()
LOGIN_CSRF_COOKIE = "trygg_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only a path of this dashboard: never another site (an open redirect)."""
    if (
        target
        and target.startswith("/staff")
        and not target.startswith("/staff/login")
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return "/staff"


def _login_page(
    request: Request, next_path: str, problem: str | None = None, status_code: int = 200
) -> HTMLResponse:
    value = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, title="Logga in", csrf=value, next_path=next_path,
        problem=problem, status_code=status_code,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF_COOKIE, value, path="/staff/login", httponly=True,
        secure=is_secure(request), samesite="strict", max_age=3600,
    )  # fmt: skip
    return response


@router.get("/staff/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    if await current_staff(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, _safe_next(next))


@router.post("/staff/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: str = Form(default="", max_length=200),
    password: str = Form(default="", max_length=1000),
    csrf_token: str = Form(default=""),
    next: str = Form(default="/staff"),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token.encode(), expected.encode()):
        raise StaffRefused(403, "Formuläret har gått ut. Ladda om sidan och försök igen.")
    runtime = runtime_of(request)
    old = await current_staff(request)
    if old is not None:
        await accounts.log_out(runtime, old)
    address = request.client.host if request.client else "unknown"
    result = await accounts.log_in(runtime, username, password, address)
    if result.token is None:
        return _login_page(request, _safe_next(next), result.problem, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return response


@router.post("/staff/logout")
async def logout(request: Request, staff: Viewer) -> Response:
    await accounts.log_out(runtime_of(request), staff)
    response = RedirectResponse("/staff/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/staff", response_class=HTMLResponse)
async def start_page(request: Request, staff: Viewer) -> Response:
    return render(request, "start.html", staff, title="Kampanjer")


__all__ = ["COOKIE", "router"]
