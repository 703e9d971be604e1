"""What the simulated people send: their answers, as signed webhooks in each provider's
exact wire format.

Each person follows a script: what they send, turn by turn, from the entry (Telegram
``/start``, the SMS keyword ``TRYGG``, Messenger's Get Started) to the last question of
the Karlslund questionnaire. The script is worked out before the load starts by feeding
the pure engine exactly what the server will see: each wire body goes through the
channel's own parser (``bots.<channel>.inbound``) and the service's own choice of event,
and the next answer is picked from the question that comes back. So the scripts move
every person forward however the flow changes, and a wrong wire format fails here, not
silently as re-asked questions under load.

Nothing here reaches anyone: the ids, numbers and secrets are made up, the server runs
without the delivery worker, and its provider API roots point at a closed port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

from bots.contract import InboundMessage
from bots.facebook.inbound import parse_delivery
from bots.sms.inbound import parse_message
from bots.telegram.inbound import parse_update
from dialog_flows.engine import respond
from dialog_flows.library import Library
from dialog_flows.session import Context, Outgoing, SessionState
from trygg.service.choosing import entry_of, event_of

CHANNELS = ("telegram", "sms", "facebook")
LANGUAGES = ("sv", "sv", "en", "ar")  # by weight: most answer in Swedish
TEXT_ANSWER = "Mörkt vid tunneln, och cyklar som kör fort."
MAX_TURNS = 100

# The server's credentials (made up) and where the signatures say the requests went:
# Twilio signs the public URL it was given, never the one this process dials.
PUBLIC_URL = "https://trygg.bench.invalid"
TELEGRAM_TOKEN = "123456789:AAbenchmark-token-0000000000000000"
TELEGRAM_SECRET = "bench-telegram-secret-0123456789"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "bench-twilio-auth-token-01234567"
TWILIO_NUMBER = "+46701740699"
FACEBOOK_PAGE_TOKEN = "EAAbench0page0token"
FACEBOOK_SECRET = "bench-facebook-app-secret-0123456789"
FACEBOOK_VERIFY = "bench-verify"
PAGE_ID = "112233445566778"
PATHS = {"telegram": "/webhooks/telegram", "sms": "/webhooks/sms", "facebook": "/webhooks/facebook"}


def server_env(closed_port: int) -> dict[str, str]:
    """The settings that switch the three channels on; every API root is a closed port."""
    dead = f"http://127.0.0.1:{closed_port}"
    return {
        "TRYGG_PUBLIC_URL": PUBLIC_URL,
        "TRYGG_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TRYGG_TELEGRAM_SECRET": TELEGRAM_SECRET,
        "TRYGG_TELEGRAM_API": dead,
        "TRYGG_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TRYGG_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TRYGG_TWILIO_FROM": TWILIO_NUMBER,
        "TRYGG_TWILIO_API": dead,
        "TRYGG_FACEBOOK_PAGE_TOKEN": FACEBOOK_PAGE_TOKEN,
        "TRYGG_FACEBOOK_APP_SECRET": FACEBOOK_SECRET,
        "TRYGG_FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY,
        "TRYGG_FACEBOOK_API": dead,
    }


@dataclass(frozen=True)
class Say:
    """One thing a person sends: the entry, a tapped option (payload and its label, and
    its number for SMS), or typed text."""

    kind: Literal["start", "option", "text"]
    text: str = ""  # typed text, or the option's label
    payload: str = ""
    number: int | None = None


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Wire:
    """Builds each provider's signed request; ids are unique within one load run."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.counter = 0
        self._twilio = RequestValidator(TWILIO_TOKEN)

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def address(self, channel: str, person: int) -> str:
        if channel == "telegram":
            return str(5_000_000_000 + self.run_id * 10_000_000 + person)
        if channel == "sms":  # never texted: no worker, and the API root is a closed port
            return f"+4670{self.run_id % 10}{person:06d}"
        return str(7_000_000_000_000_000 + self.run_id * 10_000_000 + person)

    def request(self, channel: str, address: str, say: Say, language: str) -> Request:
        if channel == "telegram":
            return self.telegram(address, say, language)
        if channel == "sms":
            return self.sms(address, say)
        return self.facebook(address, say)

    def telegram(self, chat_id: str, say: Say, language: str) -> Request:
        person = {"id": int(chat_id), "is_bot": False, "first_name": "Test"}
        person["language_code"] = language
        chat = {"id": int(chat_id), "first_name": "Test", "type": "private"}
        update_id = self.run_id * 100_000_000 + self._next()
        update: dict[str, Any] = {"update_id": update_id}
        if say.kind == "option":
            bot = {"id": 7000000001, "is_bot": True, "first_name": "Trygg"}
            asked = {"message_id": update_id % 1_000_000, "from": bot, "chat": chat}
            asked |= {"date": 1760000000, "text": "?"}
            update["callback_query"] = {
                "id": str(update_id * 1000 + 7),
                "from": person,
                "message": asked,
                "chat_instance": "-8123456789012345678",
                "data": say.payload,
            }
        else:
            text = "/start" if say.kind == "start" else say.text
            message: dict[str, Any] = {"message_id": update_id % 1_000_000, "from": person}
            message |= {"chat": chat, "date": 1760000000, "text": text}
            if say.kind == "start":
                message["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
            update["message"] = message
        body = json.dumps(update, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
        return Request(PATHS["telegram"], headers, body)

    def sms_form(self, number: str, say: Say) -> dict[str, str]:
        if say.kind == "start":
            text = "TRYGG"
        elif say.kind == "option":
            text = str(say.number)
        else:
            text = say.text
        sid = "SM" + uuid.uuid4().hex
        return {
            "ToCountry": "SE", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "",
            "SmsStatus": "received", "FromCity": "", "Body": text, "FromCountry": "SE",
            "To": TWILIO_NUMBER, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": TWILIO_SID, "From": number, "ApiVersion": "2010-04-01",
        }  # fmt: skip

    def sms(self, number: str, say: Say) -> Request:
        form = self.sms_form(number, say)
        signature = self._twilio.compute_signature(PUBLIC_URL + PATHS["sms"], form)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers["X-Twilio-Signature"] = str(signature)
        return Request(PATHS["sms"], headers, urlencode(list(form.items())).encode())

    def facebook(self, psid: str, say: Say) -> Request:
        mid = f"m_{self.run_id}_{self._next()}_" + uuid.uuid4().hex
        event: dict[str, Any] = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}}
        event["timestamp"] = 1764000000000 + self.counter
        if say.kind == "start":
            event["postback"] = {"mid": mid, "title": "Kom igång", "payload": "GET_STARTED"}
        elif say.kind == "option":  # options are quick replies (bots/facebook/outbound.py)
            quick = {"payload": say.payload}
            event["message"] = {"mid": mid, "text": say.text, "quick_reply": quick}
        else:
            event["message"] = {"mid": mid, "text": say.text}
        entry = {"id": PAGE_ID, "time": event["timestamp"], "messaging": [event]}
        # Meta's bytes: compact, every non-ASCII character escaped; signed as sent.
        raw = json.dumps({"object": "page", "entry": [entry]}, separators=(",", ":"))
        body = raw.encode("ascii")
        digest = hmac.new(FACEBOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + digest}
        return Request(PATHS["facebook"], headers, body)


