"""`trygg facebook setup | link` against the fake Graph API."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.bots.facebook.fake_graph_api import FakeGraphApi
from tests.bots.facebook.signing import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN
from trygg.cli import app


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, fake_graph: FakeGraphApi, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRYGG_FACEBOOK_PAGE_TOKEN", PAGE_TOKEN)
    monkeypatch.setenv("TRYGG_FACEBOOK_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("TRYGG_FACEBOOK_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setenv("TRYGG_FACEBOOK_API", fake_graph.root)
    monkeypatch.delenv("TRYGG_FACEBOOK_PAGE_NAME", raising=False)
    return CliRunner()


def test_setup_sets_get_started_and_the_menu_in_swedish_english_and_arabic(
    cli: CliRunner, fake_graph: FakeGraphApi
) -> None:
    result = cli.invoke(app, ["facebook", "setup"])
    assert result.exit_code == 0, result.output
    profile = fake_graph.profile
    assert profile["get_started"] == {"payload": "GET_STARTED"}
    menus = {menu["locale"]: menu for menu in profile["persistent_menu"]}
    assert set(menus) >= {"default", "en_US", "ar_AR"}

    def titles(locale: str) -> list[str]:
        return [action["title"] for action in menus[locale]["call_to_actions"]]

    assert titles("default") == ["Delta i dialogen", "Se resultatet", "Byt språk",
                                 "Sluta få meddelanden"]  # fmt: skip
    assert titles("en_US") == ["Take part", "See the results", "Change language", "Stop messages"]
    assert titles("ar_AR")[1] == "اطّلع على النتائج"
    payloads = [a["payload"] for a in menus["default"]["call_to_actions"]]
    assert payloads == ["MENU:START", "MENU:RESULTS", "MENU:LANGUAGE", "MENU:STOP"]


def test_setup_reports_metas_error(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGG_FACEBOOK_PAGE_TOKEN", "wrong")
    result = cli.invoke(app, ["facebook", "setup"])
    assert result.exit_code == 1 and "Meta answered 400" in result.output


def test_setup_says_what_is_missing_when_messenger_is_off(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRYGG_FACEBOOK_APP_SECRET")
    result = cli.invoke(app, ["facebook", "setup"])
    assert result.exit_code == 2 and "TRYGG_FACEBOOK_APP_SECRET" in result.output


def test_link_prints_the_m_me_link_and_writes_qr_codes(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["facebook", "link", "badet", "--page", "TryggKarlslund",
                              "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "https://m.me/TryggKarlslund?ref=badet" in result.output
    assert (tmp_path / "messenger-badet.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "messenger-badet.svg").read_text()
    unknown = cli.invoke(app, ["facebook", "link", "nosuch", "--page", "x"])
    assert unknown.exit_code == 2 and "unknown source" in unknown.output
    no_page = cli.invoke(app, ["facebook", "link", "badet"])
    assert no_page.exit_code == 2 and "TRYGG_FACEBOOK_PAGE_NAME" in no_page.output
