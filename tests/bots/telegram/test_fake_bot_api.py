"""The fake Bot API speaks the format python-telegram-bot expects, errors included.

Every test talks to the fake through a real ``telegram.Bot`` (or plain httpx for the raw
envelope), so what passes here is what PTB makes of the wire format.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter, TimedOut

from tests.bots.local_server import eventually
from tests.bots.telegram.fake_bot_api import NOT_MODIFIED, FakeBotApi

CHAT = 5000000001
OTHER = 5000000002
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    # ``async with`` runs Bot.initialize(), which calls getMe; send_message works without it.
    async with telegram.Bot(fake_bot_api.token, base_url=f"{fake_bot_api.root}/bot") as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Knapp {d}", callback_data=d)] for d in data]
    )


def seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


# ---------------------------------------------------------------------- success


async def test_get_me(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        7000000001,
        "TryggKarlslundBot",
        "Trygg",
        True,
    )
    assert bot.username == "TryggKarlslundBot"  # initialize() fetched it
    assert [call.method for call in fake_bot_api.calls] == ["getMe", "getMe"]


async def test_send_message_without_initialize(fake_bot_api: FakeBotApi) -> None:
    bot = telegram.Bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    try:
        message = await bot.send_message(CHAT, "Hej")
    finally:
        await bot.shutdown()
    assert message.text == "Hej"
    assert [call.method for call in fake_bot_api.calls] == ["sendMessage"]


async def test_send_message_returns_message_and_records_markup(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    markup = keyboard("told:police", "told:nobody")
    message = await bot.send_message(CHAT, "Hej", reply_markup=markup)

    assert isinstance(message, Message)
    assert message.text == "Hej"
    assert message.chat.id == CHAT
    assert message.chat.type == ChatType.PRIVATE
    assert message.from_user is not None
    assert message.from_user.id == 7000000001
    assert message.reply_markup == markup
    assert abs(message.date.timestamp() - time.time()) < 60

    (call,) = fake_bot_api.calls_of("sendMessage")
    # PTB posts a form; the fake decodes ids to ints and reply_markup to an object.
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Knapp told:police", "callback_data": "told:police"}],
            [{"text": "Knapp told:nobody", "callback_data": "told:nobody"}],
        ]
    }
    assert fake_bot_api.sent_to(CHAT) == [call.params]
    assert fake_bot_api.sent_to(str(CHAT)) == [call.params]


async def test_message_ids_increase_per_chat(bot: telegram.Bot) -> None:
    first = await bot.send_message(CHAT, "ett")
    second = await bot.send_message(CHAT, "två")
    elsewhere = await bot.send_message(OTHER, "tre")
    assert second.message_id == first.message_id + 1
    assert elsewhere.message_id == first.message_id


async def test_reply_keyboard_is_recorded_but_not_echoed(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    markup = ReplyKeyboardMarkup([["Svenska", "English"]], one_time_keyboard=True)
    message = await bot.send_message(CHAT, "Välj språk", reply_markup=markup)
    assert message.reply_markup is None  # Message.reply_markup is inline-only
    params = fake_bot_api.sent_to(CHAT)[0]
    assert params["reply_markup"]["keyboard"] == [[{"text": "Svenska"}, {"text": "English"}]]
    assert params["reply_markup"]["one_time_keyboard"] is True


async def test_html_text_is_parsed_into_entities(bot: telegram.Bot) -> None:
    message = await bot.send_message(CHAT, "<b>Tack</b> för &lt;svaret&gt;", parse_mode="HTML")
    assert message.text == "Tack för <svaret>"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        (MessageEntityType.BOLD, 0, 4)
    ]


async def test_send_photo_by_file_id_and_by_upload(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    by_id = await bot.send_photo(CHAT, "AgACAgQAAxkBAAIBfakeFileId", caption="Kartan")
    uploaded = await bot.send_photo(CHAT, b"\x89PNG\r\n\x1a\nfake", filename="karta.png")

    assert by_id.caption == "Kartan"
    assert len(by_id.photo) == 3
    assert uploaded.caption is None
    first, second = fake_bot_api.calls_of("sendPhoto")
    assert first.content_type == "application/x-www-form-urlencoded"
    assert first.params["photo"] == "AgACAgQAAxkBAAIBfakeFileId"
    assert second.content_type == "multipart/form-data"
    assert second.params["photo"]["filename"] == "karta.png"
    assert second.params["photo"]["size"] == 12
    assert second.params["chat_id"] == CHAT


async def test_answer_callback_query(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    assert await bot.answer_callback_query("21474836480512345") is True
    assert fake_bot_api.calls_of("answerCallbackQuery")[0].params == {
        "callback_query_id": "21474836480512345"
    }


# ---------------------------------------------------------------------- edits


async def test_edit_reply_markup(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CHAT, "Fråga", reply_markup=keyboard("a", "b"))

    edited = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    stored = fake_bot_api.message(CHAT, sent.message_id)
    assert stored is not None
    assert "reply_markup" not in stored

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_reply_markup(CHAT, 999_999, reply_markup=None)
    assert fake_bot_api.calls_of("editMessageReplyMarkup")[-1].status == 400


async def test_edit_text(bot: telegram.Bot) -> None:
    sent = await bot.send_message(CHAT, "Fråga", reply_markup=keyboard("a"))
    edited = await bot.edit_message_text("Fråga ✓", CHAT, sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Fråga ✓"
    assert edited.reply_markup is None
    with pytest.raises(BadRequest) as raised:
        await bot.edit_message_text("Fråga ✓", CHAT, sent.message_id)
    # PTB strips "Bad Request: " and str.capitalize()s the rest (lower-casing it).
    assert raised.value.message == NOT_MODIFIED.removeprefix("Bad Request: ").capitalize()
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 424242)


async def test_seeded_message_can_be_edited(
    fake_bot_api: FakeBotApi, bot: telegram.Bot, telegram_update: Callable[[str], dict[str, Any]]
) -> None:
    message = telegram_update("callback_query")["callback_query"]["message"]
    fake_bot_api.seed_message(message)
    edited = await bot.edit_message_reply_markup(CHAT, message["message_id"], reply_markup=None)
    assert isinstance(edited, Message)
    assert edited.text == message["text"]


# ---------------------------------------------------------------------- errors


async def test_rate_limit_raises_retry_after(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    fake_bot_api.rate_limit_next()
    with warnings.catch_warnings():
        # PTB 22 warns about int -> timedelta for retry_after unless PTB_TIMEDELTA is set.
        warnings.simplefilter("ignore")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(CHAT, "Hej")
        assert seconds(raised.value.retry_after) == 3
    call = fake_bot_api.calls_of("sendMessage")[0]
    assert call.status == 429
    assert call.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert (await bot.send_message(CHAT, "Hej")).text == "Hej"  # only the next one
    assert len(fake_bot_api.sent_to(CHAT)) == 1


async def test_fail_next_times_and_no_parameters(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    fake_bot_api.fail_next(
        "sendmessage", status=400, description="Bad Request: chat not found", times=2
    )
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(CHAT, "Hej")
    await bot.send_message(CHAT, "Hej")
    statuses = [call.status for call in fake_bot_api.calls_of("sendMessage")]
    assert statuses == [400, 400, 200]
    assert "parameters" not in fake_bot_api.calls_of("sendMessage")[0].response


async def test_blocked_chat_is_forbidden(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    fake_bot_api.block(CHAT)
    with pytest.raises(Forbidden) as raised:
        await bot.send_message(CHAT, "Hej")
    assert "blocked" in raised.value.message
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_photo(CHAT, "AgACAgQAAxkBAAIBfakeFileId")
    await bot.send_message(OTHER, "Hej")
    fake_bot_api.unblock(CHAT)
    await bot.send_message(CHAT, "Hej igen")
    assert [p["text"] for p in fake_bot_api.sent_to(CHAT)] == ["Hej igen"]  # accepted only
    assert [c.status for c in fake_bot_api.calls_of("sendMessage")] == [403, 200, 200]


async def test_callback_data_is_limited_to_64_bytes(bot: telegram.Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard("å" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "för långt", reply_markup=keyboard("å" * 33))  # 66 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "tomt", reply_markup=keyboard(""))


async def test_inline_button_needs_text(fake_bot_api: FakeBotApi) -> None:
    url = f"{fake_bot_api.root}/bot{fake_bot_api.token}/sendMessage"
    markup = {"inline_keyboard": [[{"callback_data": "x"}]]}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url, json={"chat_id": CHAT, "text": "Hej", "reply_markup": markup}
        )
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert "text" in response.json()["description"]


async def test_text_length_is_checked_after_entity_parsing(bot: telegram.Bot) -> None:
    await bot.send_message(CHAT, "a" * 4096)
    await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")


async def test_markdown_v2_reserved_characters(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(CHAT, "Tack.", parse_mode="MarkdownV2")
    message = await bot.send_message(CHAT, r"*Tack*\.", parse_mode="MarkdownV2")
    assert message.text == "Tack."


async def test_wrong_token_raises_invalid_token(fake_bot_api: FakeBotApi) -> None:
    bot = telegram.Bot("123456:WRONG-token", base_url=f"{fake_bot_api.root}/bot")
    try:
        with pytest.raises(InvalidToken):
            await bot.send_message(CHAT, "Hej")
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        await bot.shutdown()
    assert fake_bot_api.calls == []


async def test_raw_envelopes(fake_bot_api: FakeBotApi) -> None:
    base = f"{fake_bot_api.root}/bot{fake_bot_api.token}"
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{fake_bot_api.root}/bot1:nope/getMe")
        unknown = await client.post(f"{base}/sendTelepathy")
        me = await client.get(f"{base}/getMe")
        empty = await client.get(f"{base}/sendMessage", params={"chat_id": str(CHAT)})
        no_chat = await client.post(f"{base}/sendMessage", json={"text": "Hej"})
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert me.json()["ok"] is True
    assert me.json()["result"]["username"] == "TryggKarlslundBot"
    assert empty.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    assert no_chat.json()["description"] == "Bad Request: chat_id is empty"
    assert [call.method for call in fake_bot_api.calls] == [
        "sendTelepathy",
        "getMe",
        "sendMessage",
        "sendMessage",
    ]
    assert fake_bot_api.calls[2].http_method == "GET"


async def test_slow_responses(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    fake_bot_api.slow(0.3)
    started = time.monotonic()
    await bot.send_message(CHAT, "Hej")
    assert time.monotonic() - started >= 0.3
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "Hej", read_timeout=0.05)


# ---------------------------------------------------------------------- webhook, polling


async def test_webhook_lifecycle(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    info = await bot.get_webhook_info()
    assert (info.url, info.has_custom_certificate, info.pending_update_count) == ("", False, 0)

    assert await bot.set_webhook(
        "https://dialog.example.se/webhooks/telegram",
        secret_token="s3cret_-Token",
        allowed_updates=["message", "callback_query", "my_chat_member"],
    )
    assert fake_bot_api.webhook["secret_token"] == "s3cret_-Token"
    assert fake_bot_api.calls_of("setWebhook")[0].params["allowed_updates"] == [
        "message",
        "callback_query",
        "my_chat_member",
    ]
    info = await bot.get_webhook_info()
    assert info.url == "https://dialog.example.se/webhooks/telegram"
    assert info.allowed_updates == ("message", "callback_query", "my_chat_member")
    assert info.last_error_date is None

    fake_bot_api.set_webhook_error("Wrong response from the webhook: 500 Internal Server Error")
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None

    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL"):
        await bot.set_webhook("http://127.0.0.1:8000/webhooks/telegram")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook("https://dialog.example.se/webhooks/telegram", secret_token="å")
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_get_updates_hands_out_queued_updates(
    fake_bot_api: FakeBotApi, bot: telegram.Bot, telegram_update: Callable[[str], dict[str, Any]]
) -> None:
    fake_bot_api.queue_updates(
        [telegram_update("start_with_source"), telegram_update("callback_query")]
    )
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [800000003, 800000005]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start badet"

    later = await bot.get_updates(offset=800000004)
    assert [u.update_id for u in later] == [800000005]
    assert await bot.get_updates(offset=800000006, timeout=0) == ()

    started = time.monotonic()
    assert await bot.get_updates(offset=800000006, timeout=1) == ()  # long poll waits
    assert time.monotonic() - started >= 0.9


# ---------------------------------------------------------------------- fixtures

EXPECTED: dict[str, Callable[[Update], bool]] = {
    "text_message": lambda u: (
        u.message is not None
        and u.message.text == "Det är mörkt vid kiosken"
        and u.message.from_user is not None
        and u.message.from_user.language_code == "sv"
        and u.message.chat.type == ChatType.PRIVATE
    ),
    "text_message_arabic": lambda u: (
        u.effective_user is not None
        and u.effective_user.language_code == "ar"
        and u.effective_message is not None
        and bool(u.effective_message.text)
    ),
    "start_with_source": lambda u: (
        u.message is not None
        and u.message.text == "/start badet"
        and u.message.entities[0].type == MessageEntityType.BOT_COMMAND
        and (u.message.entities[0].offset, u.message.entities[0].length) == (0, 6)
    ),
    "start_bare": lambda u: u.message is not None and u.message.text == "/start",
    "callback_query": lambda u: (
        u.callback_query is not None
        and u.callback_query.data == "told:police"
        and isinstance(u.callback_query.message, Message)
        and u.callback_query.message.reply_markup is not None
    ),
    # PTB 22.8's CallbackQuery.de_json builds a Message (not an InaccessibleMessage) even
    # for date 0: tell them apart with ``is_accessible``, never with isinstance.
    "callback_query_inaccessible": lambda u: (
        u.callback_query is not None
        and u.callback_query.message is not None
        and not u.callback_query.message.is_accessible
        and u.callback_query.message.message_id == 17
    ),
    "edited_message": lambda u: u.edited_message is not None and u.message is None,
    "sticker": lambda u: u.message is not None and u.message.sticker is not None,
    "photo": lambda u: (
        u.message is not None and len(u.message.photo) == 4 and u.message.caption is None
    ),
    "location": lambda u: u.message is not None and u.message.location is not None,
    "voice": lambda u: u.message is not None and u.message.voice is not None,
    "my_chat_member_kicked": lambda u: (
        u.my_chat_member is not None
        and u.my_chat_member.chat.type == ChatType.PRIVATE
        and u.my_chat_member.old_chat_member.status == ChatMemberStatus.MEMBER
        and u.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
    ),
    "my_chat_member_member": lambda u: (
        u.my_chat_member is not None
        and u.my_chat_member.old_chat_member.status == ChatMemberStatus.BANNED
        and u.my_chat_member.new_chat_member.status == ChatMemberStatus.MEMBER
    ),
    "group_message": lambda u: (
        u.message is not None and u.message.chat.type == ChatType.GROUP and u.message.chat.id < 0
    ),
    "channel_post": lambda u: u.channel_post is not None and u.message is None,
    "unknown_kind": lambda u: u.message_reaction is not None and u.effective_message is None,
}


def test_every_fixture_is_listed() -> None:
    files = sorted(path.stem for path in FIXTURES.glob("*.json"))
    assert files == sorted(EXPECTED)
    ids = [
        json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))["update_id"] for name in EXPECTED
    ]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_with_ptb(
    name: str, telegram_update: Callable[[str], dict[str, Any]]
) -> None:
    data = telegram_update(name)
    update = Update.de_json(data, telegram.Bot("123456:TEST-token"))
    assert update.update_id == data["update_id"]
    assert EXPECTED[name](update)
    assert update.api_kwargs == {}  # PTB knows every field: the fixtures are well-formed


def test_ptb_tolerates_a_kind_it_does_not_know(
    telegram_update: Callable[[str], dict[str, Any]],
) -> None:
    data = {"update_id": 800000099, "future_kind": {"id": 1, "note": "from a newer Bot API"}}
    update = Update.de_json(data, telegram.Bot("123456:TEST-token"))
    assert update.effective_message is None
    assert update.api_kwargs == {"future_kind": {"id": 1, "note": "from a newer Bot API"}}


# ---------------------------------------------------------------------- rate limits, holding


async def test_no_rate_limit_unless_enforced(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    for _ in range(40):  # above 30 a second, and to one chat
        await bot.send_message(CHAT, "Hej")
    assert fake_bot_api.rejected == 0
    assert len(fake_bot_api.arrivals) == 40


async def test_enforced_rate_answers_429_with_retry_after(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    fake_bot_api.enforce_rate(5)
    for chat in range(CHAT, CHAT + 5):  # within the limit: all pass
        await bot.send_message(chat, "Hej")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22's int -> timedelta warning
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(OTHER, "Hej")
        assert seconds(raised.value.retry_after) == 1  # whole seconds, as Telegram says it
    refused = fake_bot_api.calls_of("sendMessage")[-1]
    assert (refused.status, refused.response) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert fake_bot_api.rejected == 1
    assert [arrival.to for arrival in fake_bot_api.arrivals] == [
        str(chat) for chat in range(CHAT, CHAT + 5)
    ]
    time.sleep(1.0)  # the window has moved on: the same send passes
    await bot.send_message(OTHER, "Hej")
    assert len(fake_bot_api.arrivals) == 6


async def test_enforced_rate_per_chat(fake_bot_api: FakeBotApi, bot: telegram.Bot) -> None:
    fake_bot_api.enforce_rate(30, per_recipient=1)
    await bot.send_message(CHAT, "Hej")
    await bot.get_me()  # not a message: not counted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "Hej igen")  # one a second to one chat
    await bot.send_message(OTHER, "Hej")  # another chat is fine
    assert fake_bot_api.accepted_per_recipient() == {str(CHAT): 1, str(OTHER): 1}
    arrivals = fake_bot_api.arrivals
    assert arrivals[0].at <= arrivals[1].at


async def test_hold_parks_requests_until_release(
    fake_bot_api: FakeBotApi, bot: telegram.Bot
) -> None:
    fake_bot_api.hold()
    sending = asyncio.create_task(bot.send_message(CHAT, "Hej"))
    await eventually(lambda: fake_bot_api.parked == 1)
    await asyncio.sleep(0.1)
    assert not sending.done() and fake_bot_api.calls_of("sendMessage") == []
    fake_bot_api.release()
    assert (await sending).text == "Hej"
    assert len(fake_bot_api.arrivals) == 1


async def test_a_parked_request_whose_client_left_is_never_processed(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.hold()
    url = f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage"
    async with httpx.AsyncClient(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(url, json={"chat_id": CHAT, "text": "Hej"})
    await eventually(lambda: fake_bot_api.abandoned == 1)
    fake_bot_api.release()
    assert fake_bot_api.parked == 0
    assert fake_bot_api.calls == [] and fake_bot_api.arrivals == []
