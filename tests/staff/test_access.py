"""Who reaches which staff route: every route of the app under /staff, without a session,
with each role, and with and without the CSRF token, on SQLite and PostgreSQL.

The expected role of each route is written here, by path, independently of the code:
a new staff route that this table does not cover fails the test until someone decides
who may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.staff.staff_helpers import anonymous_client, staff_client
from trygg.service.runtime import Runtime
from trygg.staff.roles import ROLES
from trygg.web.app import create_app

PUBLIC = {("GET", "/staff/login"), ("POST", "/staff/login")}
# (path pattern, the lowest role that may use it); the first match counts.
EXPECTED_ROLE = [
    (r"^/staff/api/", "admin"),
    (r"^/staff/(users|audit)", "admin"),
    (r"^/staff/broadcasts", "admin"),
    (r"^/staff/campaigns/[^/]+/(broadcasts|erasure)", "admin"),
    (r"^/staff/campaigns/[^/]+/(free-text|exports)", "analyst"),
    (r"^/staff/campaigns/[^/]+/(results|posters)", "viewer"),
    (r"^/staff/campaigns/[^/]+$", "viewer"),
    (r"^/staff(/logout)?$", "viewer"),
]
# Values for path parameters that exist in the test database (or plausibly could).
PARAMETERS = {
    "campaign_id": "karlslund",
    "source": "badet",
    "lang": "sv",
    "language": "sv",
    "kind": "csv",
    "broadcast_id": "1",
    "user_id": "1",
    "action": "pause",
    "move": "pause",
}


def staff_routes() -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    for route in _app_routes():
        if not route.path.startswith("/staff"):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) not in PUBLIC:
                routes.append((method, route.path))
    return routes


def _app_routes() -> list[APIRoute]:
    from tests.service_helpers import SECRET
    from trygg.service.runtime import build_runtime
    from trygg.settings import Settings

    runtime = build_runtime(Settings(database_url="sqlite+aiosqlite://", secret_key=SECRET))
    return list(_flatten(create_app(runtime).routes))


def _flatten(routes: list[Any]) -> Iterator[APIRoute]:
    """The app's routes, looking inside included routers (FastAPI may keep them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _flatten(route.original_router.routes)


ROUTES = staff_routes()


def expected_role(path: str) -> str:
    for pattern, role in EXPECTED_ROLE:
        if re.search(pattern, path):
            return role
    raise AssertionError(f"no expected role for {path}: add it to EXPECTED_ROLE")


def concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        assert name in PARAMETERS, f"no test value for the path parameter {name} in {path}"
        return PARAMETERS[name]

    return re.sub(r"\{([^}]+)\}", value, path)


def test_every_staff_route_has_an_expected_role() -> None:
    assert len(ROUTES) >= 10  # the dashboard's routes were found at all
    for _, path in ROUTES:
        expected_role(path)


async def call(http: httpx.AsyncClient, method: str, path: str, csrf: str | None) -> httpx.Response:
    url = concrete(path)
    if method == "GET":
        return await http.get(url)
    if path.startswith("/staff/api/"):
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        return await http.request(method, url, json={}, headers=headers)
    return await http.request(method, url, data={"csrf_token": csrf} if csrf else {})


async def test_without_a_session_every_route_is_refused(runtime: Runtime) -> None:
    async with anonymous_client(runtime) as http:
        for method, path in ROUTES:
            answer = await call(http, method, path, None)
            if path.startswith("/staff/api/"):
                assert answer.status_code in (401, 403), (method, path, answer.status_code)
            elif method == "GET":
                assert answer.status_code == 303, (method, path, answer.status_code)
                assert answer.headers["location"].startswith("/staff/login?next="), path
            else:
                assert answer.status_code == 401, (method, path, answer.status_code)


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reaches_exactly_its_routes(runtime: Runtime, role: str) -> None:
    async with staff_client(runtime, role) as staff:
        for method, path in ROUTES:
            allowed = ROLES.index(role) >= ROLES.index(expected_role(path))  # type: ignore[arg-type]
            if method != "GET" and allowed:
                continue  # changes are tried with each page's own tests, not blindly here
            answer = await call(staff.http, method, path, staff.csrf)
            if allowed:
                assert answer.status_code not in (401, 403), (role, method, path, answer.text)
                assert "/staff/login" not in answer.headers.get("location", ""), (role, path)
            else:
                assert answer.status_code == 403, (role, method, path, answer.status_code)


async def test_every_change_needs_the_csrf_token(runtime: Runtime) -> None:
    async with staff_client(runtime, "admin") as staff:
        changes = [(m, p) for m, p in ROUTES if m != "GET"]
        assert changes
        for method, path in changes:
            for token in (None, "not-the-token", staff.csrf[:-1] + "x"):
                answer = await call(staff.http, method, path, token)
                assert answer.status_code == 403, (method, path, token, answer.status_code)
        # Still logged in: the refused requests changed nothing, the session included.
        assert (await staff.http.get("/staff")).status_code == 200


async def test_a_session_from_another_browser_has_another_csrf_token(runtime: Runtime) -> None:
    async with (
        staff_client(runtime, "admin", "first") as first,
        staff_client(runtime, "admin", "second") as second,
    ):
        assert first.csrf != second.csrf
        answer = await second.http.post(
            "/staff/users", data={"csrf_token": first.csrf, "username": "x"}
        )
        assert answer.status_code == 403
