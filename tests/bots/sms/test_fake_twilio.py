"""The fake Twilio speaks the format the official ``twilio`` library expects, and the
signing helpers sign exactly as Twilio does.

Sends go through a real ``twilio.rest.Client`` (or plain httpx for the raw wire format),
and signatures are checked with ``twilio.request_validator.RequestValidator``, so what
passes here is what Twilio's own code makes of it.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from dialog_flows.sms_encoding import sms_cost
from tests.bots.local_server import eventually
from tests.bots.sms.fake_twilio import FakeTwilio, LocalServer, parse_form
from tests.bots.sms.signing import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGING_SERVICE_SID,
    OTHER_PERSON,
    PERSON,
    SIGNATURE_HEADER,
    TWILIO_NUMBER,
    encode_form,
    inbound_form,
    sign,
    signed_headers,
    status_form,
)

FIXTURES = Path(__file__).parent / "fixtures"
SWEDISH = "Hej! Tack för att du svarar. Känner du dig trygg i Karlslund på kvällen?"
ARABIC_71 = ("مرحبا بكم في استطلاع الأمان " * 3)[:71]

# Twilio's published example (https://www.twilio.com/docs/usage/security).
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def client(fake_twilio: FakeTwilio) -> Client:
    return fake_twilio.client()


class Receiver:
    """A webhook endpoint on its own port that records what it was sent."""

    def __init__(self, answer: int = 200):
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server = LocalServer(
            Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])]),
            "Receiver",
        )

    async def _endpoint(self, request: Request) -> PlainTextResponse:
        form = parse_form(await request.body())
        with self._lock:
            self.requests.append((str(request.url), form, dict(request.headers)))
        return PlainTextResponse("", status_code=self.answer)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with found.server:
        yield found


# ---------------------------------------------------------------------- signing


def test_published_vector_with_request_validator_and_sign() -> None:
    validator = RequestValidator(VECTOR_TOKEN)
    assert validator.compute_signature(VECTOR_URL, VECTOR_PARAMS) == VECTOR_SIGNATURE
    assert sign(VECTOR_URL, VECTOR_PARAMS, VECTOR_TOKEN) == VECTOR_SIGNATURE
    assert validator.validate(VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)
    assert not validator.validate(VECTOR_URL, {**VECTOR_PARAMS, "Digits": "1235"}, VECTOR_SIGNATURE)
    assert not RequestValidator("54321").validate(VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)


@pytest.mark.parametrize(
    ("signed_url", "checked_url"),
    [
        ("https://dialog.example.se/webhooks/sms", "https://dialog.example.se:443/webhooks/sms"),
        ("https://dialog.example.se:443/webhooks/sms", "https://dialog.example.se/webhooks/sms"),
        (
            "http://dialog.example.se/webhooks/sms?k=1",
            "http://dialog.example.se:80/webhooks/sms?k=1",
        ),
        ("https://dialog.example.se/webhooks/sms", "https://dialog.example.se/webhooks/sms"),
    ],
)
def test_validation_with_and_without_default_port(signed_url: str, checked_url: str) -> None:
    form = inbound_form(body="TRYGG BADET", from_=PERSON)
    signature = sign(signed_url, form, AUTH_TOKEN)
    assert RequestValidator(AUTH_TOKEN).validate(checked_url, form, signature)


def test_signature_covers_url_query_and_every_field() -> None:
    url = "https://dialog.example.se/webhooks/sms?campaign=karlslund"
    form = inbound_form(body="TRYGG BADET", from_=PERSON)
    signature = sign(url, form)
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(url, form, signature)
    assert not validator.validate("https://dialog.example.se/webhooks/sms", form, signature)
    assert not validator.validate(url, {**form, "Body": "TRYGG SKOLAN"}, signature)
    assert not validator.validate(url, {**form, "Extra": ""}, signature)
    assert not RequestValidator("other-token").validate(url, form, signature)
    headers = signed_headers(url, form)
    assert headers[SIGNATURE_HEADER] == signature
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_inbound_form_has_twilios_fields() -> None:
    form = inbound_form(body="TRYGG BADET", from_=PERSON)
    assert form["MessageSid"].startswith("SM")
    assert len(form["MessageSid"]) == 34
    assert form["SmsSid"] == form["SmsMessageSid"] == form["MessageSid"]
    assert form["AccountSid"] == ACCOUNT_SID
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert (form["From"], form["To"], form["Body"]) == (PERSON, TWILIO_NUMBER, "TRYGG BADET")
    assert (form["NumMedia"], form["NumSegments"]) == ("0", "1")
    assert (form["SmsStatus"], form["ApiVersion"]) == ("received", "2010-04-01")
    assert (form["FromCountry"], form["FromCity"]) == ("SE", "")
    assert all(isinstance(value, str) for value in form.values())
    assert "MediaUrl0" not in form

    long_arabic = inbound_form(body=ARABIC_71, from_=OTHER_PERSON, messaging_service_sid=None)
    assert long_arabic["NumSegments"] == "2"
    assert "MessagingServiceSid" not in long_arabic

    mms = inbound_form(body="", from_=PERSON, num_media=2, geo=False)
    assert mms["MessageSid"].startswith("MM")
    assert mms["NumMedia"] == "2"
    assert mms["MediaContentType1"] == "image/jpeg"
    assert mms["MediaUrl1"].startswith(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}")
    assert "FromCountry" not in mms

    stop = inbound_form(body="STOP", from_=PERSON, extra={"OptOutType": "STOP"})
    assert stop["OptOutType"] == "STOP"


def test_status_form() -> None:
    form = status_form(message_sid="SM" + "a" * 32, status="undelivered", error_code=30003)
    assert form["MessageStatus"] == form["SmsStatus"] == "undelivered"
    assert form["MessageSid"] == form["SmsSid"] == "SM" + "a" * 32
    assert form["ErrorCode"] == "30003"
    assert "ErrorCode" not in status_form(message_sid="SM" + "a" * 32)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("text_sv", "inbound"),
        ("text_arabic", "inbound"),
        ("mms_no_text", "inbound"),
        ("opt_out_stop", "inbound"),
        ("status_delivered", "status"),
        ("status_undelivered", "status"),
        ("whatsapp_text", "inbound"),
        ("whatsapp_status_read", "status"),
    ],
)
def test_fixtures_are_complete(
    twilio_form: Callable[[str], dict[str, str]], name: str, kind: str
) -> None:
    form = twilio_form(name)
    assert all(isinstance(value, str) for value in form.values())
    assert len(form["MessageSid"]) == 34
    assert form["AccountSid"] == ACCOUNT_SID
    assert form["ApiVersion"] == "2010-04-01"
    if kind == "inbound":
        for key in ("SmsSid", "From", "To", "Body", "NumMedia", "NumSegments", "SmsStatus"):
            assert key in form
        assert form["NumSegments"] == str(sms_cost(form["Body"]).segments)
    else:
        assert form["MessageStatus"] == form["SmsStatus"]
    url = "https://dialog.example.se/webhooks/sms"
    assert RequestValidator(AUTH_TOKEN).validate(url, form, sign(url, form))


def test_fixture_details(twilio_form: Callable[[str], dict[str, str]]) -> None:
    assert twilio_form("text_sv")["Body"] == "TRYGG BADET"
    mms = twilio_form("mms_no_text")
    assert (mms["NumMedia"], mms["Body"], mms["MediaContentType0"]) == ("1", "", "image/jpeg")
    assert mms["MediaUrl0"].startswith("https://api.twilio.com/")
    stop = twilio_form("opt_out_stop")
    assert (stop["Body"], stop["OptOutType"]) == ("STOP", "STOP")
    assert "ErrorCode" not in twilio_form("status_delivered")
    undelivered = twilio_form("status_undelivered")
    assert (undelivered["MessageStatus"], undelivered["ErrorCode"]) == ("undelivered", "30003")
    sids = {twilio_form(path.stem)["MessageSid"] for path in FIXTURES.glob("*.json")}
    whatsapp = twilio_form("whatsapp_text")
    assert whatsapp["From"].startswith("whatsapp:+") and whatsapp["To"].startswith("whatsapp:+")
    assert twilio_form("whatsapp_status_read")["MessageStatus"] == "read"
    assert len(sids) == 8


# ---------------------------------------------------------------------- sending


def test_client_sends_swedish_text(fake_twilio: FakeTwilio, client: Client) -> None:
    message = client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=SWEDISH)
    assert message.sid is not None
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "1"
    assert message.num_media == "0"
    assert (message.to, message.from_, message.body) == (PERSON, TWILIO_NUMBER, SWEDISH)
    assert message.account_sid == ACCOUNT_SID
    assert message.direction == "outbound-api"
    assert message.api_version == "2010-04-01"
    assert message.messaging_service_sid is None
    assert message.price is None
    assert message.error_code is None
    assert message.error_message is None
    assert message.date_created is not None
    assert message.date_created.tzinfo is not None

    [call] = fake_twilio.calls
    assert call.method == "POST"
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.auth_ok
    assert call.status == 201
    assert call.params == {"To": PERSON, "From": TWILIO_NUMBER, "Body": SWEDISH}
    assert fake_twilio.sent_to(PERSON) == [call.params]
    assert fake_twilio.sent_to(OTHER_PERSON) == []
    stored = fake_twilio.message(message.sid)
    assert stored is not None
    assert stored["status"] == "queued"


def test_segments_for_ucs2(client: Client) -> None:
    assert len(ARABIC_71) == 71
    message = client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=ARABIC_71)
    assert message.num_segments == "2"
    assert (
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=ARABIC_71[:70]).num_segments
        == "1"
    )
    curly = "Det är ’bra’" + "x" * 60  # 72 characters, one curly quote forces UCS-2
    assert client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=curly).num_segments == "2"


def test_messaging_service_sender(fake_twilio: FakeTwilio, client: Client) -> None:
    message = client.messages.create(
        to=PERSON, messaging_service_sid=MESSAGING_SERVICE_SID, body="Hej"
    )
    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == MESSAGING_SERVICE_SID
    assert fake_twilio.sent_to(PERSON)[0]["MessagingServiceSid"] == MESSAGING_SERVICE_SID


def test_raw_wire_format(fake_twilio: FakeTwilio) -> None:
    response = httpx.post(
        fake_twilio.messages_url,
        data={"To": PERSON, "From": TWILIO_NUMBER, "Body": "TRYGG"},
        headers=_basic(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    sid = body["sid"]
    assert set(body) >= {
        "account_sid",
        "api_version",
        "body",
        "date_created",
        "date_sent",
        "date_updated",
        "direction",
        "error_code",
        "error_message",
        "from",
        "messaging_service_sid",
        "num_media",
        "num_segments",
        "price",
        "price_unit",
        "sid",
        "status",
        "subresource_uris",
        "to",
        "uri",
    }
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"
    assert body["date_created"].endswith(" +0000")
    assert parsedate_to_datetime(body["date_created"]).utcoffset() is not None
    assert (body["num_segments"], body["num_media"]) == ("1", "0")

    fetched = httpx.get(f"{fake_twilio.root}{body['uri']}", headers=_basic(ACCOUNT_SID, AUTH_TOKEN))
    assert fetched.status_code == 200
    assert fetched.json()["sid"] == sid


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _basic(ACCOUNT_SID, "wrong"),
        _basic("AC" + "f" * 32, AUTH_TOKEN),
        {"Authorization": "Bearer x"},
    ],
)
def test_bad_auth_is_401(fake_twilio: FakeTwilio, headers: dict[str, str]) -> None:
    response = httpx.post(
        fake_twilio.messages_url,
        data={"To": PERSON, "From": TWILIO_NUMBER, "Body": "x"},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    [call] = fake_twilio.calls
    assert not call.auth_ok
    assert fake_twilio.sends() == []
    assert fake_twilio.sent_to(PERSON) == []


def test_bad_auth_through_client(fake_twilio: FakeTwilio) -> None:
    client = Client(ACCOUNT_SID, "wrong-token")
    client.api.base_url = fake_twilio.root
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"From": TWILIO_NUMBER, "Body": "x"}, 21604),
        ({"To": PERSON, "Body": "x"}, 21603),
        ({"To": PERSON, "From": TWILIO_NUMBER}, 21602),
        ({"To": "0701740605", "From": TWILIO_NUMBER, "Body": "x"}, 21211),
        ({"To": PERSON, "From": TWILIO_NUMBER, "Body": "x" * 1601}, 21617),
    ],
)
def test_missing_or_bad_params(fake_twilio: FakeTwilio, data: dict[str, str], code: int) -> None:
    response = httpx.post(
        fake_twilio.messages_url, data=data, headers=_basic(ACCOUNT_SID, AUTH_TOKEN)
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["status"]) == (code, 400)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str)
    assert body["message"]
    assert fake_twilio.sends()[0].status == 400


def test_unknown_path_is_twilio_404(fake_twilio: FakeTwilio) -> None:
    response = httpx.get(
        f"{fake_twilio.root}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        headers=_basic(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_opted_out_recipient(fake_twilio: FakeTwilio, client: Client) -> None:
    fake_twilio.opted_out(PERSON)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
        assert (caught.value.status, caught.value.code) == (400, 21610)
        assert "unsubscribed recipient" in caught.value.msg
    assert client.messages.create(to=OTHER_PERSON, from_=TWILIO_NUMBER, body="Hej").sid
    assert fake_twilio.sent_to(PERSON) == []
    assert [call.status for call in fake_twilio.sends()] == [400, 400, 201]
    assert fake_twilio.sends()[0].response == {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    fake_twilio.opt_in(PERSON)
    assert client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej").status == "queued"


def test_rate_limit_then_success(fake_twilio: FakeTwilio, client: Client) -> None:
    fake_twilio.rate_limit_next(times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
        assert (caught.value.status, caught.value.code) == (429, 20429)
    assert client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej").status == "queued"
    assert len(fake_twilio.sent_to(PERSON)) == 1


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503)])
def test_server_errors(fake_twilio: FakeTwilio, client: Client, status: int, code: int) -> None:
    fake_twilio.server_error_next(status=status)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej").sid


def test_fail_next_custom(fake_twilio: FakeTwilio, client: Client) -> None:
    fake_twilio.fail_next(
        status=400,
        code=21408,
        message=(
            "Permission to send an SMS has not been enabled for the region indicated by the "
            "'To' number"
        ),
    )
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    assert (caught.value.status, caught.value.code) == (400, 21408)
    assert "Permission to send" in caught.value.msg


async def test_async_client(fake_twilio: FakeTwilio) -> None:
    http_client = AsyncTwilioHttpClient()
    try:
        client = fake_twilio.client(http_client)
        message = await client.messages.create_async(to=PERSON, from_=TWILIO_NUMBER, body=SWEDISH)
        assert (message.status, message.num_segments) == ("queued", "1")
        fake_twilio.opted_out(OTHER_PERSON)
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=OTHER_PERSON, from_=TWILIO_NUMBER, body="x")
        assert caught.value.code == 21610
    finally:
        await http_client.close()
    assert len(fake_twilio.sent_to(PERSON)) == 1


# ---------------------------------------------------------------------- status callbacks


def test_status_callback_is_signed(
    fake_twilio: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    url = f"{receiver.server.root}/webhooks/sms/status?attempt=1"
    message = client.messages.create(
        to=PERSON, from_=TWILIO_NUMBER, body="Hej", status_callback=url
    )
    assert message.sid is not None
    assert fake_twilio.sent_to(PERSON)[0]["StatusCallback"] == url

    assert fake_twilio.deliver_status(message.sid, "sent") == 200
    assert fake_twilio.deliver_status(message.sid, "delivered") == 200
    assert len(receiver.requests) == 2
    got_url, form, headers = receiver.requests[1]
    assert got_url == url
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert form == {
        "SmsSid": message.sid,
        "SmsStatus": "delivered",
        "MessageStatus": "delivered",
        "To": PERSON,
        "MessageSid": message.sid,
        "AccountSid": ACCOUNT_SID,
        "From": TWILIO_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(got_url, form, headers[SIGNATURE_HEADER.lower()])
    assert not RequestValidator("wrong").validate(got_url, form, headers["x-twilio-signature"])

    fetched = client.messages(message.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert [d.status_code for d in fake_twilio.deliveries] == [200, 200]


def test_undelivered_status_and_receiver_answer(
    fake_twilio: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    receiver.answer = 403
    message = client.messages.create(
        to=PERSON,
        messaging_service_sid=MESSAGING_SERVICE_SID,
        body="Hej",
        status_callback=f"{receiver.server.root}/webhooks/sms/status",
    )
    assert message.sid is not None
    assert fake_twilio.deliver_status(message.sid, "undelivered", error_code=30003) == 403
    _, form, headers = receiver.requests[0]
    assert (form["MessageStatus"], form["ErrorCode"]) == ("undelivered", "30003")
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert form["From"] == TWILIO_NUMBER  # picked from the service's pool
    url = f"{receiver.server.root}/webhooks/sms/status"
    assert RequestValidator(AUTH_TOKEN).validate(url, form, headers["x-twilio-signature"])
    stored = fake_twilio.message(message.sid)
    assert stored is not None
    assert (stored["status"], stored["error_code"]) == ("undelivered", 30003)


def test_status_callback_needs_a_url(fake_twilio: FakeTwilio, client: Client) -> None:
    message = client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    assert message.sid is not None
    with pytest.raises(ValueError, match="StatusCallback"):
        fake_twilio.deliver_status(message.sid)


def test_status_callback_through_given_client(fake_twilio: FakeTwilio, client: Client) -> None:
    """The public URL is never dialled when the caller hands in its own httpx.Client."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    url = "https://dialog.example.se/webhooks/sms/status"
    message = client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="x", status_callback=url)
    assert message.sid is not None
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        assert fake_twilio.deliver_status(message.sid, client=http) == 204
    [request] = seen
    assert str(request.url) == url
    form = parse_form(request.content)
    assert form["MessageStatus"] == "delivered"
    assert RequestValidator(AUTH_TOKEN).validate(url, form, request.headers[SIGNATURE_HEADER])


