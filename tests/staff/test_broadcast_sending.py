"""Sending återkoppling from its page, on both databases, through the fake providers: the
confirmation, the Swedish fallback, a test to one's own address, scheduling, pause,
resume and cancel, the report, the CSRF guard and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from tests.service.broadcast_world import BroadcastWorld, broadcast_world
from tests.staff.broadcast_page_helpers import (
    TEXTS,
    broadcast_actions,
    copies,
    create,
    draft_form,
    post,
    problem_of,
    stored,
    table,
)
from tests.staff.staff_helpers import StaffClient, staff_client

REPORT = "Utskicket per kanal och språk"
SEND = {"confirm": "yes", "when": "now"}


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[BroadcastWorld]:
    async with broadcast_world(database_url) as built:
        # The test client speaks plain http: a https public address would make the
        # session cookie Secure, and the client would never send it back.
        built.runtime.settings.public_url = "http://dialog.example.se"
        yield built


@pytest.fixture
async def admin(world: BroadcastWorld) -> AsyncIterator[StaffClient]:
    async with staff_client(world.runtime, "admin", "anna") as client:
        yield client


async def people(world: BroadcastWorld) -> None:
    """Who asked for återkoppling in Karlslund, and some who did not or cannot get it."""
    await world.contact("telegram", "1001", "sv")
    await world.contact("telegram", "1002", "so")  # no Somali text
    await world.contact("sms", "+46701111111", "ar")
    await world.contact("sms", "+46702222222", "en")
    await world.contact("web", "visitor-token-0000000001", "sv")
    await world.contact("telegram", "1003", "sv", feedback=False)  # said no
    await world.contact("telegram", "1004", "sv", unreachable=True)  # blocked the bot
    await world.contact("telegram", "1005", "sv", campaign="elsewhere")  # another dialog


AUDIENCE = {("telegram", "sv"), ("telegram", "so"), ("sms", "ar"), ("sms", "en"), ("web", "sv")}


async def test_sending_without_the_confirmation_queues_nothing(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    for form in ({"when": "now", "fallback": "so"}, {"confirm": "no", "fallback": "so"}):
        answer = await post(admin, f"/staff/broadcasts/{broadcast_id}/send", form)
        assert answer.status_code == 422
        assert "Kryssa i att du har läst förhandsvisningen" in problem_of(answer.text)
    assert (await stored(world.runtime, broadcast_id)).state == "draft"
    assert await copies(world.runtime, broadcast_id) == []
    assert [action for _, action in await broadcast_actions(world.runtime)] == ["broadcast.create"]


async def test_a_language_without_text_is_sent_only_once_the_fallback_is_confirmed(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    page = (await admin.http.get(f"/staff/broadcasts/{broadcast_id}")).text
    assert 'name="fallback" value="so"' in page
    assert "1 person som talar somaliska (so) får den svenska texten" in page

    refused = await post(admin, f"/staff/broadcasts/{broadcast_id}/send", SEND)
    assert refused.status_code == 422
    assert "Ingen text på somaliska (so): 1 person" in problem_of(refused.text)
    assert await copies(world.runtime, broadcast_id) == []

    sent = await post(admin, f"/staff/broadcasts/{broadcast_id}/send", {**SEND, "fallback": "so"})
    assert sent.status_code == 303
    [somali] = [copy for copy in await copies(world.runtime, broadcast_id) if copy.language == "so"]
    assert TEXTS["sv"] in somali.message["text"]
    assert (await stored(world.runtime, broadcast_id)).fallbacks == ["so"]


async def test_send_reaches_exactly_the_people_who_asked_and_the_report_counts_them(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    url = f"/staff/broadcasts/{broadcast_id}"
    answer = await post(admin, f"{url}/send", {**SEND, "fallback": "so"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{url}?notice=sent"
    written = await copies(world.runtime, broadcast_id)
    assert {(copy.channel, copy.language) for copy in written} == AUDIENCE
    assert len(written) == len(AUDIENCE)
    sending = await admin.http.get(f"{url}?notice=sent")
    assert "Utskicket har startat" in sending.text
    # The numbers move while it goes out: a way to reload them, never a timed reload.
    assert f'<a class="button secondary" href="{url}">Uppdatera</a>' in sending.text
    assert "http-equiv" not in sending.text
    assert "Pausa utskicket" in sending.text and "Skicka återkopplingen" not in sending.text

    await world.deliver_all()
    assert any(TEXTS["ar"] in text for text in world.received("sms", "+46701111111"))
    assert any(TEXTS["sv"] in text for text in world.received("telegram", "1002"))
    assert world.received("telegram", "1003") == world.received("telegram", "1004") == []
    assert world.received("telegram", "1005") == []

    done = (await admin.http.get(url)).text
    assert "Klart" in done and ">Uppdatera</a>" not in done
    assert f"{len(AUDIENCE)} av {len(AUDIENCE)} klara (100 %)" in done
    rows = table(done, REPORT)
    assert rows[0][:4] == ["Kanal", "Språk", "Alla i mottagarlistan", "Pågår (inte skickat än)"]
    by_row = {(row[0], row[1]): row[2:] for row in rows[1:-1]}
    assert set(by_row) == {("SMS", "arabiska (ar)"), ("SMS", "engelska (en)"),
                           ("Telegram", "somaliska (so)"), ("Telegram", "svenska (sv)"),
                           ("Webbchatten", "svenska (sv)")}  # fmt: skip
    assert all(row[0] == "1" and row[1] == "0" for row in by_row.values())
    assert rows[-1][:2] == ["Totalt", str(len(AUDIENCE))]
    assert ("staff:anna", "broadcast.send") in await broadcast_actions(world.runtime)


async def test_a_later_time_schedules_it_and_a_past_one_is_refused(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    url = f"/staff/broadcasts/{broadcast_id}/send"
    later = {**SEND, "when": "later", "fallback": "so"}
    for at, said in (("", "Skriv datum och tid"), ("2026-11-24T12:59", "Tiden har redan varit")):
        refused = await post(admin, url, {**later, "at": at})
        assert refused.status_code == 422 and said in problem_of(refused.text)
        assert f'value="{at}"' in refused.text  # what was typed is kept
    assert (await stored(world.runtime, broadcast_id)).state == "draft"

    answer = await post(admin, url, {**later, "at": "2026-12-01T18:00"})  # Swedish winter time
    assert answer.status_code == 303 and answer.headers["location"].endswith("notice=scheduled")
    saved = await stored(world.runtime, broadcast_id)
    assert saved.state == "scheduled"
    assert saved.scheduled_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    assert await copies(world.runtime, broadcast_id) == []
    page = (await admin.http.get(f"/staff/broadcasts/{broadcast_id}")).text
    assert "Schemalagt till</dt><dd>2026-12-01 18:00" in page
    assert ("staff:anna", "broadcast.schedule") in await broadcast_actions(world.runtime)


async def test_pause_resume_and_cancel_move_the_state_by_the_buttons_shown(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    url = f"/staff/broadcasts/{broadcast_id}"
    early = await post(admin, f"{url}/pause")
    assert early.status_code == 409
    assert problem_of(early.text) == "Utskicket är utkast: det kan inte pausas nu."
    await post(admin, f"{url}/send", {**SEND, "fallback": "so"})

    paused = await post(admin, f"{url}/pause")
    assert paused.status_code == 303 and paused.headers["location"] == f"{url}?notice=paused"
    assert (await stored(world.runtime, broadcast_id)).state == "paused"
    page = (await admin.http.get(paused.headers["location"])).text
    assert "Utskicket är pausat" in page and "Fortsätt utskicket" in page
    assert ">Uppdatera</a>" not in page  # nothing moves while paused
    assert (await post(admin, f"{url}/pause")).status_code == 409

    resumed = await post(admin, f"{url}/resume")
    assert resumed.headers["location"] == f"{url}?notice=resumed"
    assert (await stored(world.runtime, broadcast_id)).state == "sending"

    unconfirmed = await post(admin, f"{url}/cancel")
    assert unconfirmed.status_code == 422 and "Inget har ändrats" in unconfirmed.text
    assert (await stored(world.runtime, broadcast_id)).state == "sending"
    cancelled = await post(admin, f"{url}/cancel", {"confirm": "yes"})
    assert cancelled.headers["location"] == f"{url}?notice=cancelled"
    saved = await stored(world.runtime, broadcast_id)
    assert saved.state == "cancelled" and saved.finished_at is not None
    page = (await admin.http.get(url)).text
    # The web copy was in its inbox already; the four not yet sent never will be.
    assert "utskicket avbröts: 4 personer" in page
    assert "Avbryt utskicket" not in page and "Fortsätt utskicket" not in page
    late = await post(admin, f"{url}/resume")
    assert late.status_code == 409 and "Utskicket är avbrutet" in problem_of(late.text)

    actions = await broadcast_actions(world.runtime)
    assert actions == [("staff:anna", f"broadcast.{action}")
                       for action in ("create", "send", "pause", "resume", "cancel")]  # fmt: skip


async def test_a_test_send_reaches_the_channel_and_stays_out_of_the_report(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    broadcast_id = await create(admin)
    url = f"/staff/broadcasts/{broadcast_id}/test"
    page = (await admin.http.get(f"/staff/broadcasts/{broadcast_id}")).text
    assert '<option value="telegram">' in page and '<option value="web">' not in page

    answer = await post(admin, url, {"channel": "telegram", "to": "4242", "language": "ar"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("notice=test_sent")
    await world.deliver_all()
    [received] = world.received("telegram", "4242")
    assert TEXTS["ar"] in received
    actor, action = (await broadcast_actions(world.runtime))[-1]
    assert (actor, action) == ("staff:anna", "broadcast.test")
    assert await copies(world.runtime, broadcast_id) == []  # not part of the broadcast
    assert (await stored(world.runtime, broadcast_id)).state == "draft"

    for form, said in (
        ({"channel": "web", "to": "x", "language": "sv"}, "Webbchatten har ingen adress"),
        ({"channel": "sms", "to": "not a number", "language": "sv"}, "kan inte få ett test"),
        ({"channel": "telegram", "to": "4242", "language": "so"}, "ingen text på somaliska"),
    ):
        refused = await post(admin, url, form)
        assert refused.status_code == 422 and said in problem_of(refused.text), form
        assert f'value="{form["to"]}"' in refused.text
    assert len(world.received("telegram", "4242")) == 1


async def test_a_post_without_the_csrf_token_changes_nothing(
    world: BroadcastWorld, admin: StaffClient
) -> None:
    await people(world)
    broadcast_id = await create(admin)
    url = f"/staff/broadcasts/{broadcast_id}"
    posts = [
        ("/staff/campaigns/karlslund/broadcasts/new", draft_form(name="Utan token")),
        (f"{url}/edit", draft_form(name="Utan token")),
        (f"{url}/send", {**SEND, "fallback": "so"}),
        (f"{url}/test", {"channel": "telegram", "to": "4242", "language": "sv"}),
        (f"{url}/cancel", {"confirm": "yes"}),
    ]
    before = await broadcast_actions(world.runtime)
    for path, form in posts:
        answer = await post(admin, path, form, csrf=False)
        assert answer.status_code == 403, path
        assert "Formuläret har gått ut" in answer.text
        wrong = await admin.http.post(path, data={**form, "csrf_token": "not-the-token"})
        assert wrong.status_code == 403, path
    saved = await stored(world.runtime, broadcast_id)
    assert (saved.state, saved.name) == ("draft", "Resultat hösten")
    assert await copies(world.runtime, broadcast_id) == []
    assert await copies(world.runtime, None) == []
    assert await broadcast_actions(world.runtime) == before
