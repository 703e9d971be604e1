"""The staff broadcast API over HTTP (FastAPI, JSON, the bearer token), on both databases:
what each route answers, and what it leaves in the database and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import AuditEntry, Broadcast, Contact, OutboxMessage
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.service.broadcasts import Broadcasts
from trygg.service.runtime import Runtime
from trygg.web.app import create_app

TOKEN = "staff-token-for-tests-0123456789"
BASE = "/staff/api/broadcasts"
# Telegram and SMS switched on (nothing is sent: the worker does not run); web always is.
CHANNEL_SETTINGS: dict[str, object] = {
    "telegram_token": "123456:TEST", "telegram_secret": "hook-secret",
    "twilio_account_sid": "AC123", "twilio_auth_token": "auth", "twilio_from": "+46700000000",
}  # fmt: skip
# The audience: (channel, address, language). Nobody wrote Somali text: one person lacks it.
PEOPLE = [
    ("web", "web-visitor-token-aaaaaaaa", "sv"),
    ("web", "web-visitor-token-bbbbbbbb", "ar"),
    ("telegram", "1001", "sv"),
    ("telegram", "1002", "so"),
    ("sms", "+46701234567", "en"),
    ("sms", "+46701234568", "sv"),
]
TEXTS = {
    "sv": "Tack! Belysningen vid gångtunneln byts i vår.",
    "en": "Thank you! The lights by the underpass are replaced this spring.",
    "ar": "شكراً! سيتم تغيير الإنارة قرب النفق هذا الربيع.",
}
# Each of them is one row of a report or a dry run.
EVERY_ROW = {("sms", "en"): 1, ("sms", "sv"): 1, ("telegram", "so"): 1, ("telegram", "sv"): 1,
             ("web", "ar"): 1, ("web", "sv"): 1}  # fmt: skip
NEW = {"campaign": "karlslund", "name": "Resultat hösten", "texts": TEXTS,
       "link": "https://example.se/resultat"}  # fmt: skip


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    built = await make_runtime(database_url, Clock(), staff_api_token=TOKEN, **CHANNEL_SETTINGS)
    try:
        yield built
    finally:
        await drop_runtime(built)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime, run_worker=False))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        yield http


async def add_people(runtime: Runtime, people: list[tuple[str, str, str]] = PEOPLE) -> None:
    async with runtime.database.sessions() as session, session.begin():
        session.add_all(
            Contact(channel=channel, address_hash=runtime.vault.lookup_hash(channel, address),
                    address_enc=runtime.vault.encrypt(address), campaign_id="karlslund",
                    language=language, feedback_wanted=True, created_at=runtime.clock())
            for channel, address, language in people
        )  # fmt: skip


async def audit_log(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.database.sessions() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(entry.actor, entry.action, entry.detail) for entry in entries]


async def stored(runtime: Runtime, broadcast_id: int) -> Broadcast:
    async with runtime.database.sessions() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


async def copies(runtime: Runtime, broadcast_id: int | None) -> list[OutboxMessage]:
    async with runtime.database.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        return list((await session.execute(query)).scalars())


async def create(client: httpx.AsyncClient, body: dict[str, Any] = NEW) -> int:
    response = await client.post(BASE, json=body)
    assert response.status_code == 201, response.text
    broadcast_id: int = response.json()["id"]
    return broadcast_id


# -- the token ---------------------------------------------------------------------------

Route = tuple[str, str | None, dict[str, Any] | None, tuple[str, ...]]
# (method, path after /{id}, body, moves made first so that the right token succeeds)
ROUTES: list[Route] = [
    ("GET", None, None, ()), ("POST", None, NEW, ()), ("GET", "", None, ()),
    ("PUT", "", {**NEW, "name": "Nytt namn"}, ()), ("GET", "/preview", None, ()),
    ("GET", "/dry-run", None, ()), ("GET", "/report", None, ()),
    ("POST", "/send", {"fallback": ["so"]}, ()), ("POST", "/pause", None, ("send",)),
    ("POST", "/resume", None, ("send", "pause")), ("POST", "/cancel", None, ()),
    ("POST", "/test", {"channel": "telegram", "to": "555", "language": "sv"}, ()),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_wants_the_staff_token(
    client: httpx.AsyncClient, runtime: Runtime, route: Route
) -> None:
    method, path, body, moves = route
    await add_people(runtime)
    service = Broadcasts(runtime)
    broadcast_id = await create(client)
    if "send" in moves:
        await service.send(broadcast_id, "setup", fallback=["so"])
    if "pause" in moves:
        await service.pause(broadcast_id, "setup")
    url = BASE if path is None else f"{BASE}/{broadcast_id}{path}"
    before = await audit_log(runtime)

    def call(headers: dict[str, str]) -> Any:
        return client.request(method, url, json=body, headers=headers)

    runtime.settings.staff_api_token = None
    off = await call({})
    assert off.status_code == 403 and "TRYGG_STAFF_API_TOKEN" in off.json()["error"]
    runtime.settings.staff_api_token = TOKEN
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong-token"},
                    {"Authorization": f"Basic {TOKEN}"}):  # fmt: skip
        refused = await call(headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "Bearer" in refused.json()["error"]
    assert await audit_log(runtime) == before  # nothing refused left a trace
    expected_state = "paused" if "pause" in moves else "sending" if moves else "draft"
    assert (await stored(runtime, broadcast_id)).state == expected_state

    allowed = await call({})
    assert allowed.status_code == (201 if (method, path) == ("POST", None) else 200), allowed.text
    assert allowed.headers["cache-control"] == "no-store"
    if method != "GET":
        actor, _, _ = (await audit_log(runtime))[-1]
        assert actor == "api-token"


async def test_a_short_token_keeps_the_api_off_and_odd_headers_are_401(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.settings.staff_api_token = "short"
    off = await client.get(BASE, headers={"Authorization": "Bearer short"})
    assert off.status_code == 403 and "shorter than" in off.json()["error"]
    runtime.settings.staff_api_token = TOKEN
    odd = await client.get(BASE, headers=[(b"authorization", b"Bearer \xe5\xe4\xf6")])
    assert odd.status_code == 401


# -- drafting ----------------------------------------------------------------------------


async def test_create_get_update_round_trip(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_people(runtime)
    body = {**NEW, "audience": {"channels": ["telegram", "web"], "languages": ["sv", "so"]}}
    created = await client.post(BASE, json=body)
    assert created.status_code == 201, created.text
    broadcast_id = created.json()["id"]

    shown = (await client.get(f"{BASE}/{broadcast_id}")).json()
    assert (shown["name"], shown["state"]) == ("Resultat hösten", "draft")
    assert shown["created_by"] == "api-token"
    assert shown["texts"] == TEXTS and shown["link"] == "https://example.se/resultat"
    assert shown["audience"] == {"sources": [], "channels": ["telegram", "web"],
                                 "languages": ["sv", "so"]}  # fmt: skip
    # Somali speakers in this audience: one on Telegram; no text for them yet.
    assert shown["missing"] == {"so": 1} and shown["unconfirmed"] == {"so": 1}
    assert shown["fallbacks"] == [] and "so" in shown["languages"]

    changed = {**body, "name": "Resultat, rättat", "texts": {**TEXTS, "so": "Mahadsanid!"}}
    updated = await client.put(f"{BASE}/{broadcast_id}", json=changed)
    assert updated.status_code == 200, updated.text
    row = await stored(runtime, broadcast_id)
    assert row.name == "Resultat, rättat" and row.texts["so"] == "Mahadsanid!"
    assert updated.json()["missing"] == {}

    listed = (await client.get(BASE, params={"campaign": "karlslund"})).json()["broadcasts"]
    assert [(item["id"], item["name"]) for item in listed] == [(broadcast_id, "Resultat, rättat")]
    assert (await client.get(BASE, params={"campaign": "elsewhere"})).json()["broadcasts"] == []
    actions = [(actor, action) for actor, action, _ in await audit_log(runtime)]
    assert actions == [("api-token", "broadcast.create"), ("api-token", "broadcast.update")]

    moved = await client.put(f"{BASE}/{broadcast_id}", json={**changed, "campaign": "other"})
    assert moved.status_code == 422 and "cannot move" in moved.json()["error"]
    placeholder = await client.put(f"{BASE}/{broadcast_id}", json={**NEW, "texts": {"sv": "TBD"}})
    assert placeholder.status_code == 422 and "placeholder" in placeholder.json()["error"]
    assert (await stored(runtime, broadcast_id)).texts == changed["texts"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({**NEW, "texts": {**TEXTS, "en": "TODO translate"}}, "text en: the text still holds a"),
        ({**NEW, "texts": {**TEXTS, "xx": "Hej"}}, "text xx: the campaign has no such language"),
        ({**NEW, "texts": {"en": TEXTS["en"]}}, "text sv: missing"),
        ({**NEW, "campaign": "nowhere"}, "campaign 'nowhere' is not known"),
        ({**NEW, "audience": {"channels": ["pigeon"]}}, "audience channel 'pigeon'"),
        ({**NEW, "link": "ftp://example.se"}, "must start with https://"),
        ({**NEW, "name": "x" * 201}, "name:"),
        ({**NEW, "colour": "red"}, "colour:"),
        ({"name": "no campaign", "texts": TEXTS}, "campaign:"),
    ],
)
async def test_a_bad_draft_is_422_naming_the_problem(
    client: httpx.AsyncClient, runtime: Runtime, body: dict[str, Any], named: str
) -> None:
    response = await client.post(BASE, json=body)
    assert response.status_code == 422
    assert named in response.json()["error"]
    async with runtime.database.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Broadcast))).scalar() == 0


# An id beyond any the database can hold is refused, not passed on to fail in the driver.
BAD_IDS = [("GET", "/999", 404), ("GET", "/999/report", 404), ("GET", "/999/dry-run", 404),
           ("GET", "/999/preview", 404), ("POST", "/999/pause", 404), ("GET", "/abc", 422),
           ("GET", f"/{2**70}", 422)]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "status"), BAD_IDS)
async def test_unknown_ids_are_404_and_nonsense_ids_422(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, BASE + path)
    assert response.status_code == status and response.json()["error"]


# -- sending -----------------------------------------------------------------------------


async def test_send_is_refused_until_missing_languages_are_confirmed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await add_people(runtime)
    broadcast_id = await create(client)
    refused = await client.post(f"{BASE}/{broadcast_id}/send", json={})
    assert refused.status_code == 422 and "so (1 people)" in refused.json()["error"]
    assert (await stored(runtime, broadcast_id)).state == "draft"
    assert await copies(runtime, broadcast_id) == []

    sent = await client.post(f"{BASE}/{broadcast_id}/send", json={"fallback": ["so"]})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["state"], sent.json()["people"]) == ("sending", len(PEOPLE))
    written = await copies(runtime, broadcast_id)
    assert len(written) == len(PEOPLE)
    [somali] = [copy for copy in written if copy.language == "so"]
    assert TEXTS["sv"] in somali.message["text"]  # the confirmed fallback: Swedish
    logged = ("api-token", "broadcast.send", {"broadcast": broadcast_id, "audience": 6})
    assert logged in await audit_log(runtime)

    report = (await client.get(f"{BASE}/{broadcast_id}/report")).json()
    total = report["total"]
    assert total["queued"] == report["audience_size"] == len(PEOPLE)
    columns = ("pending", "sent", "delivered", "failed", "waiting", "skipped")
    assert total["adds_up"] and total["queued"] == sum(total[column] for column in columns)
    assert total["sent"] == 2 and total["pending"] == 4  # web copies are in their inbox
    rows = {(row["channel"], row["language"]): row["queued"] for row in report["rows"]}
    assert rows == EVERY_ROW

    again = await client.post(f"{BASE}/{broadcast_id}/send", json={"fallback": ["so"]})
    assert again.status_code == 409 and "sending" in again.json()["error"]
    edit = await client.put(f"{BASE}/{broadcast_id}", json=NEW)
    assert edit.status_code == 409 and "too late" in edit.json()["error"]


async def test_a_send_at_a_time_schedules_it_and_a_naive_time_is_422(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await add_people(runtime)
    broadcast_id = await create(client)
    url = f"{BASE}/{broadcast_id}/send"
    for at, named in (("2026-12-01T18:00:00", "timezone"), ("next tuesday", "at:")):
        naive = await client.post(url, json={"fallback": ["so"], "at": at})
        assert naive.status_code == 422 and named in naive.json()["error"]
    assert (await stored(runtime, broadcast_id)).state == "draft"

    scheduled = await client.post(url, json={"fallback": ["so"], "at": "2026-12-01T18:00:00+01:00"})
    assert scheduled.status_code == 200, scheduled.text
    assert (scheduled.json()["state"], scheduled.json()["people"]) == ("scheduled", 0)
    row = await stored(runtime, broadcast_id)
    assert row.scheduled_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    assert await copies(runtime, broadcast_id) == []


async def test_pause_resume_cancel_move_the_state_and_refuse_impossible_moves(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await add_people(runtime)
    broadcast_id = await create(client)
    url = f"{BASE}/{broadcast_id}"
    early = await client.post(f"{url}/pause")
    assert early.status_code == 409 and "draft" in early.json()["error"]
    await client.post(f"{url}/send", json={"fallback": ["so"]})
    paused = await client.post(f"{url}/pause")
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    assert (await stored(runtime, broadcast_id)).state == "paused"
    assert (await client.post(f"{url}/pause")).status_code == 409
    resumed = await client.post(f"{url}/resume")
    assert resumed.json()["state"] == "sending"
    assert (await stored(runtime, broadcast_id)).state == "sending"

    cancelled = await client.post(f"{url}/cancel")
    assert cancelled.status_code == 200
    # The four not yet sent are dropped; the two web copies were in their inbox already.
    assert (cancelled.json()["state"], cancelled.json()["dropped"]) == ("cancelled", 4)
    assert (await stored(runtime, broadcast_id)).finished_at is not None
    late = await client.post(f"{url}/resume")
    assert late.status_code == 409 and "cancelled" in late.json()["error"]
    total = (await client.get(f"{url}/report")).json()["total"]
    assert (total["skips"], total["adds_up"]) == ({"broadcast cancelled": 4}, True)
    actions = [action.removeprefix("broadcast.") for _, action, _ in await audit_log(runtime)]
    assert actions == ["create", "send", "pause", "resume", "cancel"]


# -- looking before sending --------------------------------------------------------------


async def test_preview_shows_the_composed_text_per_language_and_channel(
    client: httpx.AsyncClient,
) -> None:
    broadcast_id = await create(client)
    response = await client.get(
        f"{BASE}/{broadcast_id}/preview",
        params=[("language", "sv"), ("language", "ar"), ("channel", "sms"), ("channel", "web")],
    )
    assert response.status_code == 200, response.text
    previews = response.json()["previews"]
    order = [("sv", "sms"), ("sv", "web"), ("ar", "sms"), ("ar", "web")]
    assert [(shown["language"], shown["channel"]) for shown in previews] == order
    for shown in previews:
        assert TEXTS[shown["language"]] in shown["text"]
        assert "https://example.se/resultat" in shown["text"]
    sms_sv, _, sms_ar, _ = previews
    assert (sms_sv["encoding"], sms_ar["encoding"]) == ("GSM-7", "UCS-2")  # å is GSM-7
    assert sms_ar["parts"] >= 1 and sms_ar["cost"] > 0

    unknown = await client.get(f"{BASE}/{broadcast_id}/preview", params={"channel": "pigeon"})
    assert unknown.status_code == 422 and "pigeon" in unknown.json()["error"]


async def test_dry_run_counts_people_per_channel_and_language(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Facebook is switched off here: that person is counted apart, not in the rows.
    await add_people(runtime, [*PEOPLE, ("facebook", "psid-1", "sv")])
    broadcast_id = await create(client)
    response = await client.get(f"{BASE}/{broadcast_id}/dry-run")
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["people"] == len(PEOPLE)
    by_row = {(row["channel"], row["language"]): row for row in run["rows"]}
    assert {key: row["people"] for key, row in by_row.items()} == EVERY_ROW
    assert by_row[("telegram", "so")]["no_text"] == 1
    assert run["missing"] == {"so": 1} and run["disabled"] == {"facebook": 1}
    sms = [row["sms_segments"] for (channel, _), row in by_row.items() if channel == "sms"]
    assert run["sms_segments"] == sum(sms) >= 2 and run["sms_cost"] > 0
    assert await copies(runtime, broadcast_id) == []  # a dry run writes nothing


async def test_a_test_send_queues_one_message_outside_the_report(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    broadcast_id = await create(client)
    url = f"{BASE}/{broadcast_id}/test"
    sent = await client.post(url, json={"channel": "telegram", "to": "4242", "language": "ar"})
    assert sent.status_code == 200, sent.text
    [message] = await copies(runtime, None)
    assert message.id == sent.json()["queued"] and message.channel == "telegram"
    assert TEXTS["ar"] in message.message["text"]
    assert message.recipient_key == runtime.vault.lookup_hash("telegram", "4242")
    actor, action, detail = (await audit_log(runtime))[-1]
    assert (actor, action) == ("api-token", "broadcast.test") and "4242" not in str(detail)
    assert (await client.get(f"{BASE}/{broadcast_id}/report")).json()["total"]["queued"] == 0

    for body, named in (
        ({"channel": "web", "to": "x", "language": "sv"}, "web chat"),
        ({"channel": "sms", "to": "not a number", "language": "sv"}, "cannot get a test"),
        ({"channel": "telegram", "to": "4242", "language": "so"}, "no text in so"),
        ({"channel": "telegram", "language": "sv"}, "to:"),
    ):
        refused = await client.post(url, json=body)
        assert refused.status_code == 422 and named in refused.json()["error"], body
