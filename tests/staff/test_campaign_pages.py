"""The campaign overview: every source with its entry points for the channels that are
switched on, "inte påslagen" for the others, and a poster link per language of its flow.
Through the app's HTTP interface on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from dialog_flows.model import Campaign
from tests.staff.staff_helpers import anonymous_client, staff_client
from trygg.service.runtime import Runtime

PUBLIC_URL = "https://trygg.example.se"
CHANNELS = {
    "public_url": PUBLIC_URL,
    "telegram_token": "123:abc",
    "telegram_secret": "telegram-secret",
    "telegram_bot_name": "TryggKarlslundBot",
    "twilio_account_sid": "AC0123",
    "twilio_auth_token": "twilio-token",
    "twilio_from": "+46701234567",
    "facebook_page_token": "page-token",
    "facebook_app_secret": "app-secret",
    "facebook_verify_token": "verify-token",
    "facebook_page_name": "landskronastad",
}
OVERVIEW = "/staff/campaigns/karlslund"


def configure(runtime: Runtime, **fields: object) -> None:
    """Switch channels on for the next requests. After logging in: with an https public
    URL the session cookie would be Secure, which the test client does not send over http."""
    runtime.settings = runtime.settings.model_copy(update=fields)


def campaign(runtime: Runtime) -> Campaign:
    return runtime.library.campaign("karlslund")


def source_rows(page: str) -> dict[str, str]:
    """Each source's table row, by source id."""
    found = re.findall(r'<tr id="source-([^"]+)">(.*?)</tr>', page, flags=re.DOTALL)
    return dict(found)


def cell_after(row: str, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt>\s*<dd>(.*?)</dd>", row, flags=re.DOTALL)
    assert match, f"no {label} in the row"
    return match.group(1).strip()


async def test_every_source_has_its_links_when_every_channel_is_on(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as client:
        configure(runtime, **CHANNELS)
        page = await client.http.get(OVERVIEW)
    assert page.status_code == 200
    rows = source_rows(page.text)
    sources = campaign(runtime).sources
    assert len(sources) >= 10
    assert sorted(rows) == sorted(source.id for source in sources)
    for source in sources:
        row = rows[source.id]
        assert source.name in row
        telegram = f"https://t.me/TryggKarlslundBot?start={source.id}"
        assert f'<a href="{telegram}"' in cell_after(row, "Telegram")
        messenger = f"https://m.me/landskronastad?ref={source.id}"
        assert f'<a href="{messenger}"' in cell_after(row, "Messenger")
        sms = cell_after(row, "SMS")
        assert f"<code>TRYGG {source.id.upper()}</code> till +46 70 123 45 67" in sms
        web = f"{PUBLIC_URL}/chat?source={source.id}"
        assert f'<a href="{web}"' in cell_after(row, "Webbchatt")
        assert "inte påslagen" not in row
    states = dict(re.findall(r'<th scope="row">(\w+)</th>\s*<td>(.*?)</td>', page.text))
    assert states == {
        "Telegram": "påslagen",
        "SMS": "påslagen",
        "WhatsApp": '<span class="off">inte påslagen</span>',  # no TRYGG_TWILIO_WHATSAPP_FROM
        "Messenger": "påslagen",
        "Webbchatt": "påslagen",
    }


async def test_channels_that_are_off_say_so_and_the_web_chat_is_always_on(
    runtime: Runtime,
) -> None:
    async with staff_client(runtime, "viewer") as client:
        page = await client.http.get(OVERVIEW)
    assert page.status_code == 200
    assert "t.me/" not in page.text and "m.me/" not in page.text
    rows = source_rows(page.text)
    assert sorted(rows) == sorted(source.id for source in campaign(runtime).sources)
    for source_id, row in rows.items():
        for channel in ("Telegram", "Messenger", "SMS"):
            assert cell_after(row, channel) == '<span class="off">inte påslagen</span>'
        web = f"http://127.0.0.1:8000/chat?source={source_id}"
        assert f'<a href="{web}"' in cell_after(row, "Webbchatt")
    channels = re.search(r"<caption>Kanaler.*?</table>", page.text, flags=re.DOTALL)
    assert channels
    assert channels.group(0).count("inte påslagen") == 4
    assert "sätt TRYGG_TELEGRAM_TOKEN och TRYGG_TELEGRAM_SECRET" in channels.group(0)


async def test_a_channel_on_without_its_public_name_names_the_setting(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as client:
        # A Messaging Service SID as the sender: it sends, but no one can text it.
        without = {"telegram_bot_name": None, "facebook_page_name": None}
        configure(runtime, **{**CHANNELS, **without, "twilio_from": "MG0123456789abcdef"})
        page = await client.http.get(OVERVIEW)
    row = source_rows(page.text)["badet"]
    assert "TRYGG_TELEGRAM_BOT_NAME" in cell_after(row, "Telegram")
    assert "TRYGG_FACEBOOK_PAGE_NAME" in cell_after(row, "Messenger")
    assert "inget telefonnummer" in cell_after(row, "SMS")
    assert "t.me/" not in page.text and "m.me/" not in page.text


async def test_flows_languages_and_the_easy_read_source(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as client:
        page = (await client.http.get(OVERVIEW)).text
    main = runtime.library.flow("karlslund")
    easy = runtime.library.flow("karlslund-lattlast")
    assert main is not None and easy is not None
    flows = re.search(r"<caption>Frågeflöden.*?</table>", page, flags=re.DOTALL)
    assert flows
    for flow in (main, easy):
        assert f"<code>{flow.id}</code>" in flows.group(0)
        assert flow.title in flows.group(0)
        assert f'<td class="number">{len(flow.steps)}</td>' in flows.group(0)
    assert '<span lang="ar" dir="rtl">العربية</span>' in flows.group(0)
    assert '<span lang="sv" dir="ltr">Svenska</span>' in flows.group(0)
    assert "höger till vänster" in flows.group(0)

    rows = source_rows(page)
    lss = rows["lss"]
    assert "Eget flöde: Trygghet i Karlslund, lättläst (<code>karlslund-lattlast</code>)" in lss
    posters = re.findall(r'href="(/staff/campaigns/karlslund/posters/[^"]+)"', lss)
    assert posters == ["/staff/campaigns/karlslund/posters/lss/sv.svg"]
    badet = re.findall(r'href="(/staff/campaigns/karlslund/posters/[^"]+)"', rows["badet"])
    expected = [f"/staff/campaigns/karlslund/posters/badet/{code}.svg" for code in main.languages]
    assert badet == expected and len(expected) == 9
    assert "Eget flöde" not in rows["badet"]


@pytest.mark.parametrize("path", [OVERVIEW, f"{OVERVIEW}/posters/badet/ar.svg"])
async def test_anonymous_is_sent_to_log_in(runtime: Runtime, path: str) -> None:
    async with anonymous_client(runtime) as http:
        answer = await http.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/staff/login?next=")


async def test_an_unknown_campaign_is_404(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as client:
        answer = await client.http.get("/staff/campaigns/nowhere")
    assert answer.status_code == 404
    assert "nowhere" in answer.text
