"""Who is calling the staff API, as one dependency that every staff route declares.

For now that is one shared bearer token (TRYGG_STAFF_API_TOKEN), a stop-gap until staff
accounts with roles exist. The dependency returns the actor the audit log records, so
swapping it for sessions and roles changes this module and nothing that uses it.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request

ACTOR = "api-token"
# A shorter token is guessable enough to leave the API switched off rather than open.
MIN_TOKEN_LENGTH = 16
SWITCHED_OFF = (
    "the staff API is switched off: set TRYGG_STAFF_API_TOKEN to a long random secret "
    '(python -c "import secrets; print(secrets.token_urlsafe(32))") and restart'
)
TOO_SHORT = (
    f"the staff API is switched off: TRYGG_STAFF_API_TOKEN is shorter than "
    f"{MIN_TOKEN_LENGTH} characters; set a long random secret and restart"
)
UNAUTHORIZED = "send the staff API token as 'Authorization: Bearer <token>'"


def staff_actor(request: Request) -> str:
    """The audit log's name for the caller; 403 while the API is off, 401 without the
    right token."""
    expected = request.app.state.runtime.settings.staff_api_token
    if not expected:
        raise HTTPException(403, SWITCHED_OFF)
    if len(expected) < MIN_TOKEN_LENGTH:
        raise HTTPException(403, TOO_SHORT)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Bytes, because compare_digest refuses str with non-ASCII characters (a header may
    # hold any latin-1), and a TypeError would be a 500 instead of a 401.
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return ACTOR
