"""`trygg telegram set-webhook | info | link` against the fake Bot API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.bots.telegram.fake_bot_api import FakeBotApi
from trygg.cli import app

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, fake_bot_api: FakeBotApi, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRYGG_TELEGRAM_TOKEN", fake_bot_api.token)
    monkeypatch.setenv("TRYGG_TELEGRAM_SECRET", "webhook-secret_123")
    monkeypatch.setenv("TRYGG_TELEGRAM_API", fake_bot_api.root)
    monkeypatch.setenv("TRYGG_PUBLIC_URL", "https://dialog.example.se")
    return CliRunner()


def test_set_webhook_registers_url_secret_and_update_kinds(
    cli: CliRunner, fake_bot_api: FakeBotApi
) -> None:
    result = cli.invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    [call] = fake_bot_api.calls_of("setWebhook")
    assert call.params["url"] == "https://dialog.example.se/webhooks/telegram"
    assert call.params["secret_token"] == "webhook-secret_123"
    assert call.params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    info = cli.invoke(app, ["telegram", "info"])
    assert info.exit_code == 0 and "https://dialog.example.se/webhooks/telegram" in info.output


def test_set_webhook_refuses_a_plain_http_url(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, fake_bot_api: FakeBotApi
) -> None:
    monkeypatch.setenv("TRYGG_PUBLIC_URL", "http://127.0.0.1:8000")
    result = cli.invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 2 and "https://" in result.output
    assert fake_bot_api.calls_of("setWebhook") == []


def test_link_prints_the_deep_link_and_writes_qr_codes(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["telegram", "link", "badet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "https://t.me/TryggKarlslundBot?start=badet" in result.output
    assert (tmp_path / "telegram-badet.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "telegram-badet.svg").read_text()
    unknown = cli.invoke(app, ["telegram", "link", "nosuch", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown source" in unknown.output


def test_commands_say_what_is_missing_when_telegram_is_off(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRYGG_TELEGRAM_SECRET")
    result = cli.invoke(app, ["telegram", "info"])
    assert result.exit_code == 2 and "TRYGG_TELEGRAM_SECRET" in result.output


def test_poll_once_handles_queued_updates_and_sends_the_replies(
    cli: CliRunner, fake_bot_api: FakeBotApi
) -> None:
    start = json.loads((FIXTURES / "start_with_source.json").read_text(encoding="utf-8"))
    fake_bot_api.queue_updates([start])
    result = cli.invoke(app, ["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output
    chat = start["message"]["chat"]["id"]
    sent = fake_bot_api.sent_to(chat)
    assert len(sent) == 2 and sent[0]["text"].startswith("Hej! Polisen och Landskrona stad")
    offsets = [call.params.get("offset") for call in fake_bot_api.calls_of("getUpdates")]
    assert offsets[-1] == start["update_id"] + 1  # the batch was confirmed


def test_poll_refuses_while_a_webhook_is_set(cli: CliRunner, fake_bot_api: FakeBotApi) -> None:
    assert cli.invoke(app, ["telegram", "set-webhook"]).exit_code == 0
    result = cli.invoke(app, ["telegram", "poll", "--once"])
    assert result.exit_code == 2 and "--force" in result.output
    forced = cli.invoke(app, ["telegram", "poll", "--once", "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(fake_bot_api.calls_of("deleteWebhook")) == 1
