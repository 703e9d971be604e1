"""Logging in and out of the staff dashboard: lockout, session fixation, cookie flags,
expiry, account changes, and what the audit log records, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from storage.models import AuditEntry, StaffUser
from tests.service_helpers import Clock
from tests.staff.staff_helpers import (
    PASSWORD,
    add_user,
    anonymous_client,
    csrf_of,
    log_in,
    staff_client,
)
from trygg.service.runtime import Runtime
from trygg.staff.accounts import ADDRESS_LIMIT, LOCKED, USER_LIMIT, WRONG
from trygg.staff.auth import COOKIE


def clock_of(runtime: Runtime) -> Clock:
    assert isinstance(runtime.clock, Clock)
    return runtime.clock


async def audit_actions(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.database.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(row.actor, row.action, row.detail) for row in rows]


async def test_a_user_logs_in_and_out(runtime: Runtime) -> None:
    await add_user(runtime, "Anna.Svensson", "analyst")
    async with anonymous_client(runtime) as http:
        answer = await log_in(http, "anna.svensson")
        assert answer.status_code == 303 and answer.headers["location"] == "/staff"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for flag in ("HttpOnly", "SameSite=strict", "Path=/staff"):
            assert flag.lower() in cookie.lower(), cookie
        assert "secure" not in cookie.lower()  # plain http on 127.0.0.1 in this test
        page = await http.get("/staff")
        assert "anna.svensson (analyst)" in page.text
        answer = await http.post("/staff/logout", data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 303
        assert (await http.get("/staff")).status_code == 303
    actions = [(actor, action) for actor, action, _ in await audit_actions(runtime)]
    assert ("staff:anna.svensson", "staff.login") in actions
    assert ("staff:anna.svensson", "staff.logout") in actions


async def test_the_cookie_is_secure_behind_https(runtime: Runtime) -> None:
    runtime.settings.public_url = "https://dialog.example.se"
    await add_user(runtime, "anna", "viewer")
    async with anonymous_client(runtime, "https://dialog.example.se") as http:
        form = await http.get("/staff/login")
        assert "secure" in form.headers["set-cookie"].lower()
        answer = await log_in(http, "anna")
        assert "secure" in answer.headers["set-cookie"].lower()


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "viewer")
    async with anonymous_client(runtime) as http:
        wrong_password = await log_in(http, "anna", "not the password at all")
        unknown_name = await log_in(http, "nobody", PASSWORD)
    for answer in (wrong_password, unknown_name):
        assert answer.status_code == 401
        assert WRONG in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")


async def test_repeated_failures_lock_the_name_out_then_it_opens_again(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "admin")
    async with anonymous_client(runtime) as http:
        for _ in range(USER_LIMIT - 1):
            assert WRONG in (await log_in(http, "anna", "wrong password!!")).text
        assert LOCKED in (await log_in(http, "anna", "wrong password!!")).text
        # Locked: even the right password is refused, and no session is made.
        answer = await log_in(http, "anna")
        assert answer.status_code == 401 and LOCKED in answer.text
        assert (await http.get("/staff")).status_code == 303
        clock_of(runtime).advance(minutes=16)
        assert (await log_in(http, "anna")).status_code == 303
    actions = [action for _, action, _ in await audit_actions(runtime)]
    assert actions.count("staff.login_failed") == USER_LIMIT
    assert "staff.login_refused" in actions


async def test_one_address_trying_many_names_is_locked_out(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "admin")
    async with anonymous_client(runtime) as http:
        for number in range(ADDRESS_LIMIT):
            await log_in(http, f"guess{number}", "wrong password!!")
        answer = await log_in(http, "anna")
        assert answer.status_code == 401 and LOCKED in answer.text


async def test_login_makes_a_new_session_and_ends_the_one_before(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "admin")
    await add_user(runtime, "bertil", "viewer")
    async with anonymous_client(runtime) as http:
        # A token planted before login (session fixation) is not what the login uses.
        http.cookies.set(COOKIE, "planted-by-someone-else")
        answer = await log_in(http, "anna")
        given = re.search(rf"{COOKIE}=([^;]+)", answer.headers["set-cookie"])
        assert given and given.group(1) != "planted-by-someone-else"
        anna_token = given.group(1)
    async with anonymous_client(runtime) as planted:
        planted.cookies.set(COOKIE, "planted-by-someone-else")
        assert (await planted.get("/staff")).status_code == 303
    async with anonymous_client(runtime) as shared:
        # Logging in as someone else in the same browser ends the first session.
        shared.cookies.set(COOKIE, anna_token)
        assert (await shared.get("/staff")).status_code == 200
        assert (await shared.get("/staff/login")).status_code == 303  # already logged in
        shared.cookies.clear()
        form = await shared.get("/staff/login")
        shared.cookies.set(COOKIE, anna_token)
        answer = await shared.post(
            "/staff/login",
            data={"username": "bertil", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
        assert answer.status_code == 303
    async with anonymous_client(runtime) as later:
        later.cookies.set(COOKIE, anna_token)
        assert (await later.get("/staff")).status_code == 303


async def test_the_login_form_needs_its_csrf_cookie(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "admin")
    async with anonymous_client(runtime) as http:
        answer = await http.post(
            "/staff/login", data={"username": "anna", "password": PASSWORD, "csrf_token": "x"}
        )
        assert answer.status_code == 403
        assert COOKIE not in answer.headers.get("set-cookie", "")


async def test_next_leads_only_to_dashboard_pages(runtime: Runtime) -> None:
    await add_user(runtime, "anna", "admin")
    async with anonymous_client(runtime) as http:
        refused = await http.get("/staff/audit?action=staff.login")
        assert (
            refused.headers["location"] == "/staff/login?next=/staff/audit%3Faction%3Dstaff.login"
        )
        for target, lands in [
            ("/staff/audit?action=staff.login", "/staff/audit?action=staff.login"),
            ("https://evil.example/staff", "/staff"),
            ("//evil.example/staff", "/staff"),
            ("/staff//evil.example", "/staff"),
        ]:
            http.cookies.clear()
            form = await http.get("/staff/login")
            answer = await http.post(
                "/staff/login",
                data={"username": "anna", "password": PASSWORD, "next": target,
                      "csrf_token": csrf_of(form.text)},
            )  # fmt: skip
            assert answer.headers["location"] == lands, target


async def test_idle_and_old_sessions_end(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as staff:
        clock_of(runtime).advance(minutes=59)
        assert (await staff.http.get("/staff")).status_code == 200
        clock_of(runtime).advance(minutes=61)
        assert (await staff.http.get("/staff")).status_code == 303
    async with staff_client(runtime, "viewer", "second") as staff:
        for _ in range(8):  # 7 h 52 min, never idle for an hour
            clock_of(runtime).advance(minutes=59)
            assert (await staff.http.get("/staff")).status_code == 200
        clock_of(runtime).advance(minutes=9)
        assert (await staff.http.get("/staff")).status_code == 303  # 8 hours at most


async def test_admin_manages_accounts_and_changes_end_sessions(runtime: Runtime) -> None:
    async with staff_client(runtime, "admin") as admin, staff_client(runtime, "analyst") as other:
        answer = await admin.post_form(
            "/staff/users",
            {"username": "cecilia", "role": "viewer", "password": "lång nog lösenord 42",
             "password_again": "lång nog lösenord 42"},
        )  # fmt: skip
        assert answer.status_code == 303
        weak = await admin.post_form(
            "/staff/users",
            {"username": "david", "role": "viewer", "password": "short", "password_again": "short"},
        )
        assert weak.status_code == 422 and "minst 12 tecken" in weak.text
        assert 'value="david"' in weak.text  # what was typed is kept
        async with runtime.database.sessions() as session:
            users = {u.username: u for u in (await session.execute(select(StaffUser))).scalars()}
        assert set(users) == {"admin-user", "analyst-user", "cecilia"}
        assert users["cecilia"].password_hash.startswith("$argon2id$")
        # Fewer rights end the sessions opened with the old ones.
        analyst = users["analyst-user"]
        answer = await admin.post_form(f"/staff/users/{analyst.id}", {"role": "viewer"})
        assert answer.status_code == 303
        assert (await other.http.get("/staff")).status_code == 303
        # Switched off: cannot log in.
        await admin.post_form(f"/staff/users/{analyst.id}", {"active": "no"})
        async with anonymous_client(runtime) as http:
            assert (await log_in(http, "analyst-user")).status_code == 401
        # The last admin cannot take their own rights away.
        me = users["admin-user"]
        answer = await admin.post_form(f"/staff/users/{me.id}", {"role": "viewer"})
        assert answer.status_code == 422 and "minst en aktiv administratör" in answer.text
        audit = await admin.http.get("/staff/audit")
        assert audit.status_code == 200
        for action in ("staff.user_created", "staff.user_changed", "staff.login"):
            assert action in audit.text
        assert "lång nog" not in audit.text  # never a password in the log
        filtered = await admin.http.get("/staff/audit", params={"action": "staff.user_created"})
        # admin-user, analyst-user and cecilia
        assert len(re.findall(r"<td>staff\.user_created</td>", filtered.text)) == 3
        assert "&#34;cecilia&#34;" in filtered.text
        assert "<td>staff.login</td>" not in filtered.text