async def test_status_callback_async(fake_twilio: FakeTwilio, client: Client) -> None:
    got: dict[str, Any] = {}

    async def endpoint(request: Request) -> PlainTextResponse:
        got["form"] = parse_form(await request.body())
        got["signature"] = request.headers["x-twilio-signature"]
        return PlainTextResponse("")

    app = Starlette(routes=[Route("/webhooks/sms/status", endpoint, methods=["POST"])])
    url = "https://dialog.example.se/webhooks/sms/status"
    message = client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="x", status_callback=url)
    assert message.sid is not None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as http:
        status = await fake_twilio.deliver_status_async(message.sid, "failed", 30008, client=http)
    assert status == 200
    assert got["form"]["ErrorCode"] == "30008"
    assert RequestValidator(AUTH_TOKEN).validate(url, got["form"], got["signature"])


def test_inbound_form_round_trip_through_http(receiver: Receiver) -> None:
    """What the helpers build survives form encoding, Arabic and empty values included."""
    url = f"{receiver.server.root}/webhooks/sms"
    form = inbound_form(body="مرحبا & välkommen+", from_=OTHER_PERSON)
    response = httpx.post(url, content=encode_form(form), headers=signed_headers(url, form))
    assert response.status_code == 200
    got_url, got, headers = receiver.requests[0]
    assert got == form
    assert RequestValidator(AUTH_TOKEN).validate(got_url, got, headers["x-twilio-signature"])


