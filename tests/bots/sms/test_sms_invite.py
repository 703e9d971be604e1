"""Invitations by SMS: a CSV list of people who agreed to be contacted, checked, priced,
confirmed and sent through the outbox to the fake Twilio. The service part runs on
SQLite and PostgreSQL; the command line on SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dialog_flows.campaigns import Entry
from storage import opt_outs
from storage.models import OutboxMessage
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.phone import PUBLIC, Phone
from trygg.cli import app
from trygg.export import export_rows
from trygg.invitation_list import Invitee, read_invitation_list
from trygg.service.invitations import plan_invitations, send_invitations
from trygg.service.runtime import Runtime

SMS = tuple[Runtime, httpx.AsyncClient]
PANEL = (
    "Namn;Telefon;Språk\n"
    "Anna;070-111 11 11;svenska\n"
    "Ali;070-222 22 22;arabiska\n"
    "Bo;046-12 34 56;\n"  # a landline: rejected
    "Cim;0701111111;\n"  # Anna again: a duplicate
    "Dee;070-333 33 33;\n"  # no language: the default, Swedish
)


def karlslund(runtime: Runtime, source: str | None = "medborgarpanel") -> Entry:
    campaign = runtime.library.campaign("karlslund")
    return Entry(campaign, campaign.source(source) if source else None)


async def outbox(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.database.sessions() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.scalars())


async def test_invite_a_list_then_an_invitee_answers_by_sms(
    sms: SMS, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    runtime, http = sms
    path = tmp_path / "panel.csv"
    path.write_text(PANEL, encoding="utf-8")
    flow = runtime.library.flow("karlslund")
    assert flow is not None
    listed = read_invitation_list(path, flow.languages)
    assert len(listed.invitees) == 3 and len(listed.rejected) == 1 and len(listed.duplicates) == 1
    # Dee opted out of an earlier campaign: never invited again.
    async with runtime.database.sessions() as session, session.begin():
        dee = runtime.vault.lookup_hash("sms", "+46703333333")
        await opt_outs.suppress(session, "sms", dee, "sv")
    plan = await plan_invitations(runtime, listed.invitees, karlslund(runtime))
    assert [i.number for i in plan.invite] == ["+46701111111", "+46702222222"]
    assert plan.opted_out == 1 and plan.known == 0
    # The estimate is the opening messages as they would go out: Arabic is UCS-2.
    assert plan.segments_per_invitation["ar"] > plan.segments_per_invitation["sv"] > 0
    assert plan.segments == plan.segments_per_invitation["sv"] + plan.segments_per_invitation["ar"]
    assert plan.cost == pytest.approx(plan.segments * runtime.settings.sms_segment_price)

    progress: list[int] = []
    result = await send_invitations(runtime, plan, lambda: progress.append(1))
    assert result.counts == {"invited": 2} and len(progress) == 2
    queued = await outbox(runtime)
    assert queued and all(row.priority == 10 for row in queued)  # behind live replies

    anna = Phone(http, fake_twilio, runtime, "+46701111111")
    ali = Phone(http, fake_twilio, runtime, "+46702222222")
    await anna.deliver()
    assert anna.received()[0].startswith("Hej! Polisen och Landskrona stad")
    assert "الشرطة" in ali.received()[0]
    assert fake_twilio.sent_to("+46703333333") == []
    segments = sum(int(call.response["num_segments"]) for call in fake_twilio.sends())
    assert segments == plan.segments  # the estimate was exact

    await anna.send("Mörkt vid kiosken")  # the answer to the first question
    [row] = [r for r in await export_rows(runtime) if r["language"] == "sv"]
    assert (row["channel"], row["source"]) == ("sms", "medborgarpanel")
    assert row["answers"]["problems"] == "Mörkt vid kiosken"

    # The same list again (a rerun after a crash, say) invites nobody twice.
    again = await plan_invitations(runtime, listed.invitees, karlslund(runtime))
    assert again.invite == [] and again.known == 2 and again.opted_out == 1


async def test_an_opt_out_between_plan_and_send_is_respected(
    sms: SMS, fake_twilio: FakeTwilio
) -> None:
    runtime, _ = sms
    invitee = Invitee(2, "+46704444444", None)
    plan = await plan_invitations(runtime, [invitee], karlslund(runtime, None))
    async with runtime.database.sessions() as session, session.begin():
        key = runtime.vault.lookup_hash("sms", invitee.number)
        await opt_outs.suppress(session, "sms", key, "sv")
    result = await send_invitations(runtime, plan)
    assert result.counts == {"opted_out": 1}
    assert await outbox(runtime) == []


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_twilio: FakeTwilio) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRYGG_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("TRYGG_TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TRYGG_TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TRYGG_TWILIO_FROM", "+46769999999")
    monkeypatch.setenv("TRYGG_TWILIO_API", fake_twilio.root)
    for name in ("TRYGG_FLOWS_DIR", "TRYGG_LOCALES_DIR", "TRYGG_SMS_INVITE_CONFIRM_ABOVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "panel.csv").write_text(PANEL, encoding="utf-8")
    return CliRunner()


def invite(cli: CliRunner, *args: str, answer: str | None = None) -> tuple[int, str]:
    result = cli.invoke(
        app, ["sms", "invite", "panel.csv", "--campaign", "karlslund", *args], input=answer
    )
    return result.exit_code, result.output


def outbox_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        return int(connection.execute("select count(*) from outbox").fetchone()[0])


def test_dry_run_reports_bad_lines_count_segments_and_cost_and_sends_nothing(
    cli: CliRunner, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    code, output = invite(cli, "--dry-run", "--report", "rejected.csv")
    assert code == 0, output
    assert "046-12 34 56" in output and "not a mobile number" in output
    assert "same number as line 2" in output
    assert "to invite: 3" in output and "rejected lines: 1; duplicates skipped: 1" in output
    assert "total: " in output and " USD at 0.07 USD a segment" in output
    assert outbox_rows(tmp_path) == 0 and fake_twilio.calls == []
    report = (tmp_path / "rejected.csv").read_text("utf-8-sig").splitlines()
    assert report[0] == "line,value,what,why" and len(report) == 3


def test_above_the_threshold_it_asks_and_no_sends_nothing(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRYGG_SMS_INVITE_CONFIRM_ABOVE", "2")
    code, output = invite(cli, answer="n\n")
    assert code == 1 and "Send 3 invitations" in output and "nothing sent" in output
    assert outbox_rows(tmp_path) == 0
    code, output = invite(cli, answer="y\n")
    assert code == 0, output
    assert "queued 3 invitation(s)" in output
    assert outbox_rows(tmp_path) > 0


def test_below_the_threshold_or_with_yes_it_sends_with_a_progress_bar(
    cli: CliRunner, tmp_path: Path
) -> None:
    code, output = invite(cli, "--yes", "--source", "medborgarpanel")
    assert code == 0, output
    assert "inviting" in output and "3/3" in output
    assert "queued 3 invitation(s)" in output
    code, output = invite(cli)  # once more: all known now
    assert code == 0 and "to invite: 0" in output and "taking part or took part: 3" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--source", "nowhere"], "has no source 'nowhere'"),
     (["--language", "xx"], "does not speak 'xx'")],
)  # fmt: skip
def test_bad_options_are_named(cli: CliRunner, args: list[str], message: str) -> None:
    code, output = invite(cli, "--dry-run", *args)
    assert code == 2 and message in output


def test_an_unknown_campaign_is_named(cli: CliRunner) -> None:
    result = cli.invoke(app, ["sms", "invite", "panel.csv", "--campaign", "malmo"])
    assert result.exit_code == 2 and "no campaign 'malmo'" in result.output


def test_sending_needs_sms_on_but_a_dry_run_does_not(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRYGG_TWILIO_AUTH_TOKEN")
    code, output = invite(cli, "--yes")
    assert code == 2 and "SMS is off" in output
    code, _ = invite(cli, "--dry-run")
    assert code == 0
