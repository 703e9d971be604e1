"""Who is asking, as FastAPI dependencies that every staff route declares.

``Viewer``, ``Analyst`` and ``Admin`` are annotated types: a route that takes
``staff: Analyst`` is refused to anyone without a session (a page request is sent to the
login page, anything else gets 401), to anyone whose role is below analyst (403), and,
for every method that changes something, to a request without the session's CSRF token
(403). The token comes from the form field ``csrf_token`` or the ``X-CSRF-Token`` header.

The session cookie is HttpOnly, SameSite=Strict, and Secure whenever the service is
reached over HTTPS, so it is never sent by another site's page or read by a script.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from trygg.service.runtime import Runtime
from trygg.staff.accounts import SESSION_LIFETIME, Staff, staff_for
from trygg.staff.roles import Role, may

COOKIE = "trygg_staff"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class StaffRefused(Exception):  # noqa: N818 (it is an answer, not a fault)
    """A staff request that is not allowed; the app turns it into a page or a redirect."""

    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def is_secure(request: Request) -> bool:
    public_https = runtime_of(request).settings.public_url.startswith("https://")
    return public_https or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/staff",
        httponly=True,
        secure=is_secure(request),
        samesite="strict",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/staff", httponly=True, secure=is_secure(request), samesite="strict"
    )


async def current_staff(request: Request) -> Staff | None:
    """The logged-in member of staff, looked up once per request."""
    if hasattr(request.state, "staff"):
        found: Staff | None = request.state.staff
        return found
    token = request.cookies.get(COOKIE)
    staff = await staff_for(runtime_of(request), token) if token else None
    request.state.staff = staff
    return staff


async def csrf_given(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette keeps it, so the route reads it again free
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def require(role: Role) -> object:
    async def dependency(request: Request) -> Staff:
        staff = await current_staff(request)
        if staff is None:
            if request.method in SAFE_METHODS:
                query = f"?{request.url.query}" if request.url.query else ""
                target = quote(request.url.path + query)
                raise StaffRefused(303, "Logga in först.", f"/staff/login?next={target}")
            raise StaffRefused(401, "Logga in först.")
        if not may(staff.role, role):
            raise StaffRefused(403, "Din roll har inte tillgång till den här sidan.")
        if request.method not in SAFE_METHODS:
            given = await csrf_given(request)
            if not secrets.compare_digest(given.encode(), staff.csrf_token.encode()):
                raise StaffRefused(403, "Formuläret har gått ut. Ladda om sidan och försök igen.")
        return staff

    return Depends(dependency)


Viewer = Annotated[Staff, require("viewer")]
Analyst = Annotated[Staff, require("analyst")]
Admin = Annotated[Staff, require("admin")]