# ---------------------------------------------------------------------- rate limits, holding


def test_no_rate_limit_unless_enforced(fake_twilio: FakeTwilio, client: Client) -> None:
    for _ in range(15):  # above 10 segments a second
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    assert fake_twilio.rejected == 0
    assert len(fake_twilio.arrivals) == 15


def test_enforced_rate_counts_segments(fake_twilio: FakeTwilio, client: Client) -> None:
    fake_twilio.enforce_rate(10)  # segments a second, as Twilio counts them
    three = "Trygghet i Karlslund. " * 20  # 440 GSM-7 characters: three segments
    assert sms_cost(three).segments == 3
    for _ in range(3):  # nine segments: within the limit
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=three)
    two = "Trygghet i Karlslund. " * 8
    assert sms_cost(two).segments == 2
    with pytest.raises(TwilioRestException) as caught:  # two more would make eleven
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body=two)
    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert fake_twilio.sends()[-1].response == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    client.messages.create(to=OTHER_PERSON, from_=TWILIO_NUMBER, body="Hej")  # one fits: ten
    assert fake_twilio.rejected == 1
    assert [(a.to, a.units) for a in fake_twilio.arrivals] == [(PERSON, 3)] * 3 + [
        (OTHER_PERSON, 1)
    ]
    assert len(fake_twilio.messages) == 4  # the refused one was never created


