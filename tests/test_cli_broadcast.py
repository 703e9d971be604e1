"""``trygg broadcast``: återkoppling from the command line, on SQLite and PostgreSQL.

The commands run as staff run them (typer's CliRunner, settings from TRYGG_ environment
variables) against a real database holding contacts who asked for the results, and send
SMS to the fake Twilio. PostgreSQL gets a database of its own per test: the command line
opens the database from the URL alone, so a per-test schema (as the service tests use)
is out of reach.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bots.contract import InboundMessage
from dialog_flows import feedback_texts
from dialog_flows.render_text import render_plain
from dialog_flows.sms_encoding import sms_cost
from storage import opt_outs
from storage.database import migrate
from storage.models import AuditEntry, Broadcast, Contact, OutboxMessage
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.signing import ACCOUNT_SID, AUTH_TOKEN
from tests.service_helpers import SECRET
from trygg import cli_broadcast_run
from trygg.cli import app
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime, build_runtime
from trygg.settings import Settings

PUBLIC = "https://dialog.example.se"
TEXTS = """\
    name: Återkoppling Karlslund hösten 2026
    campaign: karlslund
    link: https://example.se/karlslund
    texts:
      sv: |
        Tack för att du var med! Polisen och kommunen lovar mer belysning vid kiosken.
      arabiska: |
        شكراً لمشاركتك! تعد الشرطة والبلدية بمزيد من الإضاءة قرب الكشك.
      English: |
        Thank you for taking part! The police and the city promise more light by the kiosk.
    """
# (channel, address, language): the people who asked for the results. Somali has no text.
PEOPLE = [
    ("sms", "+46701000001", "sv"),
    ("sms", "+46701000002", "ar"),
    ("sms", "+46701000003", "so"),
    ("web", "visitor-en", "en"),
    ("web", "visitor-so", "so"),
    ("telegram", "5550001", "sv"),  # Telegram is off in these tests
]
REAL_DIALOG_NUMBER = "+46701234567"  # a Swedish SMS contact from a dialog driven end to end
# That dialog's answers: problems, where (nowhere), told, the four places, more, age
# group, gender; then "Ja, via sms" to the feedback question, and the number.
SKIP = "hoppa över"
ANSWERS = (SKIP, "6", SKIP, SKIP, "1", "1", "1", "1", SKIP, "2", "2", "070-123 45 67")


@dataclass
class Site:
    """The command line's environment: one database, SMS on (the fake Twilio)."""

    url: str
    tmp_path: Path
    twilio: FakeTwilio
    runner: CliRunner

    def trygg(self, *args: str, answer: str | None = None) -> tuple[int, str]:
        result = self.runner.invoke(app, ["broadcast", *args], input=answer)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def do(self, work: Any) -> Any:
        """Run ``work(runtime)`` against the site's database, as the CLI sees it."""

        async def main() -> Any:
            runtime = build_runtime(Settings())
            try:
                await migrate(runtime.database)
                return await work(runtime)
            finally:
                await runtime.close()

        return asyncio.run(main())

    def rows(self, model: type) -> list[Any]:
        async def work(runtime: Runtime) -> list[Any]:
            async with runtime.database.sessions() as session:
                return list((await session.execute(select(model))).scalars())

        result: list[Any] = self.do(work)
        return result

    def write(self, text: str, name: str = "texts.yaml") -> str:
        (self.tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return name


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def site(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_twilio: FakeTwilio
) -> Iterator[Site]:
    url, drop = database_url, None
    if not database_url.startswith("sqlite"):
        url, drop = _new_postgres_database(database_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", url)
    monkeypatch.setenv("TRYGG_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRYGG_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("TRYGG_TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TRYGG_TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TRYGG_TWILIO_FROM", "+46769999999")
    monkeypatch.setenv("TRYGG_TWILIO_API", fake_twilio.root)
    for name in (
        "TRYGG_FLOWS_DIR",
        "TRYGG_LOCALES_DIR",
        "TRYGG_TELEGRAM_TOKEN",
        "TRYGG_TWILIO_WHATSAPP_FROM",
        "TRYGG_FACEBOOK_PAGE_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_broadcast_run, "POLL_SECONDS", 0.05)
    # No worker runs in these tests: watching a send without --deliver gives up quickly.
    monkeypatch.setattr(cli_broadcast_run, "STALL_SECONDS", 0.3)
    try:
        yield Site(url, tmp_path, fake_twilio, CliRunner())
    finally:
        if drop is not None:
            drop()


def _new_postgres_database(base: str) -> tuple[str, Any]:
    name = "trygg_cli_" + uuid.uuid4().hex[:12]
    admin = make_url(base).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)

    async def execute(statement: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute(f"CREATE DATABASE {name}"))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    return url, lambda: asyncio.run(execute(f"DROP DATABASE {name} WITH (FORCE)"))


def seed(site: Site, *, opted_out: tuple[tuple[str, str], ...] = ()) -> None:
    """PEOPLE as contacts who asked for the results, one more from a real dialog, and
    people who must never get it: one who said no, one on the opt-out list."""

    async def work(runtime: Runtime) -> None:
        dialogs = DialogService(runtime)

        async def web(text: str = "", **fields: Any) -> None:
            await dialogs.handle(
                InboundMessage(channel="web", address="visitor-real", text=text, **fields)
            )

        await web(start=True, start_source="ungdomshuset", language="sv")
        for answer in ANSWERS:
            await web(answer)
        vault, now = runtime.vault, runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            extra = [("sms", "+46701000009", "sv", False), ("sms", "+46701000008", "ar", True)]
            for channel, address, language, wanted in [(*p, True) for p in PEOPLE] + extra:
                session.add(
                    Contact(
                        channel=channel,
                        address_hash=vault.lookup_hash(channel, address),
                        address_enc=vault.encrypt(address),
                        campaign_id="karlslund",
                        source="badet",
                        language=language,
                        feedback_wanted=wanted,
                        created_at=now,
                    )
                )
            key = vault.lookup_hash("sms", "+46701000008")
            await opt_outs.suppress(session, "sms", key, "ar")
            for channel, address in opted_out:
                await opt_outs.suppress(session, channel, vault.lookup_hash(channel, address), "sv")

    site.do(work)


def table(output: str) -> list[list[str]]:
    """The body rows of the Rich tables in ``output``, as lists of cells."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def create(site: Site) -> int:
    code, output = site.trygg("create", site.write(TEXTS))
    assert code == 0, output
    return int(re.search(r"created broadcast (\d+)", output).group(1))  # type: ignore[union-attr]


def state(site: Site, broadcast_id: int) -> str:
    [broadcast] = [b for b in site.rows(Broadcast) if b.id == broadcast_id]
    return str(broadcast.state)


def copies(site: Site) -> list[OutboxMessage]:
    return [row for row in site.rows(OutboxMessage) if row.broadcast_id is not None]


# -- create, list, preview, dry run -------------------------------------------------------


def test_create_from_a_file_saves_the_texts_and_names_the_missing_translations(
    site: Site,
) -> None:
    seed(site)
    code, output = site.trygg("create", site.write(TEXTS))
    assert code == 0, output
    [broadcast] = site.rows(Broadcast)
    assert f"created broadcast {broadcast.id}: Återkoppling Karlslund hösten 2026" in output
    assert broadcast.state == "draft" and broadcast.campaign_id == "karlslund"
    assert sorted(broadcast.texts) == ["ar", "en", "sv"]  # arabiska, English -> codes
    assert broadcast.texts["ar"].startswith("شكراً") and broadcast.link.endswith("karlslund")
    assert broadcast.created_by.startswith("cli:")
    # SMS: 4 (one from the dialog); web: 2. Telegram is off; the one who said no and the
    # one on the opt-out list are not in the audience.
    assert "it would go to 6 people now" in output
    assert "no text yet in: so (2 people)" in output and "--fallback so" in output
    assert f"trygg broadcast send {broadcast.id}" in output
    [entry] = [e for e in site.rows(AuditEntry) if e.action == "broadcast.create"]
    assert entry.detail == {"broadcast": broadcast.id} and entry.actor == broadcast.created_by


def test_update_adds_a_translation_to_a_draft_but_not_to_a_sent_broadcast(site: Site) -> None:
    seed(site)
    broadcast_id = create(site)
    somali = TEXTS.rstrip(" ") + "      so: |\n        Waad ku mahadsan tahay ka qaybgalkaaga!\n"
    code, output = site.trygg("update", str(broadcast_id), site.write(somali, "v2.yaml"))
    assert code == 0, output
    assert "it would go to 6 people now" in output and "no text yet" not in output
    [broadcast] = site.rows(Broadcast)
    assert sorted(broadcast.texts) == ["ar", "en", "so", "sv"] and broadcast.state == "draft"
    assert site.trygg("send", str(broadcast_id), "--yes")[0] == 0  # no --fallback needed now
    code, output = site.trygg("update", str(broadcast_id), "v2.yaml")
    assert code == 1 and f"broadcast {broadcast_id} is sending: too late" in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: R\ntexts:\n  sv: [Hej\n", "line 4: invalid YAML"),
        ("name: R\n", "texts: missing"),
        ("name: R\ntexts:\n  sv: Hej\n  klingonska: Qapla\n", "'klingonska' is not one of"),
        ("name: R\ntexts:\n  sv: 2026\n", "text sv: must be text, not a number"),
        ("name: R\ntexts:\n  en: Hello\n", "text sv: missing; the campaign's own language"),
        ("name: R\ntexts:\n  sv: Hej TODO\n", "still holds a placeholder"),
        ("name: R\ncampaign: nowhere\ntexts:\n  sv: Hej\n", "there is no campaign 'nowhere'"),
    ],
)
def test_a_bad_file_creates_nothing_and_says_what_is_wrong(
    site: Site, text: str, expected: str
) -> None:
    code, output = site.trygg("create", site.write(text, "bad.yaml"))
    assert code == 1 and expected in output, output
    assert "Traceback" not in output
    if "campaign" not in expected:
        assert "bad.yaml" in output
    assert site.rows(Broadcast) == []


def test_list_shows_every_broadcast_with_its_state_and_audience(site: Site) -> None:
    seed(site)
    code, output = site.trygg("list")
    assert code == 0 and "no broadcasts yet" in output
    first, second = create(site), create(site)
    assert site.trygg("cancel", str(first), "--yes")[0] == 0
    code, output = site.trygg("list", "--campaign", "karlslund")
    assert code == 0, output
    rows = {row[0]: row for row in table(output)}
    assert rows[str(first)][1:5] == [
        "Återkoppling Karlslund hösten 2026",
        "karlslund",
        "cancelled",
        "6 now",
    ]
    assert rows[str(second)][3:5] == ["draft", "6 now"]
    assert site.trygg("list", "--campaign", "elsewhere")[0] == 1


def test_preview_shows_the_composed_message_with_segments_and_cost(site: Site) -> None:
    broadcast_id = create(site)
    code, output = site.trygg(
        "preview",
        str(broadcast_id),
        "--language",
        "arabiska",
        "--channel",
        "sms",
        "--language",
        "so",
    )
    assert code == 0, output

    async def composed(runtime: Runtime) -> str:
        [broadcast] = [b for b in await _broadcasts(runtime) if b.id == broadcast_id]
        tr = runtime.library.translations
        text = feedback_texts.outgoing(tr, "ar", broadcast.texts["ar"], broadcast.link, None)
        return render_plain(text, for_sms=True)

    expected = site.do(composed)
    for line in expected.splitlines():
        assert line.strip() in output  # the intro in Arabic, the text, the link
    cost = sms_cost(expected)
    assert f"{cost.segments} SMS segment(s), UCS-2" in output
    assert f"about {cost.segments * 0.07:.2f} USD a copy" in output
    assert "so: no text. People in so get nothing" in output
    assert "telegram" not in output and "Thank you" not in output  # only what was asked
    code, output = site.trygg("preview", str(broadcast_id), "--channel", "fax")
    assert code == 1 and "'fax' is not a channel" in output


def test_dry_run_counts_people_per_channel_and_language_and_writes_nothing(site: Site) -> None:
    seed(site)
    broadcast_id = create(site)
    code, output = site.trygg("dry-run", str(broadcast_id))
    assert code == 0, output

    async def segments(runtime: Runtime) -> dict[str, int]:
        [broadcast] = await _broadcasts(runtime)
        tr = runtime.library.translations
        return {
            lang: sms_cost(
                render_plain(
                    feedback_texts.outgoing(tr, lang, broadcast.texts[lang], broadcast.link, None),
                    for_sms=True,
                )
            ).segments
            for lang in ("sv", "ar")
        }

    each = site.do(segments)
    # channel, language, people, in their language, Swedish instead, nothing, SMS segments
    assert table(output) == [
        ["sms", "ar", "1", "1", "0", "0", str(each["ar"])],
        ["sms", "so", "1", "0", "0", "1", str(each["sv"])],
        ["sms", "sv", "2", "2", "0", "0", str(2 * each["sv"])],
        ["web", "en", "1", "1", "0", "0", ""],
        ["web", "so", "1", "0", "0", "1", ""],
    ]
    assert "in all: 6 people" in output
    assert (
        "so: no text; 2 people get nothing unless a text is added or you send with "
        "--fallback so" in output
    )
    assert "telegram is switched off here: 1 person there get nothing" in output
    total = each["ar"] + 3 * each["sv"]
    assert f"SMS: {total} segments, about {total * 0.07:.2f} USD at 0.07 USD a segment" in output
    assert state(site, broadcast_id) == "draft" and copies(site) == []


# -- send, status, pause, resume, cancel --------------------------------------------------


def test_send_refuses_languages_without_a_text_until_the_fallback_is_confirmed(
    site: Site,
) -> None:
    seed(site)
    broadcast_id = create(site)
    code, output = site.trygg("send", str(broadcast_id), "--yes")
    assert code == 1
    assert "not sent: no text in so (2 people)" in output and "--fallback so" in output
    assert state(site, broadcast_id) == "draft" and copies(site) == []
    code, output = site.trygg("send", str(broadcast_id), "--fallback", "somaliska", answer="n\n")
    assert code == 1 and "nothing sent" in output
    assert state(site, broadcast_id) == "draft" and copies(site) == []


def test_send_with_deliver_completes_through_the_provider_then_status_reports_it(
    site: Site,
) -> None:
    seed(site)
    broadcast_id = create(site)
    code, output = site.trygg(
        "send", str(broadcast_id), "--fallback", "so", "--deliver", answer="y\n"
    )
    assert code == 0, output
    assert f"Send broadcast {broadcast_id} to 6 people now?" in output
    assert f"broadcast {broadcast_id} is done: 6 sent" in output
    assert state(site, broadcast_id) == "done"
    twilio = site.twilio
    [swedish] = twilio.bodies_to("+46701000001")
    assert "Polisen och kommunen lovar mer belysning" in swedish
    assert "https://example.se/karlslund" in swedish
    assert "الإضاءة" in twilio.bodies_to("+46701000002")[0]
    assert twilio.bodies_to("+46701000003") == [swedish]  # Somali: the confirmed fallback
    assert twilio.bodies_to(REAL_DIALOG_NUMBER) == [swedish]
    assert twilio.bodies_to("+46701000008") == twilio.bodies_to("+46701000009") == []
    assert {row.status for row in copies(site)} == {"sent"} and len(copies(site)) == 6

    code, output = site.trygg("status", str(broadcast_id))
    assert code == 0, output
    # channel, language, queued, sent, delivered, failed, waiting, skipped, in progress
    assert table(output) == [
        ["sms", "ar", "1", "1", "0", "0", "0", "0", "0"],
        ["sms", "so", "1", "1", "0", "0", "0", "0", "0"],
        ["sms", "sv", "2", "2", "0", "0", "0", "0", "0"],
        ["web", "en", "1", "1", "0", "0", "0", "0", "0"],
        ["web", "so", "1", "1", "0", "0", "0", "0", "0"],
        ["all", "", "6", "6", "0", "0", "0", "0", "0"],
    ]
    assert "; done;" in output
    code, output = site.trygg("send", str(broadcast_id), "--yes")
    assert code == 1 and f"broadcast {broadcast_id} is done" in output


def test_without_a_worker_send_says_one_must_run_then_pause_resume_and_cancel(
    site: Site,
) -> None:
    seed(site)
    broadcast_id = create(site)
    assert site.trygg("pause", str(broadcast_id)) == (
        1,
        f"broadcast {broadcast_id} is draft; it cannot be paused\n",
    )
    code, output = site.trygg("send", str(broadcast_id), "--fallback", "so", "--yes")
    assert code == 0, output
    assert "start `trygg serve` or `trygg worker`" in output
    assert site.twilio.sends() == []
    pending = [row for row in copies(site) if row.status == "pending"]
    assert len(pending) == 4 and all(row.channel == "sms" for row in pending)

    assert site.trygg("pause", str(broadcast_id))[0] == 0
    assert state(site, broadcast_id) == "paused"
    assert site.trygg("resume", str(broadcast_id))[0] == 0
    assert state(site, broadcast_id) == "sending"
    code, output = site.trygg("cancel", str(broadcast_id), answer="n\n")
    assert code == 1 and state(site, broadcast_id) == "sending"
    code, output = site.trygg("cancel", str(broadcast_id), answer="y\n")
    assert code == 0 and "4 copies will not be sent" in output
    assert state(site, broadcast_id) == "cancelled"
    code, output = site.trygg("status", str(broadcast_id))
    assert table(output)[-1] == ["all", "", "6", "2", "0", "0", "0", "4", "0"]
    assert "skipped: broadcast cancelled (4)" in output
    actions = [e.action for e in site.rows(AuditEntry) if e.action.startswith("broadcast.")]
    assert actions == [
        "broadcast.create",
        "broadcast.send",
        "broadcast.pause",
        "broadcast.resume",
        "broadcast.cancel",
    ]


def test_send_at_a_time_schedules_it_and_a_past_time_is_refused(site: Site) -> None:
    broadcast_id = create(site)
    code, output = site.trygg("send", str(broadcast_id), "--at", "2020-01-01T18:00", "--yes")
    assert code == 1 and "that time has passed" in output
    code, output = site.trygg("send", str(broadcast_id), "--at", "2099-05-01T18:00+02:00", "--yes")
    assert code == 0 and "scheduled broadcast" in output, output
    [broadcast] = site.rows(Broadcast)
    assert broadcast.state == "scheduled" and broadcast.scheduled_at.year == 2099
    assert site.trygg("status", "999") == (1, "there is no broadcast 999\n")


# -- a test to staff's own phone ----------------------------------------------------------


def test_a_test_goes_to_that_address_only_now_and_not_to_an_opted_out_one(site: Site) -> None:
    seed(site, opted_out=(("sms", "+46701999999"),))
    broadcast_id = create(site)
    before = len(site.rows(OutboxMessage))
    code, output = site.trygg(
        "test",
        str(broadcast_id),
        "--channel",
        "sms",
        "--to",
        "070-555 12 34",
        "--language",
        "English",
    )
    assert code == 0, output
    [test] = [row for row in site.rows(OutboxMessage)][before:]
    assert (test.channel, test.priority, test.broadcast_id, test.status) == (
        "sms",
        0,
        None,
        "pending",
    )

    async def check(runtime: Runtime) -> None:
        assert runtime.vault.decrypt(test.address_enc or "") == "+46705551234"
        assert test.recipient_key == runtime.vault.lookup_hash("sms", "+46705551234")

    site.do(check)
    assert test.message["language"] == "en"
    assert "Thank you for taking part!" in test.message["text"]
    assert test.message["text"].endswith("https://example.se/karlslund")
    [entry] = [e for e in site.rows(AuditEntry) if e.action == "broadcast.test"]
    assert entry.detail == {"broadcast": broadcast_id, "channel": "sms", "language": "en"}
    assert "555" not in repr(entry.detail)

    code, output = site.trygg("test", str(broadcast_id), "--channel", "sms", "--to", "+46701999999")
    assert code == 1 and "has opted out on sms" in output
    assert site.trygg("test", str(broadcast_id), "--channel", "sms", "--to", "046-12 34 56")[0] == 1
    code, output = site.trygg("test", str(broadcast_id), "--channel", "telegram", "--to", "1")
    assert code == 1 and "cannot go out on telegram here" in output
    code, output = site.trygg("test", str(broadcast_id), "--channel", "web", "--to", "x")
    assert code == 1 and "web chat has no address" in output
    assert len(site.rows(OutboxMessage)) == before + 1
    assert copies(site) == [] and site.twilio.sends() == []

    # --deliver sends it from here, and the broadcast's report never counts it.
    code, output = site.trygg(
        "test", str(broadcast_id), "--channel", "sms", "--to", "+46705551235", "--deliver"
    )
    assert code == 0 and output.endswith("sent\n"), output
    [body] = site.twilio.bodies_to("+46705551235")
    assert "Polisen och kommunen lovar" in body
    code, output = site.trygg("status", str(broadcast_id))
    assert "not sent yet" in output


async def _broadcasts(runtime: Runtime) -> list[Broadcast]:
    async with runtime.database.sessions() as session:
        return list((await session.execute(select(Broadcast))).scalars())
