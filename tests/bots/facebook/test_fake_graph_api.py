"""The fake Graph API speaks Meta's wire format, and the signing helpers sign as Meta does.

Everything goes over real sockets with plain httpx: the Send API and Messenger Profile
requests an adapter would make, and the webhook deliveries Meta would make, checked with
``hmac`` over the exact bytes received.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bots.contract import Outcome
from bots.facebook.outbound import error_outcome
from tests.bots.facebook.fake_graph_api import (
    HUMAN_AGENT_WINDOW,
    MAX_TEXT,
    RATE_LIMITED,
    WINDOW,
    FakeGraphApi,
    error_body,
)
from tests.bots.facebook.signing import (
    APP_ID,
    APP_SECRET,
    OTHER_PERSON,
    PAGE_ID,
    PAGE_TOKEN,
    PERSON,
    SIGNATURE_HEADER,
    THIRD_PERSON,
    VERIFY_TOKEN,
    attachment_event,
    delivery,
    delivery_event,
    echo_event,
    encode,
    entry,
    inbound_psids,
    is_valid_signature,
    mids_of,
    new_mid,
    postback_event,
    quick_reply_event,
    read_event,
    referral_event,
    sign,
    signed_headers,
    sticker_event,
    text_event,
)
from tests.bots.local_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"
SWEDISH = "Hej! Känner du dig trygg i Kopparängen på kvällen? Svara gärna."
ARABIC = "مرحبا، أشعر بالأمان في حيّنا"


class Clock:
    """A clock the test moves by hand; ``fake.clock = clock``."""

    def __init__(self, now: float = 1_764_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(fake_graph: FakeGraphApi) -> Clock:
    found = Clock()
    fake_graph.clock = found
    return found


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def send(
    fake: FakeGraphApi,
    http: httpx.Client,
    body: dict[str, Any],
    *,
    token: str | None = PAGE_TOKEN,
    version: str = "v21.0",
) -> httpx.Response:
    params = {} if token is None else {"access_token": token}
    return http.post(f"{fake.root}/{version}/me/messages", params=params, json=body)


def text_message(psid: str, text: str, messaging_type: str = "RESPONSE") -> dict[str, Any]:
    return {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": {"text": text}}


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def assert_graph_error(
    response: httpx.Response, status: int, code: int, subcode: int | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code
    assert error.get("error_subcode") == subcode
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    assert isinstance(error["fbtrace_id"], str) and len(error["fbtrace_id"]) == 23
    assert response.headers["x-fb-trace-id"] == error["fbtrace_id"]
    return error


def quick_replies(count: int, title: str = "Ja", payload: str = "answer:yes") -> list[Any]:
    return [{"content_type": "text", "title": title, "payload": payload} for _ in range(count)]


# ---------------------------------------------------------------------- signing


def test_encode_is_metas_compact_escaped_json() -> None:
    payload = delivery(entry(text_event(PERSON, "Kopparängen ✓ " + ARABIC, "m_x", 1), time=2))
    body = encode(payload)
    assert isinstance(body, bytes)
    assert body.isascii()
    assert b"\\u00e4" in body  # "ä"
    assert b"\\u2713" in body  # "✓"
    assert b"\\u0645" in body  # Arabic mim
    assert b": " not in body and b", " not in body
    assert body.startswith(b'{"object":"page","entry":[{"id":"112233445566778","time":2,')
    assert json.loads(body) == payload
    # Re-serialising the same object the usual way gives other bytes, so another signature.
    assert json.dumps(payload, ensure_ascii=False).encode() != body
    emoji = encode({"text": "🙂"})
    assert emoji == b'{"text":"\\ud83d\\ude42"}'


def test_encode_can_escape_slashes_as_captured_payloads_do() -> None:
    payload = delivery(entry(attachment_event(PERSON, url="https://x.fbcdn.net/a.jpg")))
    escaped = encode(payload, escape_slashes=True)
    assert b"https:\\/\\/x.fbcdn.net\\/a.jpg" in escaped
    assert escaped.count(b"/") == escaped.count(b"\\/") == 3
    assert json.loads(escaped) == payload


def test_sign_is_hmac_sha256_of_the_raw_body() -> None:
    body = encode(delivery(entry(text_event(PERSON, "TRYGG"))))
    expected = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body) == f"sha256={expected}"
    assert sign(body, "other-secret") != sign(body)
    headers = signed_headers(body)
    assert headers["Content-Type"] == "application/json"
    assert headers[SIGNATURE_HEADER] == sign(body)
    legacy = hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha1={legacy}"
    assert is_valid_signature(body, headers[SIGNATURE_HEADER])
    assert not is_valid_signature(body + b" ", headers[SIGNATURE_HEADER])
    assert not is_valid_signature(body, None)
    assert not is_valid_signature(body, sign(body, "other-secret"))
    assert not is_valid_signature(body, "sha256=ünïcode")


def test_builders_give_metas_event_shapes() -> None:
    text = text_event(PERSON, "TRYGG")
    assert text["sender"] == {"id": PERSON}
    assert text["recipient"] == {"id": PAGE_ID}
    assert isinstance(text["timestamp"], int) and text["timestamp"] > 1_700_000_000_000
    assert text["message"]["text"] == "TRYGG"
    assert text["message"]["mid"].startswith("m_")
    assert len(text["message"]["mid"]) == 88

    reply = quick_reply_event(PERSON, "Kopparängen", "where:kopparangen", "m_1")
    assert reply["message"] == {
        "mid": "m_1",
        "text": "Kopparängen",
        "quick_reply": {"payload": "where:kopparangen"},
    }

    started = postback_event(PERSON, "GET_STARTED", "Kom igång", referral="badet")
    assert started["postback"]["payload"] == "GET_STARTED"
    assert started["postback"]["title"] == "Kom igång"
    assert started["postback"]["referral"] == {
        "ref": "badet",
        "source": "SHORTLINK",
        "type": "OPEN_THREAD",
    }
    assert "referral" not in postback_event(PERSON, "MENU:RESULTS", "Resultat")["postback"]

    referral = referral_event(PERSON, "badet", 5)
    assert referral == {
        "sender": {"id": PERSON},
        "recipient": {"id": PAGE_ID},
        "timestamp": 5,
        "referral": {"ref": "badet", "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }

    image = attachment_event(PERSON)
    assert "text" not in image["message"]
    assert image["message"]["attachments"][0]["type"] == "image"
    assert image["message"]["attachments"][0]["payload"]["url"].startswith("https://")
    sticker = sticker_event(PERSON)
    assert sticker["message"]["sticker_id"] == 369239263222822

    echo = echo_event(PERSON, "Tack!")
    assert echo["sender"] == {"id": PAGE_ID}
    assert echo["recipient"] == {"id": PERSON}
    assert echo["message"]["is_echo"] is True
    assert echo["message"]["app_id"] == APP_ID

    delivered = delivery_event(PERSON, ["m_1", "m_2"], 99)
    assert delivered["delivery"] == {"mids": ["m_1", "m_2"], "watermark": 99}
    assert delivery_event(PERSON, [], 99)["delivery"] == {"watermark": 99}
    assert read_event(PERSON, 99)["read"] == {"watermark": 99}

    whole = delivery(entry(text, time=7), entry(reply, page_id="999"))
    assert whole["object"] == "page"
    assert [item["id"] for item in whole["entry"]] == [PAGE_ID, "999"]
    assert whole["entry"][0]["time"] == 7
    assert whole["entry"][0]["messaging"] == [text]


def test_mids_are_unique() -> None:
    assert len({new_mid() for _ in range(500)}) == 500


def test_inbound_psids_are_the_people_who_acted() -> None:
    payload = delivery(
        entry(text_event(PERSON, "Ja"), echo_event(OTHER_PERSON, "Tack")),
        entry(
            delivery_event(OTHER_PERSON, [], 1),
            read_event(OTHER_PERSON, 1),
            postback_event(OTHER_PERSON, "MENU:RESULTS", "Resultat"),
            referral_event(THIRD_PERSON, "badet"),
        ),
    )
    assert inbound_psids(payload) == [PERSON, OTHER_PERSON, THIRD_PERSON]
    assert len(mids_of(payload)) == 3


# ---------------------------------------------------------------------- fixtures

FIXTURE_NAMES = [
    "text_sv",
    "text_arabic",
    "quick_reply",
    "postback_get_started",
    "postback_menu",
    "referral_existing_thread",
    "attachment_image",
    "sticker",
    "echo",
    "delivery",
    "read",
    "batch_two_entries",
]


def test_fixture_list_is_complete() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.json")) == sorted(FIXTURE_NAMES)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixtures_have_metas_shape(
    facebook_payload: Callable[[str], dict[str, Any]], name: str
) -> None:
    payload = facebook_payload(name)
    assert payload["object"] == "page"
    assert payload["entry"]
    for item in payload["entry"]:
        assert item["id"] == PAGE_ID
        assert isinstance(item["time"], int)
        assert item["messaging"]
        for event in item["messaging"]:
            assert isinstance(event["sender"]["id"], str)
            assert isinstance(event["recipient"]["id"], str)
            assert PAGE_ID in (event["sender"]["id"], event["recipient"]["id"])
            assert isinstance(event["timestamp"], int)
            kinds = {"message", "postback", "referral", "delivery", "read"} & set(event)
            assert len(kinds) == 1
    body = encode(payload)
    assert body.isascii() and json.loads(body) == payload


def test_fixture_details(facebook_payload: Callable[[str], dict[str, Any]]) -> None:
    def events(name: str) -> list[dict[str, Any]]:
        return [event for item in facebook_payload(name)["entry"] for event in item["messaging"]]

    [sv] = events("text_sv")
    assert sv["message"]["text"] == "TRYGG"
    [arabic] = events("text_arabic")
    assert arabic["message"]["text"] == ARABIC
    assert b"\\u0645" in encode(facebook_payload("text_arabic"))
    [reply] = events("quick_reply")
    assert reply["message"]["quick_reply"] == {"payload": "where:kopparangen"}
    assert b'"text":"Koppar\\u00e4ngen"' in encode(facebook_payload("quick_reply"))
    assert "Kopparängen".encode() not in encode(facebook_payload("quick_reply"))
    [started] = events("postback_get_started")
    assert started["postback"]["payload"] == "GET_STARTED"
    assert started["postback"]["referral"]["ref"] == "badet"
    [menu] = events("postback_menu")
    assert menu["postback"]["payload"] == "MENU:RESULTS"
    assert "referral" not in menu["postback"]
    [referral] = events("referral_existing_thread")
    assert referral["referral"] == {"ref": "badet", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    [image] = events("attachment_image")
    assert "text" not in image["message"]
    assert image["message"]["attachments"][0]["type"] == "image"
    [echo] = events("echo")
    assert echo["message"]["is_echo"] is True
    assert (echo["sender"]["id"], echo["recipient"]["id"]) == (PAGE_ID, PERSON)
    [delivered] = events("delivery")
    assert delivered["delivery"]["mids"] == [echo["message"]["mid"]]
    [read] = events("read")
    assert isinstance(read["read"]["watermark"], int)
    batch = facebook_payload("batch_two_entries")
    assert len(batch["entry"]) == 2
    assert len(events("batch_two_entries")) == 2
    assert inbound_psids(batch) == [PERSON, OTHER_PERSON]


def test_mids_are_unique_across_fixtures(
    facebook_payload: Callable[[str], dict[str, Any]],
) -> None:
    mids = [mid for name in FIXTURE_NAMES for mid in mids_of(facebook_payload(name))]
    assert len(mids) == 10  # every message and postback; referrals, deliveries, reads have none
    assert len(set(mids)) == len(mids)
    assert all(mid.startswith("m_") for mid in mids)


# ---------------------------------------------------------------------- Send API


def test_send_text_in_the_window(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    response = send(fake_graph, http, text_message(PERSON, SWEDISH))
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"recipient_id", "message_id"}
    assert answer["recipient_id"] == PERSON
    assert answer["message_id"].startswith("m_")

    [call] = fake_graph.calls
    assert (call.method, call.path, call.version) == ("POST", "/v21.0/me/messages", "v21.0")
    assert call.query == {"access_token": PAGE_TOKEN}
    assert call.body == text_message(PERSON, SWEDISH)
    assert (call.status, call.response, call.token_ok) == (200, answer, True)
    assert fake_graph.sends() == [call]
    assert fake_graph.sent_to(PERSON) == [{"text": SWEDISH}]
    assert fake_graph.texts_to(PERSON) == [SWEDISH]
    assert fake_graph.message_ids_to(PERSON) == [answer["message_id"]]
    assert fake_graph.sent_to(OTHER_PERSON) == []
    fake_graph.clear_calls()
    assert fake_graph.calls == []


def test_send_with_quick_replies_any_version_and_page_node(
    fake_graph: FakeGraphApi, http: httpx.Client
) -> None:
    fake_graph.user_wrote(PERSON)
    message = {
        "text": "Var bor du?",
        "quick_replies": [
            {"content_type": "text", "title": "Kopparängen", "payload": "where:kopparangen"},
            {"content_type": "text", "title": "Silverängen", "payload": "where:silverangen"},
        ],
    }
    body = {"recipient": {"id": PERSON}, "messaging_type": "RESPONSE", "message": message}
    assert send(fake_graph, http, body, version="v19.0").status_code == 200
    page_url = f"{fake_graph.root}/v25.0/{PAGE_ID}/messages"
    assert http.post(page_url, params={"access_token": PAGE_TOKEN}, json=body).status_code == 200
    # Graph also takes the token in the Authorization header, and form bodies whose
    # object values are JSON strings (what the SDKs send).
    headers = {"Authorization": f"Bearer {PAGE_TOKEN}"}
    assert http.post(fake_graph.messages_url, headers=headers, json=body).status_code == 200
    form = {
        key: json.dumps(value) if isinstance(value, dict) else value for key, value in body.items()
    }
    form["access_token"] = PAGE_TOKEN
    assert http.post(fake_graph.messages_url, data=form).status_code == 200
    assert fake_graph.sent_to(PERSON) == [message] * 4
    assert [call.version for call in fake_graph.sends()] == ["v19.0", "v25.0", "v21.0", "v21.0"]


def test_sender_actions(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    for action in ("mark_seen", "typing_on", "typing_off"):
        response = send(fake_graph, http, {"recipient": {"id": PERSON}, "sender_action": action})
        assert response.status_code == 200
        assert response.json() == {"recipient_id": PERSON}
    assert fake_graph.actions_to(PERSON) == ["mark_seen", "typing_on", "typing_off"]
    assert fake_graph.sent_to(PERSON) == []
    bad = send(fake_graph, http, {"recipient": {"id": PERSON}, "sender_action": "dance"})
    assert_graph_error(bad, 400, 100)


def test_access_token_is_required_and_checked(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    missing = send(fake_graph, http, text_message(PERSON, "Hej"), token=None)
    error = assert_graph_error(missing, 400, 2500)
    assert error["type"] == "OAuthException"
    assert "active access token" in error["message"]
    wrong = send(fake_graph, http, text_message(PERSON, "Hej"), token="EAAwrong")
    error = assert_graph_error(wrong, 400, 190)
    assert error["type"] == "OAuthException"
    assert [call.token_ok for call in fake_graph.calls] == [False, False]
    assert fake_graph.sends() == []
    assert fake_graph.sent_to(PERSON) == []


def send_body(**fields: Any) -> dict[str, Any]:
    """A valid text send to PERSON, with ``fields`` replaced (``None`` drops a field)."""
    body: dict[str, Any] = {
        "recipient": {"id": PERSON},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hej"},
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("body", "subcode"),
    [
        (send_body(recipient=None), None),
        (send_body(recipient=PERSON), None),
        (send_body(recipient={"psid": PERSON}), None),
        (send_body(recipient={"id": "kalle"}), 2018001),
        (send_body(message=None), None),
        (send_body(sender_action="typing_on"), None),  # both a message and an action
        (send_body(message={}), None),
        (send_body(message={"text": ""}), None),
        (send_body(message={"text": 42}), None),
        (send_body(message="Hej"), None),
        (send_body(message={"text": "x", "attachment": {"type": "image", "payload": {}}}), None),
        (send_body(message={"attachment": {"type": "hologram", "payload": {}}}), None),
        (send_body(message={"attachment": {"type": "image"}}), None),
        (send_body(message={"text": "x", "metadata": "m" * 1001}), None),
        (send_body(messaging_type=None), None),
        (send_body(messaging_type="PUSH"), None),
        (send_body(messaging_type="MESSAGE_TAG"), None),  # no tag
        (send_body(messaging_type="MESSAGE_TAG", tag="NEWS"), None),
        (send_body(tag="HUMAN_AGENT"), None),  # a tag on a RESPONSE
    ],
)
def test_invalid_sends_get_code_100(
    fake_graph: FakeGraphApi, http: httpx.Client, body: dict[str, Any], subcode: int | None
) -> None:
    fake_graph.user_wrote(PERSON)
    error = assert_graph_error(send(fake_graph, http, body), 400, 100, subcode)
    assert error["message"].startswith("(#100) ")
    assert fake_graph.sent_to(PERSON) == []
    [call] = fake_graph.sends()
    assert call.status == 400


def test_malformed_json_gets_code_100(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    response = http.post(
        fake_graph.messages_url,
        params={"access_token": PAGE_TOKEN},
        content=b'{"recipient": {"id": ',
        headers={"Content-Type": "application/json"},
    )
    assert_graph_error(response, 400, 100)
    [call] = fake_graph.calls
    assert call.body is None
    empty = http.post(fake_graph.messages_url, params={"access_token": PAGE_TOKEN})
    assert_graph_error(empty, 400, 100)


def test_text_length_limit(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    longest = "å" * MAX_TEXT
    assert send(fake_graph, http, text_message(PERSON, longest)).status_code == 200
    too_long = send(fake_graph, http, text_message(PERSON, longest + "a"))
    error = assert_graph_error(too_long, 400, 100)
    assert "2000" in error["message"]
    assert fake_graph.texts_to(PERSON) == [longest]


@pytest.mark.parametrize(
    ("replies", "ok"),
    [
        (quick_replies(13), True),
        (quick_replies(14), False),
        (quick_replies(1, title="x" * 20), True),
        (quick_replies(1, title="x" * 21), False),
        (quick_replies(1, title="ä" * 20), True),
        (quick_replies(1, title=""), False),
        (quick_replies(1, payload="p" * 1000), True),
        (quick_replies(1, payload="p" * 1001), False),
        (quick_replies(1, payload=""), False),
        ([{"content_type": "text", "title": "Ja"}], False),  # no payload
        ([{"content_type": "location"}], False),
        ([{"content_type": "user_email"}], True),
        ([], False),
    ],
)
def test_quick_reply_limits(
    fake_graph: FakeGraphApi, http: httpx.Client, replies: list[Any], ok: bool
) -> None:
    fake_graph.user_wrote(PERSON)
    body = text_message(PERSON, "Var?")
    body["message"]["quick_replies"] = replies
    response = send(fake_graph, http, body)
    if ok:
        assert response.status_code == 200, response.text
        assert fake_graph.sent_to(PERSON) == [body["message"]]
    else:
        assert_graph_error(response, 400, 100)
        assert fake_graph.sent_to(PERSON) == []


def test_attachment_send(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    message = {"attachment": {"type": "image", "payload": {"url": "https://example.se/a.png"}}}
    body = {"recipient": {"id": PERSON}, "messaging_type": "RESPONSE", "message": message}
    assert send(fake_graph, http, body).status_code == 200
    assert fake_graph.sent_to(PERSON) == [message]
    assert fake_graph.texts_to(PERSON) == []


# ---------------------------------------------------------------------- the 24-hour window


def test_no_inbound_message_means_no_window(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    for messaging_type in ("RESPONSE", "UPDATE"):
        response = send(fake_graph, http, text_message(PERSON, "Hej", messaging_type))
        error = assert_graph_error(response, 400, 10, 2018278)
        assert error["type"] == "OAuthException"
        assert error["message"].startswith("(#10) This message is sent outside of allowed window.")
    assert fake_graph.sent_to(PERSON) == []
    assert fake_graph.last_inbound(PERSON) is None


def test_window_closes_after_24_hours(
    fake_graph: FakeGraphApi, http: httpx.Client, clock: Clock
) -> None:
    fake_graph.user_wrote(PERSON)
    assert fake_graph.last_inbound(PERSON) == clock.now
    clock.now += WINDOW
    assert send(fake_graph, http, text_message(PERSON, "Precis i tid")).status_code == 200
    clock.now += 1
    late = send(fake_graph, http, text_message(PERSON, "För sent", "UPDATE"))
    assert_graph_error(late, 400, 10, 2018278)
    # A new message from the person opens a new window.
    fake_graph.user_wrote(PERSON)
    assert send(fake_graph, http, text_message(PERSON, "Tack!", "UPDATE")).status_code == 200
    assert fake_graph.texts_to(PERSON) == ["Precis i tid", "Tack!"]
    # user_wrote(at=...) records any moment, e.g. a message from yesterday.
    fake_graph.user_wrote(OTHER_PERSON, at=clock.now - WINDOW - 60)
    assert_graph_error(send(fake_graph, http, text_message(OTHER_PERSON, "x")), 400, 10, 2018278)


def test_message_tags(fake_graph: FakeGraphApi, http: httpx.Client, clock: Clock) -> None:
    def tagged(tag: str) -> dict[str, Any]:
        return {**text_message(PERSON, f"Om {tag}", "MESSAGE_TAG"), "tag": tag}

    fake_graph.user_wrote(PERSON)
    clock.now += 3 * 24 * 3600
    assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 400, 10, 2018278)
    assert send(fake_graph, http, tagged("HUMAN_AGENT")).status_code == 200
    clock.now += HUMAN_AGENT_WINDOW
    assert_graph_error(send(fake_graph, http, tagged("HUMAN_AGENT")), 400, 10, 2018278)
    for tag in ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"):
        assert send(fake_graph, http, tagged(tag)).status_code == 200
    # Sent to someone who never wrote at all: tags other than HUMAN_AGENT still go.
    stranger = {**tagged("ACCOUNT_UPDATE"), "recipient": {"id": OTHER_PERSON}}
    assert send(fake_graph, http, stranger).status_code == 200
    assert len(fake_graph.sent_to(PERSON)) == 4


def test_window_can_be_turned_off(http: httpx.Client) -> None:
    with FakeGraphApi(enforce_window=False) as fake:
        assert send(fake, http, text_message(PERSON, "Hej")).status_code == 200
        assert fake.texts_to(PERSON) == ["Hej"]


# ---------------------------------------------------------------------- scripted errors


def test_fail_next(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.fail_next(400, 100, "(#100) Invalid parameter", subcode=2018001, times=2)
    for _ in range(2):
        assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 400, 100, 2018001)
    assert send(fake_graph, http, text_message(PERSON, "y")).status_code == 200
    assert fake_graph.texts_to(PERSON) == ["y"]
    assert [call.status for call in fake_graph.sends()] == [400, 400, 200]
    # The failure comes before validation, like an outage would.
    fake_graph.fail_next(400, 4, "(#4) Application request limit reached", type="OAuthException")
    assert_graph_error(send(fake_graph, http, {"message": {}}), 400, 4)


def test_rate_limit_next(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.rate_limit_next(times=2)
    for _ in range(2):
        error = assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 400, 613)
        assert error["message"] == "(#613) Calls to this api have exceeded the rate limit."
    assert send(fake_graph, http, text_message(PERSON, "x")).status_code == 200


def test_scripted_failures_skip_sender_actions(
    fake_graph: FakeGraphApi, http: httpx.Client
) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.rate_limit_next()
    typing = send(fake_graph, http, {"recipient": {"id": PERSON}, "sender_action": "typing_on"})
    assert typing.status_code == 200
    assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 400, 613)


def test_unavailable_next(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.unavailable_next()
    response = send(fake_graph, http, text_message(PERSON, "x"))
    error = assert_graph_error(response, 400, 551, 1545041)
    assert error["message"] == "(#551) This person isn't available right now."
    assert send(fake_graph, http, text_message(PERSON, "y")).status_code == 200


def test_server_error_next(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.server_error_next()
    error = assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 500, 2)
    assert error["is_transient"] is True
    assert error["message"] == "An unexpected error has occurred. Please retry your request later."
    assert list(error) == ["message", "type", "is_transient", "code", "fbtrace_id"]
    assert send(fake_graph, http, text_message(PERSON, "x")).status_code == 200


def test_blocked_person(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.user_wrote(OTHER_PERSON)
    fake_graph.blocked(PERSON)
    for _ in range(3):
        assert_graph_error(send(fake_graph, http, text_message(PERSON, "x")), 400, 551, 1545041)
    typing = send(fake_graph, http, {"recipient": {"id": PERSON}, "sender_action": "typing_on"})
    assert_graph_error(typing, 400, 551, 1545041)
    assert send(fake_graph, http, text_message(OTHER_PERSON, "x")).status_code == 200
    fake_graph.unblocked(PERSON)
    assert send(fake_graph, http, text_message(PERSON, "x")).status_code == 200


def test_error_body_shape() -> None:
    body = error_body(10, "(#10) x", subcode=2018278)
    assert list(body["error"]) == ["message", "type", "code", "error_subcode", "fbtrace_id"]
    assert body["error"]["type"] == "OAuthException"
    assert error_body(1, "y")["error"]["fbtrace_id"] != error_body(1, "y")["error"]["fbtrace_id"]


# ---------------------------------------------------------------------- other paths


def test_unknown_paths_and_methods(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    token = {"access_token": PAGE_TOKEN}
    unknown = http.post(f"{fake_graph.root}/v21.0/me/feed", params=token, json={})
    error = assert_graph_error(unknown, 400, 2500)
    assert error["message"] == "Unknown path components: /feed"
    deeper = http.get(f"{fake_graph.root}/v21.0/me/messages/extra", params=token)
    assert error_of(deeper)["message"] == "Unknown path components: /messages/extra"
    listing = http.get(fake_graph.messages_url, params=token)
    error = assert_graph_error(listing, 400, 100, 33)
    assert error["type"] == "GraphMethodException"
    assert error["message"].startswith("Unsupported get request. Object with ID 'me'")
    other = http.post(f"{fake_graph.root}/v21.0/999999/messages", params=token, json={})
    assert "Object with ID '999999'" in assert_graph_error(other, 400, 100, 33)["message"]
    assert fake_graph.sends() == []
    assert [call.status for call in fake_graph.calls] == [400] * 4


def test_slow(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.slow(0.2)
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            fake_graph.messages_url,
            params={"access_token": PAGE_TOKEN},
            json=text_message(PERSON, "x"),
            timeout=0.05,
        )
    fake_graph.slow(0)


# ---------------------------------------------------------------------- Messenger Profile


def profile_post(fake: FakeGraphApi, http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post(fake.profile_url, params={"access_token": PAGE_TOKEN}, json=body)


def menu(*titles: str, locale: str = "default") -> dict[str, Any]:
    actions = [
        {"type": "postback", "title": title, "payload": f"MENU:{n}"}
        for n, title in enumerate(titles)
    ]
    return {"locale": locale, "composer_input_disabled": False, "call_to_actions": actions}


def test_profile_set_and_get(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    started = {"get_started": {"payload": "GET_STARTED"}}
    assert profile_post(fake_graph, http, started).json() == {"result": "success"}
    menus = [menu("Resultat", "Byt språk"), menu("النتائج", locale="ar_AR")]
    greeting = [
        {"locale": "default", "text": "Hej {{user_first_name}}! Välkommen till Trygg."},
        {"locale": "en_US", "text": "Hi! Welcome to Trygg."},
    ]
    answer = profile_post(fake_graph, http, {"persistent_menu": menus, "greeting": greeting})
    assert answer.status_code == 200 and answer.json() == {"result": "success"}
    assert fake_graph.profile == {**started, "persistent_menu": menus, "greeting": greeting}

    got = http.get(
        fake_graph.profile_url,
        params={"access_token": PAGE_TOKEN, "fields": "get_started,persistent_menu"},
    )
    assert got.status_code == 200
    assert got.json() == {"data": [{**started, "persistent_menu": menus}]}

    deleted = http.request(
        "DELETE",
        fake_graph.profile_url,
        params={"access_token": PAGE_TOKEN},
        json={"fields": ["greeting"]},
    )
    assert deleted.json() == {"result": "success"}
    assert "greeting" not in fake_graph.profile
    assert [call.method for call in fake_graph.calls] == ["POST", "POST", "GET", "DELETE"]
    assert fake_graph.sends() == []


def test_profile_get_when_nothing_is_set(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    params = {"access_token": PAGE_TOKEN, "fields": "get_started"}
    assert http.get(fake_graph.profile_url, params=params).json() == {"data": []}
    no_fields = http.get(fake_graph.profile_url, params={"access_token": PAGE_TOKEN})
    assert_graph_error(no_fields, 400, 100)
    no_token = http.get(fake_graph.profile_url, params={"fields": "get_started"})
    assert_graph_error(no_token, 400, 2500)


def test_persistent_menu_needs_get_started(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    alone = profile_post(fake_graph, http, {"persistent_menu": [menu("Resultat")]})
    error = assert_graph_error(alone, 400, 100, 2018145)
    assert "Get Started" in error["message"]
    assert fake_graph.profile == {}
    together = {"get_started": {"payload": "GET_STARTED"}, "persistent_menu": [menu("Resultat")]}
    assert profile_post(fake_graph, http, together).status_code == 200
    # Once set, a later call may change the menu alone.
    assert profile_post(fake_graph, http, {"persistent_menu": [menu("Ny")]}).status_code == 200
    assert fake_graph.profile["persistent_menu"] == [menu("Ny")]


def one_menu(*actions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"persistent_menu": [{"locale": "default", "call_to_actions": list(actions), **fields}]}


@pytest.mark.parametrize(
    "body",
    [
        {"persistent_menu": [menu(*(f"Val {n}" for n in range(21)))]},
        {"persistent_menu": [menu("x" * 31)]},
        {"persistent_menu": [menu("Resultat", locale="sv_SE")]},  # no default locale
        {"persistent_menu": []},
        one_menu({"type": "postback", "title": "x"}),  # no payload
        one_menu({"type": "postback", "title": "x", "payload": "p" * 1001}),
        one_menu({"type": "web_url", "title": "x"}),  # no url
        one_menu({"type": "nested", "title": "x"}),
        one_menu(),
        one_menu({"type": "postback", "title": "x", "payload": "y"}, composer_input_disabled="no"),
        {"get_started": {}},
        {"get_started": {"payload": "p" * 1001}},
        {"greeting": [{"locale": "default", "text": "x" * 161}]},
        {"greeting": [{"locale": "sv_SE", "text": "Hej"}]},
        {"favourite_colour": "blue"},
        {},
    ],
)
def test_profile_validation(
    fake_graph: FakeGraphApi, http: httpx.Client, body: dict[str, Any]
) -> None:
    assert profile_post(fake_graph, http, {"get_started": {"payload": "GET_STARTED"}}).is_success
    assert_graph_error(profile_post(fake_graph, http, body), 400, 100)
    assert fake_graph.profile == {"get_started": {"payload": "GET_STARTED"}}


def test_menu_limits_are_inclusive(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    body = {
        "get_started": {"payload": "GET_STARTED"},
        "persistent_menu": [menu(*("x" * 30 for _ in range(20)))],
        "greeting": [{"locale": "default", "text": "x" * 160}],
    }
    assert profile_post(fake_graph, http, body).status_code == 200


# ---------------------------------------------------------------------- webhook side


class Receiver:
    """A webhook endpoint on its own port: answers Meta's verification GET, records each
    POST's raw body and headers, and can reply to each person through the fake while the
    webhook is still being handled (as an adapter may)."""

    def __init__(self, reply_via: FakeGraphApi | None = None, answer: int = 200):
        self.reply_via = reply_via
        self.answer = answer
        self.posts: list[tuple[bytes, dict[str, str]]] = []
        self.replies: list[int] = []
        self._lock = threading.Lock()
        routes = [Route("/webhooks/facebook", self._endpoint, methods=["GET", "POST"])]
        self.server = LocalServer(Starlette(routes=routes), "Receiver")

    @property
    def url(self) -> str:
        return f"{self.server.root}/webhooks/facebook"

    async def _endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            query = request.query_params
            if (
                query.get("hub.mode") == "subscribe"
                and query.get("hub.verify_token") == VERIFY_TOKEN
            ):
                return PlainTextResponse(query.get("hub.challenge", ""))
            return PlainTextResponse("Forbidden", status_code=403)
        raw = await request.body()
        with self._lock:
            self.posts.append((raw, dict(request.headers)))
        if self.reply_via is not None:
            fake = self.reply_via
            async with httpx.AsyncClient(timeout=10) as client:
                for psid in inbound_psids(json.loads(raw)):
                    response = await client.post(
                        fake.messages_url,
                        params={"access_token": fake.page_token},
                        json=text_message(psid, "Tack för ditt svar!"),
                    )
                    self.replies.append(response.status_code)
        return PlainTextResponse("EVENT_RECEIVED", status_code=self.answer)


@pytest.fixture
def receiver(fake_graph: FakeGraphApi) -> Iterator[Receiver]:
    found = Receiver(reply_via=fake_graph)
    with found.server:
        yield found


def test_deliver_posts_the_signed_raw_bytes(
    fake_graph: FakeGraphApi, receiver: Receiver, facebook_payload: Callable[[str], dict[str, Any]]
) -> None:
    payload = facebook_payload("quick_reply")
    response = fake_graph.deliver(receiver.url, payload)
    assert response.status_code == 200
    assert response.text == "EVENT_RECEIVED"

    [(raw, headers)] = receiver.posts
    assert raw == encode(payload)
    assert b"\\u00e4" in raw  # "Kopparängen" arrives escaped
    assert "ä".encode() not in raw
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == expected
    assert hmac.compare_digest(headers["x-hub-signature-256"], expected)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "facebookexternalua"
    assert headers["x-hub-signature"].startswith("sha1=")
    # Over re-serialised JSON the signature would not verify.
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert not is_valid_signature(reserialised, headers["x-hub-signature-256"])

    [record] = fake_graph.deliveries
    assert (record.url, record.body, record.signature, record.status_code) == (
        receiver.url,
        raw,
        expected,
        200,
    )


def test_deliver_opens_the_window_before_posting(
    fake_graph: FakeGraphApi, receiver: Receiver, facebook_payload: Callable[[str], dict[str, Any]]
) -> None:
    fake_graph.deliver(receiver.url, facebook_payload("batch_two_entries"))
    # The receiver replied to both people while handling the delivery, inside the window.
    assert receiver.replies == [200, 200]
    assert fake_graph.texts_to(PERSON) == ["Tack för ditt svar!"]
    assert fake_graph.texts_to(OTHER_PERSON) == ["Tack för ditt svar!"]

    for name in ("echo", "delivery", "read"):
        fake_graph.deliver(receiver.url, facebook_payload(name))
    assert fake_graph.last_inbound(THIRD_PERSON) is None
    fake_graph.deliver(receiver.url, facebook_payload("postback_get_started"), record_inbound=False)
    assert fake_graph.last_inbound(THIRD_PERSON) is None
    assert receiver.replies[-1] == 400  # the reply to THIRD_PERSON fell outside the window
    assert fake_graph.record_inbound(facebook_payload("postback_get_started")) == [THIRD_PERSON]
    assert fake_graph.last_inbound(THIRD_PERSON) is not None


def test_deliver_can_forge_or_drop_the_signature(
    fake_graph: FakeGraphApi, receiver: Receiver
) -> None:
    payload = delivery(entry(text_event(PERSON, "Hallå")))
    fake_graph.deliver(receiver.url, payload, secret="not-the-app-secret")
    fake_graph.deliver(receiver.url, payload, headers={SIGNATURE_HEADER: "", "X-Hub-Signature": ""})
    (forged, forged_headers), (_, unsigned_headers) = receiver.posts
    assert not is_valid_signature(forged, forged_headers["x-hub-signature-256"])
    assert forged_headers["x-hub-signature-256"] == sign(forged, "not-the-app-secret")
    assert "x-hub-signature-256" not in unsigned_headers
    assert "x-hub-signature" not in unsigned_headers
    assert [record.signature for record in fake_graph.deliveries][1] == ""


def test_deliver_reports_the_receivers_status(fake_graph: FakeGraphApi) -> None:
    failing = Receiver(answer=503)
    with failing.server:
        response = fake_graph.deliver(failing.url, delivery(entry(read_event(PERSON, 1))))
    assert response.status_code == 503
    assert fake_graph.deliveries[0].status_code == 503


async def test_deliver_async_through_an_asgi_transport(fake_graph: FakeGraphApi) -> None:
    seen: list[bytes] = []

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        ok = is_valid_signature(body, request.headers.get(SIGNATURE_HEADER))
        seen.append(body)
        return PlainTextResponse("ok" if ok else "bad", status_code=200 if ok else 403)

    app = Starlette(routes=[Route("/webhooks/facebook", endpoint, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend:8000") as client:
        url = "http://backend:8000/webhooks/facebook"
        payload = delivery(entry(text_event(PERSON, ARABIC)))
        good = await fake_graph.deliver_async(url, payload, client=client)
        bad = await fake_graph.deliver_async(url, payload, client=client, secret="forged")
    assert (good.status_code, bad.status_code) == (200, 403)
    assert seen == [encode(payload)] * 2
    assert fake_graph.last_inbound(PERSON) is not None


def test_verify(fake_graph: FakeGraphApi, receiver: Receiver) -> None:
    ok = fake_graph.verify(receiver.url, challenge="1158201444")
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.request.url.params["hub.mode"] == "subscribe"
    assert ok.request.url.params["hub.verify_token"] == VERIFY_TOKEN
    random = fake_graph.verify(receiver.url)
    assert random.status_code == 200 and random.text.isdigit()
    assert random.text == random.request.url.params["hub.challenge"]
    assert fake_graph.verify(receiver.url, token="wrong").status_code == 403
    assert fake_graph.verify(receiver.url, mode="unsubscribe").status_code == 403
    assert receiver.posts == []


# ---------------------------------------------------------------------- rate limits, holding


def test_no_rate_limit_unless_enforced(fake_graph: FakeGraphApi, http: httpx.Client) -> None:
    fake_graph.user_wrote(PERSON)
    for _ in range(20):
        assert send(fake_graph, http, text_message(PERSON, "x")).status_code == 200
    assert (fake_graph.rejected, len(fake_graph.arrivals)) == (0, 20)


def test_enforced_rate_answers_613_which_our_sender_retries(
    fake_graph: FakeGraphApi, http: httpx.Client
) -> None:
    for psid in (PERSON, OTHER_PERSON, THIRD_PERSON):
        fake_graph.user_wrote(psid)
    fake_graph.enforce_rate(3)
    for psid in (PERSON, OTHER_PERSON, THIRD_PERSON):  # within the limit
        assert send(fake_graph, http, text_message(psid, "x")).status_code == 200
    typing = {"recipient": {"id": PERSON}, "sender_action": "typing_on"}
    assert send(fake_graph, http, typing).status_code == 200  # not a message: not counted
    refused = send(fake_graph, http, text_message(PERSON, "y"))
    error = assert_graph_error(refused, 400, RATE_LIMITED)
    assert error["message"] == "(#613) Calls to this api have exceeded the rate limit."
    result = error_outcome(refused.status_code, refused.json())
    assert result.outcome is Outcome.RETRY and result.retry_after
    assert fake_graph.texts_to(PERSON) == ["x"]
    assert fake_graph.accepted_per_recipient() == {PERSON: 1, OTHER_PERSON: 1, THIRD_PERSON: 1}
    assert fake_graph.rejected == 1


def test_a_parked_send_whose_client_left_is_never_processed(
    fake_graph: FakeGraphApi, http: httpx.Client
) -> None:
    fake_graph.user_wrote(PERSON)
    fake_graph.hold()
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            fake_graph.messages_url,
            params={"access_token": PAGE_TOKEN},
            json=text_message(PERSON, "x"),
            timeout=0.3,
        )
    deadline = time.monotonic() + 5
    while fake_graph.abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    fake_graph.release()
    assert (fake_graph.abandoned, fake_graph.parked) == (1, 0)
    assert fake_graph.calls == [] and fake_graph.arrivals == []
    assert send(fake_graph, http, text_message(PERSON, "y")).status_code == 200
    assert fake_graph.texts_to(PERSON) == ["y"]