def parse(channel: str, request: Request) -> InboundMessage:
    """What the server's webhook makes of ``request`` (its own parser)."""
    parsed: object
    if channel == "telegram":
        parsed = parse_update(json.loads(request.body))
    elif channel == "sms":
        form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        parsed = parse_message(form)
    else:
        messages = parse_delivery(request.body).messages
        parsed = messages[0] if messages else None
    if not isinstance(parsed, InboundMessage):
        raise AssertionError(f"{channel}: the server would not take {request.body[:200]!r}")
    return parsed


def script(library: Library, channel: str, language: str) -> tuple[Say, ...]:
    """What one person on ``channel`` answering in ``language`` sends, entry to last."""
    campaign = library.campaign()
    wire = Wire(run_id=0)
    address = wire.address(channel, 1)
    state: SessionState | None = None
    said: list[Say] = []
    say = Say("start")
    for _ in range(MAX_TURNS):
        message = parse(channel, wire.request(channel, address, say, language))
        entry = entry_of(library, message)
        event = event_of(message, entry)
        flow = library.flow(campaign.flow_for(None))
        if state is not None and state.active:
            flow = library.flow(state.flow_id, state.flow_version)
        assert flow is not None
        context = Context(
            now=1764000000.0 + len(said),
            channel=channel,
            translations=library.translations,
            language_hint=message.language_hint,
            default_language=campaign.default_language,
        )
        turn = respond(flow, state, event, context)
        said.append(say)
        state = turn.state
        if state is None or not state.active:
            return tuple(said)
        asking = [m for m in turn.messages if m.input != "none" or m.options]
        if not asking:
            raise AssertionError(f"{channel}: the flow waits without asking")
        say = answer(asking[-1], language)
    raise AssertionError(f"{channel} ({language}) did not end in {MAX_TURNS} turns")


def answer(question: Outgoing, language: str) -> Say:
    """The first real option (the language asked for at the language menu; "no" to the
    återkoppling, which would add a contact), a multiple choice closed after one pick,
    or text where text is asked."""
    options = question.options
    real = [o for o in options if not o.payload.endswith((":_skip", ":_done"))]
    chosen = next((o for o in options if o.payload == f"_lang:{language}"), None)
    if chosen is None and question.input == "multiple" and any(o.selected for o in options):
        chosen = next(o for o in options if o.payload.endswith(":_done"))
    if chosen is None and question.step_id == "feedback":
        chosen = next((o for o in real if o.id == "no"), None)
    if chosen is None and real:
        chosen = real[0]
    if chosen is None:
        return Say("text", TEXT_ANSWER)
    return Say("option", chosen.label, chosen.payload, chosen.number)
