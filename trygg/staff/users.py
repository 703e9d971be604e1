"""Staff accounts (admin): list, create, change role, switch off, set a new password.

The rules (who may exist, the last admin, ending sessions) live in ``accounts``; this
module turns forms into those calls and their refusals into messages on the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from storage import staff as staff_store
from trygg.staff.accounts import AccountError, change_user, create_user
from trygg.staff.auth import Admin, runtime_of
from trygg.staff.pages import render
from trygg.staff.roles import ROLES

router = APIRouter()
NOTICES = {
    "created": "Användaren är skapad.",
    "changed": "Ändringen är sparad. Användarens inloggningar har avslutats.",
}


async def _page(
    request: Request,
    staff: Admin,
    *,
    notice: str | None = None,
    problem: str | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime_of(request).database.sessions() as session:
        accounts = list(await staff_store.users(session))
    return render(
        request, "users.html", staff, title="Användare", accounts=accounts, roles=ROLES,
        notice=NOTICES.get(notice or ""), problem=problem, entered=entered or {},
        status_code=status_code,
    )  # fmt: skip


@router.get("/staff/users", response_class=HTMLResponse)
async def users_page(request: Request, staff: Admin, notice: str | None = None) -> Response:
    return await _page(request, staff, notice=notice)


@router.post("/staff/users", response_class=HTMLResponse)
async def create(
    request: Request,
    staff: Admin,
    username: str = Form(default="", max_length=200),
    role: str = Form(default="viewer", max_length=20),
    password: str = Form(default="", max_length=1000),
    password_again: str = Form(default="", max_length=1000),
) -> Response:
    entered = {"username": username, "role": role}
    if password != password_again:
        return await _page(
            request, staff, problem="De två lösenorden är olika.", entered=entered,
            status_code=422,
        )  # fmt: skip
    try:
        await create_user(
            runtime_of(request), username=username, password=password, role=role,
            actor=staff.actor,
        )  # fmt: skip
    except AccountError as exc:
        return await _page(request, staff, problem=str(exc), entered=entered, status_code=422)
    return RedirectResponse("/staff/users?notice=created", status_code=303)


@router.post("/staff/users/{user_id}", response_class=HTMLResponse)
async def change(
    request: Request,
    staff: Admin,
    user_id: int,
    role: str | None = Form(default=None, max_length=20),
    active: str | None = Form(default=None, max_length=5),
    password: str | None = Form(default=None, max_length=1000),
) -> Response:
    try:
        await change_user(
            runtime_of(request),
            user_id,
            actor=staff.actor,
            role=role or None,
            active=None if active is None else active == "yes",
            password=password or None,
        )
    except AccountError as exc:
        return await _page(request, staff, problem=str(exc), status_code=422)
    return RedirectResponse("/staff/users?notice=changed", status_code=303)
