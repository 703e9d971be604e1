"""The återkoppling pages over HTTP on both databases: who may open them, composing in
several languages, refused drafts that keep what was typed, the preview and the list."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from tests.service_helpers import Clock, drop_runtime, make_runtime
from tests.staff.broadcast_page_helpers import (
    ASKED,
    LINK,
    NEW,
    TEXTS,
    add_people,
    all_broadcasts,
    broadcast_actions,
    copies,
    create,
    draft_form,
    post,
    stored,
    table,
)
from tests.staff.staff_helpers import anonymous_client, staff_client
from trygg.service.broadcast_spec import BroadcastSpec
from trygg.service.broadcasts import Broadcasts
from trygg.service.runtime import Runtime

# Telegram and SMS switched on (nothing is sent: no worker runs); web always is.
CHANNEL_SETTINGS: dict[str, object] = {
    "telegram_token": "123456:TEST", "telegram_secret": "hook-secret",
    "twilio_account_sid": "AC123", "twilio_auth_token": "auth", "twilio_from": "+46700000000",
}  # fmt: skip


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    built = await make_runtime(database_url, Clock(), **CHANNEL_SETTINGS)
    try:
        yield built
    finally:
        await drop_runtime(built)


# (method, path with {id}); the posts carry a valid form for an admin.
ROUTES = [
    ("GET", "/staff/campaigns/karlslund/broadcasts"), ("GET", NEW), ("POST", NEW),
    ("GET", "/staff/broadcasts/{id}"), ("GET", "/staff/broadcasts/{id}/edit"),
    ("POST", "/staff/broadcasts/{id}/edit"), ("POST", "/staff/broadcasts/{id}/send"),
    ("POST", "/staff/broadcasts/{id}/test"), ("POST", "/staff/broadcasts/{id}/pause"),
    ("POST", "/staff/broadcasts/{id}/resume"), ("POST", "/staff/broadcasts/{id}/cancel"),
]  # fmt: skip
FORM = {**draft_form(), "confirm": "yes", "when": "now", "fallback": "so",
        "channel": "telegram", "to": "4242", "language": "sv"}  # fmt: skip


async def test_only_admins_may_open_or_use_any_broadcast_page(runtime: Runtime) -> None:
    await add_people(runtime)
    spec = BroadcastSpec("karlslund", "Utkast", {"sv": TEXTS["sv"]})
    broadcast_id = await Broadcasts(runtime).create(spec, "setup")
    for role in ("viewer", "analyst"):
        async with staff_client(runtime, role) as client:
            for method, path in ROUTES:
                url = path.format(id=broadcast_id)
                if method == "GET":
                    answer = await client.http.get(url)
                else:
                    answer = await post(client, url, FORM)
                assert answer.status_code == 403, (role, method, url)
                assert "Din roll har inte tillgång" in answer.text
    async with anonymous_client(runtime) as http:
        for method, path in ROUTES:
            url = path.format(id=broadcast_id)
            answer = await http.request(method, url, data=FORM if method == "POST" else None)
            if method == "GET":
                assert answer.status_code == 303, url
                assert answer.headers["location"].startswith("/staff/login?next=")
            else:
                assert answer.status_code == 401, url
    # Nothing was created, changed, sent or tested by anyone refused.
    assert await broadcast_actions(runtime) == [("setup", "broadcast.create")]
    assert len(await all_broadcasts(runtime)) == 1
    assert (await stored(runtime, broadcast_id)).state == "draft"
    assert await copies(runtime, None) == [] and await copies(runtime, broadcast_id) == []


# -- composing -------------------------------------------------------------------------------


async def test_compose_in_swedish_english_and_arabic_then_preview_each(runtime: Runtime) -> None:
    async with staff_client(runtime, "admin", "anna") as client:
        form = (await client.http.get(NEW)).text
        # One textarea per campaign language, labelled with its own name and written in
        # its own direction: Arabic and Persian right to left.
        assert '<textarea id="text-ar" name="text-ar" lang="ar" dir="rtl"' in form
        assert '<textarea id="text-fa" name="text-fa" lang="fa" dir="rtl"' in form
        assert '<textarea id="text-sv" name="text-sv" lang="sv" dir="ltr"' in form
        assert '<span lang="ar" dir="rtl">العربية</span>' in form
        assert 'name="sources" value="ungdomshuset"' in form

        broadcast_id = await create(
            client, draft_form(channels=["sms", "web"], sources=["ungdomshuset", "webb"])
        )
        saved = await stored(runtime, broadcast_id)
        assert (saved.name, saved.texts, saved.link) == ("Resultat hösten", TEXTS, LINK)
        assert saved.audience == {"sources": ["ungdomshuset", "webb"],
                                  "channels": ["sms", "web"], "languages": []}  # fmt: skip
        assert saved.created_by == "staff:anna"
        assert await broadcast_actions(runtime) == [("staff:anna", "broadcast.create")]

        page = await client.http.get(f"/staff/broadcasts/{broadcast_id}?notice=created")
        assert page.status_code == 200
        text = page.text
        assert "Utkastet är sparat" in text
        for language, written in TEXTS.items():
            # Each language's message as sent: the framing line, the text, the link.
            shown = f'<pre class="message-text" lang="{language}" dir="'
            assert shown in text and html.escape(written, quote=False) in text
        assert 'lang="ar" dir="rtl">' in text
        # Only the chosen channels are previewed; SMS with its segments and encoding.
        assert "GSM-7" in text and "UCS-2" in text and "SMS-del" in text
        assert "<strong>Telegram</strong>" not in text
        assert text.count(f"{LINK}</pre>") == 2 * len(TEXTS)


# What the service refuses, as the form shows it (in Swedish), next to the field.
REFUSED = [
    ({"text-sv": "", "text-en": TEXTS["en"]}, "text-sv", "Texten på svenska (sv) krävs"),
    ({"text-en": "TODO translate"}, "text-en", "platshållare ('TODO')"),
    ({"link": "ftp://example.se"}, "link", "Länken ska börja med https://"),
    ({"name": "  "}, "name", "Utskicket behöver ett namn"),
]


@pytest.mark.parametrize(("change", "field", "said"), REFUSED)
async def test_a_refused_draft_says_why_and_keeps_what_was_typed(
    runtime: Runtime, change: dict[str, str], field: str, said: str
) -> None:
    entered = {**draft_form(), "channels": ["telegram"], **change}
    async with staff_client(runtime, "admin") as client:
        answer = await post(client, NEW, entered)
        assert answer.status_code == 422
        page = answer.text
        assert "Utkastet är inte sparat" in page and said in html.unescape(page)
        assert f'<a href="#{field}">' in page  # the summary leads to the field
        assert f'id="{field}-problem-1"' in page
        assert 'aria-invalid="true"' in page
        # Nothing typed is lost: texts (Arabic too), link, name and ticked boxes.
        for name in ("text-sv", "text-en", "text-ar"):
            value = entered.get(name)
            if isinstance(value, str) and value:
                assert f">{html.escape(value, quote=False)}</textarea>" in page, name
        assert f'value="{html.escape(str(entered["link"]))}"' in page
        assert 'name="channels" value="telegram" checked' in page
        assert 'name="channels" value="sms" checked' not in page
    assert await all_broadcasts(runtime) == []
    assert await broadcast_actions(runtime) == []


async def test_a_draft_is_edited_until_it_is_sent(runtime: Runtime) -> None:
    await add_people(runtime)
    async with staff_client(runtime, "admin") as client:
        broadcast_id = await create(client)
        edit = f"/staff/broadcasts/{broadcast_id}/edit"
        form = (await client.http.get(edit)).text
        assert f">{TEXTS['ar']}</textarea>" in form and f'value="{LINK}"' in form

        bad = await post(client, edit, draft_form({**TEXTS, "sv": "TBD"}))
        assert bad.status_code == 422 and "platshållare" in bad.text
        assert (await stored(runtime, broadcast_id)).texts == TEXTS

        changed = draft_form({**TEXTS, "so": "Mahadsanid!\r\nNabad."}, name="Resultat, rättat")
        answer = await post(client, edit, changed)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/staff/broadcasts/{broadcast_id}?notice=updated"
        saved = await stored(runtime, broadcast_id)
        assert saved.name == "Resultat, rättat"
        assert saved.texts["so"] == "Mahadsanid!\nNabad."  # a browser's CRLF, as one line break

        await Broadcasts(runtime).send(broadcast_id, "setup")
        late = await client.http.get(edit)
        assert late.status_code == 409 and "det går inte att ändra" in late.text
        refused = await post(client, edit, draft_form(name="För sent"))
        assert refused.status_code == 409
        assert (await stored(runtime, broadcast_id)).name == "Resultat, rättat"
    actions = [action for _, action in await broadcast_actions(runtime)]
    assert actions == ["broadcast.create", "broadcast.update", "broadcast.send"]


# -- the list and what is not there -------------------------------------------------------


async def test_the_list_counts_who_asked_and_shows_each_broadcast(runtime: Runtime) -> None:
    await add_people(runtime)
    await add_people(runtime, [("sms", "+46709999999", "sv", True)], campaign="elsewhere")
    async with staff_client(runtime, "admin") as client:
        first = await create(client, draft_form(name="Första"))
        await create(client, draft_form(name="Andra", channels=["sms"]))
        await Broadcasts(runtime).send(first, "setup", fallback=["so"])
        answer = await client.http.get("/staff/campaigns/karlslund/broadcasts")
    assert answer.status_code == 200
    page = answer.text
    asked = table(page, "Personer som bett om återkoppling, per kanal och språk")
    assert asked[0] == ["Kanal", "arabiska (ar)", "engelska (en)", "somaliska (so)",
                        "svenska (sv)", "Totalt"]  # fmt: skip
    assert ["Telegram", "0", "0", "1", "1", "2"] in asked
    assert ["SMS", "0", "1", "0", "1", "2"] in asked
    assert asked[-1] == ["Totalt", "1", "1", "1", "3", str(len(ASKED))]
    listed = table(page, "Kampanjens utskick, det senaste först")
    assert listed[1][0] == "Andra" and listed[2][0] == "Första"
    assert listed[1][1] == "Utkast" and listed[1][3] == "2 just nu"  # SMS people only
    assert listed[2][1] == "Skickas" and listed[2][3] == str(len(ASKED))
    assert f'<progress max="{len(ASKED)}" value="2"' in page  # the two web copies
    for _, address, _, _ in ASKED:  # counts only, never an address
        assert address not in page


@pytest.mark.parametrize(
    "path",
    ["/staff/broadcasts/999", "/staff/broadcasts/abc", f"/staff/broadcasts/{2**70}",
     "/staff/broadcasts/-1/edit", "/staff/campaigns/nowhere/broadcasts",
     "/staff/campaigns/nowhere/broadcasts/new"],
)  # fmt: skip
async def test_unknown_broadcasts_and_campaigns_are_a_404_page(runtime: Runtime, path: str) -> None:
    async with staff_client(runtime, "admin") as client:
        answer = await client.http.get(path)
        assert answer.status_code == 404
        assert "text/html" in answer.headers["content-type"]
        unknown = await post(client, "/staff/broadcasts/999/pause")
        assert unknown.status_code == 404
