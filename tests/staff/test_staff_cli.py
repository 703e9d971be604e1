"""``trygg staff create-user`` and ``trygg staff list``, through typer's CliRunner on a
fresh SQLite database: the first admin comes from here and can then log in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service_helpers import SECRET, make_runtime
from tests.staff.staff_helpers import anonymous_client, log_in
from trygg.cli import app

PASSWORD = "ett långt lösenord för första admin"


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'staff.db'}"
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", url)
    monkeypatch.setenv("TRYGG_SECRET_KEY", SECRET)
    monkeypatch.chdir(tmp_path)
    return url


def test_the_first_admin_is_created_and_logs_in(database: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["staff", "create-user", "Anna", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'anna'" in result.output
    listed = runner.invoke(app, ["staff", "list"])
    assert listed.exit_code == 0 and "anna" in listed.output and "admin" in listed.output
    assert PASSWORD not in listed.output

    async def log_in_on_the_web() -> None:
        runtime = await make_runtime(database)
        try:
            async with anonymous_client(runtime) as http:
                assert (await log_in(http, "anna", PASSWORD)).status_code == 303
                assert "anna (admin)" in (await http.get("/staff/users")).text
        finally:
            await runtime.close()

    asyncio.run(log_in_on_the_web())


def test_refusals_name_the_problem(database: str) -> None:
    runner = CliRunner()
    weak = runner.invoke(app, ["staff", "create-user", "anna", "--password-stdin"], input="kort\n")
    assert weak.exit_code == 1 and "minst 12 tecken" in weak.output
    role = runner.invoke(app, ["staff", "create-user", "anna", "--role", "boss"], input="x\n")
    assert role.exit_code == 2 and "unknown role 'boss'" in role.output
    first = runner.invoke(
        app, ["staff", "create-user", "anna", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert first.exit_code == 0
    again = runner.invoke(
        app, ["staff", "create-user", "ANNA", "--role", "viewer", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert again.exit_code == 1 and "finns redan" in again.output


def test_the_prompt_asks_twice(database: str) -> None:
    runner = CliRunner()
    differ = runner.invoke(app, ["staff", "create-user", "anna"], input=f"{PASSWORD}\nother\n")
    assert differ.exit_code == 1 and "differ" in differ.output
    same = runner.invoke(app, ["staff", "create-user", "anna"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert same.exit_code == 0, same.output
