"""The Telegram channel end to end: webhook -> service -> database -> outbox -> worker ->
a local fake Bot API server speaking Telegram's format. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import Contact, InboundKey, OutboxMessage
from tests.bots.telegram.fake_bot_api import FakeBotApi
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.export import export_rows
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.runtime import Runtime
from trygg.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_TOKEN = "webhook-secret_123"
CHAT = 5000000001


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


class Chat:
    """A person on Telegram: builds updates like the fixtures, reads what the bot sent."""

    def __init__(self, http: httpx.AsyncClient, fake: FakeBotApi, runtime: Runtime, language: str):
        self.http, self.fake, self.runtime, self.language = http, fake, runtime, language
        self.update_id = 900000000

    def _update(self, **kind: Any) -> dict[str, Any]:
        self.update_id += 1
        return {"update_id": self.update_id, **kind}

    def _user(self) -> dict[str, Any]:
        return {"id": CHAT, "is_bot": False, "first_name": "Test", "language_code": self.language}

    async def post(
        self, update: dict[str, Any], secret: str | None = SECRET_TOKEN
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.http.post("/webhooks/telegram", json=update, headers=headers)
        await self.deliver()
        return response

    async def deliver(self) -> None:
        worker = DeliveryWorker(self.runtime, build_senders(self.runtime.settings))
        worker.last_sent.clear()
        while await worker.run_once():
            worker.last_sent.clear()  # the per-chat pacing is measured, not waited for, here

    async def write(self, text: str) -> httpx.Response:
        message = {
            "message_id": self.update_id,
            "from": self._user(),
            "date": 1790000000,
            "chat": {"id": CHAT, "type": "private", "first_name": "Test"},
            "text": text,
        }
        return await self.post(self._update(message=message))

    async def tap(self, data: str, message_id: int | None = None) -> httpx.Response:
        message_id = message_id or self.last()["message_id"]
        query = {
            "id": f"q{self.update_id}",
            "from": self._user(),
            "chat_instance": "-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1790000000,
                "chat": {"id": CHAT, "type": "private", "first_name": "Test"},
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Trygg"},
                "text": "q",
            },
        }
        return await self.post(self._update(callback_query=query))

    def sent(self) -> list[dict[str, Any]]:
        return self.fake.sent_to(CHAT)

    def last(self) -> dict[str, Any]:
        """The bot's latest message, as the fake Bot API returned it."""
        result: dict[str, Any] = self.fake.calls_of("sendMessage")[-1].response["result"]
        return result

    def buttons(self) -> list[str]:
        markup = self.sent()[-1].get("reply_markup") or {}
        return [
            button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row
        ]