def test_enforced_rate_frees_up_as_the_window_moves(
    fake_twilio: FakeTwilio, client: Client
) -> None:
    fake_twilio.enforce_rate(4, window=0.5)  # two segments in any half second
    for _ in range(2):
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    with pytest.raises(TwilioRestException):
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    time.sleep(0.5)
    client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    arrivals = fake_twilio.arrivals
    assert len(arrivals) == 3
    assert arrivals[2].at - arrivals[0].at >= 0.5
    fake_twilio.enforce_rate(None)
    for _ in range(5):
        client.messages.create(to=PERSON, from_=TWILIO_NUMBER, body="Hej")
    assert fake_twilio.rejected == 1


async def test_a_parked_send_whose_client_left_is_never_created(fake_twilio: FakeTwilio) -> None:
    fake_twilio.hold()
    data = {"To": PERSON, "From": TWILIO_NUMBER, "Body": "Hej"}
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    async with httpx.AsyncClient(timeout=0.3, auth=auth) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(fake_twilio.messages_url, data=data)
    await eventually(lambda: fake_twilio.abandoned == 1)
    async with httpx.AsyncClient(timeout=10, auth=auth) as http:
        parked = asyncio.create_task(http.post(fake_twilio.messages_url, data=data))
        await eventually(lambda: fake_twilio.parked == 1)
        fake_twilio.release()
        assert (await parked).status_code == 201  # a client still waiting gets its answer
    assert fake_twilio.messages[0]["to"] == PERSON and len(fake_twilio.messages) == 1
    assert [arrival.to for arrival in fake_twilio.arrivals] == [PERSON]
