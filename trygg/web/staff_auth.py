"""Who is calling the staff API (``/staff/api/...``), as one dependency every route
declares.

Two callers are let in, and the audit log records which:

- a logged-in **admin** of the dashboard (the session cookie), who must send the
  session's CSRF token in ``X-CSRF-Token`` with anything that changes something;
- a script with the **automation token** TRYGG_STAFF_API_TOKEN as
  ``Authorization: Bearer <token>``. The token acts as an admin; leave it unset (the
  default) unless a script needs it, and give it a long random value when one does.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request

from trygg.staff.auth import SAFE_METHODS, csrf_given, current_staff
from trygg.staff.roles import may

ACTOR = "api-token"
# A shorter token is guessable enough to leave the token switched off rather than open.
MIN_TOKEN_LENGTH = 16
SWITCHED_OFF = (
    "log in to the staff dashboard as an admin, or set TRYGG_STAFF_API_TOKEN to a long "
    'random secret (python -c "import secrets; print(secrets.token_urlsafe(32))") and send '
    "it as 'Authorization: Bearer <token>'"
)
TOO_SHORT = (
    f"the staff API token is switched off: TRYGG_STAFF_API_TOKEN is shorter than "
    f"{MIN_TOKEN_LENGTH} characters; set a long random secret and restart"
)
UNAUTHORIZED = "send the staff API token as 'Authorization: Bearer <token>'"
NOT_ADMIN = "the staff API is for admins"
NO_CSRF = "send the session's CSRF token in the X-CSRF-Token header"


async def staff_actor(request: Request) -> str:
    """The audit log's name for the caller; 401/403 for anyone else."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not scheme:
        return await _session_actor(request)
    expected = request.app.state.runtime.settings.staff_api_token
    if not expected:
        raise HTTPException(403, SWITCHED_OFF)
    if len(expected) < MIN_TOKEN_LENGTH:
        raise HTTPException(403, TOO_SHORT)
    # Bytes, because compare_digest refuses str with non-ASCII characters (a header may
    # hold any latin-1), and a TypeError would be a 500 instead of a 401.
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return ACTOR


async def _session_actor(request: Request) -> str:
    staff = await current_staff(request)
    if staff is None:
        expected = request.app.state.runtime.settings.staff_api_token
        if not expected:
            raise HTTPException(403, SWITCHED_OFF)
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    if not may(staff.role, "admin"):
        raise HTTPException(403, NOT_ADMIN)
    if request.method not in SAFE_METHODS:
        given = request.headers.get("x-csrf-token") or await csrf_given(request)
        if not secrets.compare_digest(given.encode(), staff.csrf_token.encode()):
            raise HTTPException(403, NO_CSRF)
    return staff.actor
