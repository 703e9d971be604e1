"""A logged-in member of staff for tests: the real login form over the app's HTTP
interface (httpx on the ASGI app), on SQLite or PostgreSQL.

``staff_client(runtime, role)`` creates the account through the same code as
``trygg staff create-user``, logs in through ``/staff/login`` with the form's CSRF
cookie, and reads the session's CSRF token off the page, as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from trygg.service.runtime import Runtime
from trygg.staff.accounts import create_user
from trygg.web.app import create_app

PASSWORD = "correct horse battery staple"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class StaffClient:
    http: httpx.AsyncClient
    csrf: str
    username: str

    async def post_form(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A form post with the session's CSRF token, as the pages send it."""
        return await self.http.post(path, data={**(data or {}), "csrf_token": self.csrf})


def csrf_of(page: str) -> str:
    found = CSRF_IN_PAGE.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def log_in(
    http: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    form = await http.get("/staff/login")
    return await http.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
    )


async def add_user(runtime: Runtime, username: str, role: str) -> None:
    await create_user(runtime, username=username, password=PASSWORD, role=role, actor="test")


@asynccontextmanager
async def anonymous_client(
    runtime: Runtime, base_url: str = "http://t"
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime, run_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        yield http


@asynccontextmanager
async def staff_client(
    runtime: Runtime, role: str, username: str | None = None
) -> AsyncIterator[StaffClient]:
    name = username or f"{role}-user"
    await add_user(runtime, name, role)
    async with anonymous_client(runtime) as http:
        answer = await log_in(http, name)
        assert answer.status_code == 303, answer.text
        start = await http.get("/staff")
        assert start.status_code == 200, start.text
        yield StaffClient(http, csrf_of(start.text), name)