@pytest.fixture
async def telegram(
    database_url: str, fake_bot_api: FakeBotApi
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    runtime = await make_runtime(
        database_url,
        Clock(),
        telegram_token=fake_bot_api.token,
        telegram_secret=SECRET_TOKEN,
        telegram_api=fake_bot_api.root,
    )
    app = create_app(runtime, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        yield runtime, http
    await drop_runtime(runtime)


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


SWEDISH = [
    ("text", "Mörkt vid kiosken"),
    ("tap", "where:kopparangen"),
    ("tap", "where:pilangen"),
    ("tap", "where:_done"),
    ("text", "Gångtunneln"),
    ("tap", "when:evening"),
    ("tap", "when:_done"),
    ("tap", "told:no"),
    ("tap", "told_why_not:_skip"),
    ("tap", "place_1:red"),
    ("tap", "place_2:green"),
    ("text", "3"),
    ("tap", "place_4:yellow"),
    ("tap", "more:_skip"),
    ("tap", "age_group:13_17"),
    ("tap", "gender:no_answer"),
    ("tap", "feedback:here"),
]
ARABIC = [
    ("text", "الإضاءة سيئة"),
    ("text", "١،٣"),
    ("text", "قرب المدرسة"),
    ("tap", "when:night"),
    ("tap", "when:_done"),
    ("text", "لا"),
    ("text", "تخطي"),
    ("tap", "place_1:red"),
    ("tap", "place_2:green"),
    ("tap", "place_3:red"),
    ("tap", "place_4:yellow"),
    ("tap", "more:_skip"),
    ("tap", "age_group:13_17"),
    ("tap", "gender:no_answer"),
    ("tap", "feedback:here"),
]


@pytest.mark.parametrize(("language", "steps"), [("sv", SWEDISH), ("ar", ARABIC)])
async def test_a_whole_dialog_by_taps_and_text_reaches_the_export(
    telegram: tuple[Runtime, httpx.AsyncClient],
    fake_bot_api: FakeBotApi,
    language: str,
    steps: list[tuple[str, str]],
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, language)
    response = await chat.write("/start ungdomshuset")
    assert response.status_code == 200
    first = chat.sent()
    assert (
        len(first) == 2
        and first[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "problems:_skip"
    )
    for kind, value in steps:
        if kind == "tap":
            assert value in chat.buttons(), (value, chat.buttons())
            await chat.tap(value)
        else:
            await chat.write(value)
    assert "RESULTAT" in chat.sent()[-1]["text"] or "النتائج" in chat.sent()[-1]["text"]
    [row] = await export_rows(runtime)
    assert (row["channel"], row["language"], row["source"]) == (
        "telegram",
        language,
        "ungdomshuset",
    )
    assert row["completed_at"] is not None
    answers = row["answers"]
    assert answers["where"] == ["kopparangen", "pilangen"] and answers["told"] == "no"
    assert [answers[f"place_{n}"] for n in (1, 2, 3, 4)] == ["red", "green", "red", "yellow"]
    assert answers["feedback"] == "here"
    # Every tap was answered, and the answered question lost its buttons.
    taps = sum(1 for kind, _ in steps if kind == "tap")
    assert len(fake_bot_api.calls_of("answerCallbackQuery")) == taps
    assert len(fake_bot_api.calls_of("editMessageReplyMarkup")) == taps
    if language == "ar":
        assert all(call["text"] for call in chat.sent())
        assert "كارلسلوند" in chat.sent()[0]["text"]


async def test_a_forged_or_missing_secret_gets_403_and_nothing_is_stored(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    update = fixture("text_message")
    assert (await chat.post(update, secret="wrong")).status_code == 403
    assert (await chat.post(update, secret=None)).status_code == 403
    assert await count(runtime, InboundKey) == 0 and await count(runtime, Contact) == 0
    assert fake_bot_api.calls_of("sendMessage") == []


async def test_a_duplicated_update_is_acted_on_once(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    update = fixture("start_with_source")
    assert (await chat.post(update)).status_code == 200
    sent = len(fake_bot_api.calls_of("sendMessage"))
    assert (await chat.post(copy.deepcopy(update))).status_code == 200
    assert len(fake_bot_api.calls_of("sendMessage")) == sent


async def test_a_stale_button_reasks_the_current_question(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    await chat.write("/start")
    await chat.tap("problems:_skip")
    await chat.tap("problems:_skip", message_id=2)  # the old question's button, again
    assert chat.sent()[-1]["text"].startswith("Den frågan är redan besvarad.")
    assert "where:_done" in chat.buttons()


async def test_429_waits_for_retry_after_and_403_marks_the_person_unreachable(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    clock = runtime.clock
    assert isinstance(clock, Clock)
    chat = Chat(http, fake_bot_api, runtime, "sv")
    fake_bot_api.rate_limit_next("sendMessage", retry_after=7)
    await chat.write("/start")
    async with runtime.database.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.status == "pending")
        pending = (await session.execute(query.order_by(OutboxMessage.id))).scalars().all()
    assert len(pending) == 2 and chat.sent() == []
    assert pending[0].next_attempt_at >= clock.now + dt.timedelta(seconds=7)
    assert "429" in (pending[0].last_error or "")
    clock.advance(seconds=8)
    await chat.deliver()
    assert len(chat.sent()) == 2

    fake_bot_api.block(CHAT)
    await chat.tap("problems:_skip")
    async with runtime.database.sessions() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        statuses = [row.status for row in (await session.execute(select(OutboxMessage))).scalars()]
    assert contact.unreachable
    assert "failed" in statuses and "pending" not in statuses


@pytest.mark.parametrize(
    "name",
    ["sticker", "photo", "location", "voice"],
)
async def test_a_message_without_text_gets_a_kind_reask(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi, name: str
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    start = fixture("start_bare")
    await chat.post(start)
    update = fixture(name)  # the same person as the /start
    update["message"]["chat"] = start["message"]["chat"]
    update["message"]["from"] = start["message"]["from"]
    before = len(fake_bot_api.calls_of("sendMessage"))
    assert (await chat.post(update)).status_code == 200
    replies = fake_bot_api.calls_of("sendMessage")[before:]
    assert replies and replies[0].params["text"].startswith("Jag kan bara läsa text.")


@pytest.mark.parametrize(
    "name",
    [
        "edited_message",
        "group_message",
        "channel_post",
        "unknown_kind",
    ],
)
async def test_other_updates_get_200_and_no_reply(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi, name: str
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    response = await chat.post(fixture(name))
    assert response.status_code == 200
    assert fake_bot_api.calls_of("sendMessage") == []
    assert await count(runtime, InboundKey) == 1  # acknowledged, and known if retried


async def test_a_tap_on_an_inaccessible_old_message_is_answered_but_not_edited(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    assert (await chat.post(fixture("callback_query_inaccessible"))).status_code == 200
    assert len(fake_bot_api.calls_of("answerCallbackQuery")) == 1
    assert fake_bot_api.calls_of("editMessageReplyMarkup") == []


async def test_blocking_and_unblocking_the_bot(
    telegram: tuple[Runtime, httpx.AsyncClient], fake_bot_api: FakeBotApi
) -> None:
    runtime, http = telegram
    chat = Chat(http, fake_bot_api, runtime, "sv")
    start = fixture("start_bare")
    await chat.post(start)
    kicked, member = fixture("my_chat_member_kicked"), fixture("my_chat_member_member")
    for update in (kicked, member):  # the same person as the /start
        update["my_chat_member"]["chat"] = start["message"]["chat"]
    assert (await chat.post(kicked)).status_code == 200
    async with runtime.database.sessions() as session:
        assert (await session.execute(select(Contact))).scalar_one().unreachable
    assert (await chat.post(member)).status_code == 200
    async with runtime.database.sessions() as session:
        assert not (await session.execute(select(Contact))).scalar_one().unreachable


async def test_malformed_json_with_the_right_secret_is_acknowledged(
    telegram: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _runtime, http = telegram
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN, "content-type": "application/json"}
    for body in (b"{not json", b"[]", b'{"update_id": "x"}', b'{"update_id": 1, "message": 5}'):
        response = await http.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 200, body


async def test_the_webhook_is_404_while_telegram_is_off(database_url: str) -> None:
    runtime = await make_runtime(database_url, Clock())
    app = create_app(runtime, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post("/webhooks/telegram", json=fixture("text_message"))
    await drop_runtime(runtime)
    assert response.status_code == 404


async def test_a_place_photo_goes_out_with_send_photo_and_is_served_from_media(
    database_url: str, fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    import shutil

    from dialog_flows.library import DEFAULT_FLOWS_DIR

    flows = tmp_path / "flows"
    shutil.copytree(DEFAULT_FLOWS_DIR, flows)
    flow_file = flows / "karlslund.yaml"
    flow_file.write_text(
        flow_file.read_text(encoding="utf-8").replace(
            "      name: Karlslundsbadet\n",
            "      name: Karlslundsbadet\n      image: badet.jpg\n",
            1,
        ),
        encoding="utf-8",
    )
    (flows / "badet.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    runtime = await make_runtime(
        database_url, Clock(), flows_dir=flows, public_url="https://dialog.example.se",
        telegram_token=fake_bot_api.token, telegram_secret=SECRET_TOKEN,
        telegram_api=fake_bot_api.root,
    )  # fmt: skip
    app = create_app(runtime, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        chat = Chat(http, fake_bot_api, runtime, "sv")
        await chat.write("/start")
        for data in ["problems:_skip", "where:_skip", "when:_skip", "told:_skip", "place_1:green"]:
            await chat.tap(data)
        served = await http.get("/media/badet.jpg")
        refused = [await http.get(f"/media/{name}") for name in ("karlslund.yaml", "..%2Fx.jpg")]
    await drop_runtime(runtime)
    [photo] = fake_bot_api.calls_of("sendPhoto")
    assert photo.params["photo"] == "https://dialog.example.se/media/badet.jpg"
    assert photo.params["caption"].startswith("Plats 2: Karlslundsbadet")
    assert served.status_code == 200 and served.content.startswith(b"\xff\xd8")
    assert [response.status_code for response in refused] == [404, 404]
