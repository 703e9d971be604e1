"""A local stand-in for Twilio's Programmable Messaging REST API, in its wire format.

We fake the provider, never our own code: ``FakeTwilio`` is a real HTTP server (Starlette
served by uvicorn in a background thread on 127.0.0.1) that answers
``POST {root}/2010-04-01/Accounts/{AccountSid}/Messages.json`` (and ``GET .../Messages/
{sid}.json``) the way api.twilio.com does: form-encoded requests, HTTP Basic auth with
``AccountSid:AuthToken``, 201 with the Message resource, and Twilio's error JSON
``{"code", "message", "more_info", "status"}``. Point the adapter (``TRYGG_TWILIO_API``)
at ``fake.root``, or the official client with ``client.api.base_url = fake.root`` (see
``FakeTwilio.client``).

Every request is recorded as a ``Call``. Sends can be scripted to fail (``fail_next``,
``opted_out``, ``rate_limit_next``, ``server_error_next``), and a send that named a
``StatusCallback`` can later be reported with ``deliver_status``, which POSTs Twilio's
status-callback form, signed with ``X-Twilio-Signature``, to that URL.

Sources: https://www.twilio.com/docs/messaging/api/message-resource (create, fetch, the
resource's fields and example), https://www.twilio.com/docs/api/errors (codes 20003,
20404, 20429, 21602, 21603, 21604, 21610, 21617) and
https://www.twilio.com/docs/usage/webhooks/webhooks-security (signing). Where the docs
do not give an error's exact wording, the text is what the API is commonly seen to
answer (marked *guess* below); tests should match on status and code, not on messages.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dialog_flows.sms_encoding import sms_cost
from tests.bots.local_server import FakeProvider, LocalServer
from tests.bots.sms.signing import (
    ACCOUNT_SID,
    API_VERSION,
    AUTH_TOKEN,
    FORM_CONTENT_TYPE,
    SIGNATURE_HEADER,
    TWILIO_NUMBER,
    encode_form,
    new_sid,
    sign,
    status_form,
)

if TYPE_CHECKING:
    from twilio.http import HttpClient
    from twilio.rest import Client

MAX_BODY = 1600
# Accepted "To" addresses: E.164, optionally on the WhatsApp channel.
E164 = re.compile(r"^(whatsapp:)?\+[1-9]\d{6,14}$")

# Twilio error codes the fake answers with, and their messages.
AUTHENTICATE = 20003  # "Authenticate" (wrong or missing credentials), HTTP 401
NOT_FOUND = 20404  # "The requested resource ... was not found", HTTP 404
INTERNAL_ERROR = 20500  # HTTP 500; *guess* at the wording
SERVICE_UNAVAILABLE = 20503  # HTTP 503; *guess* at the wording
TOO_MANY_REQUESTS = 20429  # HTTP 429
INVALID_TO = 21211  # "Invalid 'To' Phone Number"; *guess* at the exact wording
BODY_REQUIRED = 21602  # "Message body is required."
FROM_REQUIRED = 21603  # "A 'From' phone number is required."
TO_REQUIRED = 21604  # "A 'To' phone number is required."
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
BODY_TOO_LONG = 21617  # *guess* at the exact wording
INVALID_CONTENT_SID = 21655  # "The ContentSid is Invalid"

OPTED_OUT_MESSAGE = "Attempt to send to unsubscribed recipient"
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "read", "canceled"})


def more_info(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's (legacy) REST error JSON; ``TwilioRestException`` is built from it."""
    return {"code": code, "message": message, "more_info": more_info(code), "status": status}


def rfc2822(moment: datetime) -> str:
    """Twilio's date format in REST resources: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return format_datetime(moment.astimezone(UTC))


@dataclass(frozen=True)
class Call:
    """One request to the fake, as Twilio would have read it."""

    method: str  # HTTP method
    path: str
    params: dict[str, str]  # form fields (and query); a repeated field keeps its first value
    auth_ok: bool
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    form: tuple[tuple[str, str], ...] = ()  # every field in order, repeats included

    def values(self, name: str) -> list[str]:
        """All values of a field, e.g. ``MediaUrl`` sent once per attachment."""
        return [value for key, value in self.form if key == name]


@dataclass(frozen=True)
class StatusDelivery:
    """One status callback the fake POSTed, and how the receiver answered."""

    url: str
    params: dict[str, str]
    signature: str
    status_code: int


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    remaining: int


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class FakeTwilio(FakeProvider):
    """Twilio's Messages REST API on a free local port. See the module docstring.

    ``account_sid``/``auth_token`` are the only credentials accepted. ``service_number``
    is the number Twilio picks from a Messaging Service's pool for sends that name only
    a ``MessagingServiceSid``; it shows in their status callbacks' ``From``.
    """

    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        *,
        service_number: str = TWILIO_NUMBER,
    ):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.service_number = service_number
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._opted_out: set[str] = set()
        self._templates: dict[str, str] = {}  # Content SID -> approved text with {{1}}...
        self._messages: dict[str, dict[str, Any]] = {}
        self._callbacks: dict[str, str] = {}  # message sid -> StatusCallback URL
        self._senders: dict[str, str] = {}  # message sid -> number it went out from
        self._deliveries: list[StatusDelivery] = []
        self._delay = 0.0
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}"
        self.app = Starlette(
            routes=[
                Route(f"{prefix}/Messages.json", self._messages_endpoint, methods=["POST"]),
                Route(
                    f"{prefix}/Messages/{{message_sid}}.json",
                    self._message_endpoint,
                    methods=["GET"],
                ),
                Route(
                    "/{path:path}",
                    self._not_found,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                ),
            ]
        )
        self._server = LocalServer(self.app, "FakeTwilio")

    # ------------------------------------------------------------------ inspection

    @property
    def root(self) -> str:
        """The REST root, what ``TRYGG_TWILIO_API`` takes: ``http://127.0.0.1:PORT``."""
        return self._server.root

    @property
    def messages_url(self) -> str:
        return f"{self.root}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request, in arrival order (bad auth and 404s included)."""
        with self._lock:
            return list(self._calls)

    def sends(self) -> list[Call]:
        """Every authenticated POST to Messages.json, accepted or not (see ``status``)."""
        return [
            call
            for call in self.calls
            if call.auth_ok and call.method == "POST" and call.path.endswith("/Messages.json")
        ]

    def sent_to(self, number: str) -> list[dict[str, str]]:
        """Form params of each *accepted* send (HTTP 201) to ``number``, in order.

        A send answered with an error never reached the person; ``sends()`` lists every
        attempt with its ``status`` and ``response``.
        """
        return [call.params for call in self.sends() if call.status == 201 and _to(call) == number]

    def bodies_to(self, number: str) -> list[str]:
        """The text each accepted send to ``number`` delivered: its Body, or the body
        Twilio rendered from a template (ContentSid)."""
        return [
            str(call.response["body"])
            for call in self.sends()
            if call.status == 201 and _to(call) == number
        ]

    def message(self, sid: str) -> dict[str, Any] | None:
        """The Message resource as the fake holds it now (after ``deliver_status``)."""
        with self._lock:
            found = self._messages.get(sid)
            return copy.deepcopy(found)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every accepted message, in order of creation."""
        with self._lock:
            return copy.deepcopy(list(self._messages.values()))

    @property
    def deliveries(self) -> list[StatusDelivery]:
        """Status callbacks POSTed so far."""
        with self._lock:
            return list(self._deliveries)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # ------------------------------------------------------------------ clients

    def client(self, http_client: HttpClient | None = None) -> Client:
        """An official ``twilio.rest.Client`` whose Api domain points at this fake.

        Pass ``AsyncTwilioHttpClient()`` (created inside a running event loop) as
        ``http_client`` for ``create_async`` and friends.
        """
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, http_client=http_client)
        # TWILIO_REGION / TWILIO_EDGE from the environment would rewrite the host.
        client.region = None
        client.edge = None
        client.api.base_url = self.root
        return client

    # ------------------------------------------------------------------ scripting

    def fail_next(self, *, status: int, code: int, message: str, times: int = 1) -> None:
        """The next ``times`` authenticated sends get this error instead of a message."""
        with self._lock:
            self._failures.append(_Failure(status, code, message, times))

    def opted_out(self, number: str) -> None:
        """The person texted STOP: every send to them gets 400, code 21610, until opt_in."""
        with self._lock:
            self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self._lock:
            self._opted_out.discard(number)

    def add_template(self, content_sid: str, text: str) -> None:
        """An approved Content Template (WhatsApp): ``{{1}}``, ``{{2}}``... are filled from
        the send's ContentVariables JSON, as Twilio renders it into the message body."""
        with self._lock:
            self._templates[content_sid] = text

    def rate_limit_next(self, times: int = 1) -> None:
        self.fail_next(status=429, code=TOO_MANY_REQUESTS, message="Too Many Requests", times=times)

    def server_error_next(self, times: int = 1, *, status: int = 500) -> None:
        """500 (code 20500) or 503 (code 20503) for the next ``times`` sends."""
        if status == 503:
            self.fail_next(
                status=503, code=SERVICE_UNAVAILABLE, message="Service Unavailable", times=times
            )
        else:
            self.fail_next(
                status=status, code=INTERNAL_ERROR, message="Internal Server Error", times=times
            )

    def slow(self, seconds: float) -> None:
        """Delay every response by ``seconds`` (0 turns it off)."""
        self._delay = seconds

    # ------------------------------------------------------------------ status callbacks

    def status_callback_url(self, sid: str) -> str | None:
        with self._lock:
            return self._callbacks.get(sid)

    def status_params(
        self, sid: str, status: str = "delivered", error_code: int | str | None = None
    ) -> dict[str, str]:
        """The status-callback form Twilio would POST for message ``sid`` (not sent)."""
        with self._lock:
            stored = self._messages.get(sid)
            if stored is None:
                raise KeyError(f"no message {sid}")
            sender = self._senders[sid]
            to = stored["to"]
            service = stored["messaging_service_sid"]
        return status_form(
            message_sid=sid,
            status=status,
            from_=sender,
            to=to,
            error_code=error_code,
            account_sid=self.account_sid,
            messaging_service_sid=service,
        )

    def deliver_status(
        self,
        sid: str,
        status: str = "delivered",
        error_code: int | str | None = None,
        *,
        client: httpx.Client | None = None,
    ) -> int:
        """POST the signed status callback for ``sid`` to its StatusCallback URL.

        Updates the stored message (status, error_code) and returns the HTTP status the
        receiver answered. ``client`` may be any ``httpx.Client``, e.g. one with an
        ``httpx.MockTransport`` so that a public URL such as
        ``https://dialog.example.se/webhooks/sms/status`` is never dialled. Never call this
        from the event loop that serves the receiver (it blocks); use
        ``deliver_status_async`` there.
        """
        url, params, headers = self._prepare_status(sid, status, error_code)
        if client is None:
            with httpx.Client(timeout=10) as own:
                response = own.post(url, content=encode_form(params), headers=headers)
        else:
            response = client.post(url, content=encode_form(params), headers=headers)
        return self._record_delivery(url, params, headers, response.status_code)

    async def deliver_status_async(
        self,
        sid: str,
        status: str = "delivered",
        error_code: int | str | None = None,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> int:
        """``deliver_status`` over ``httpx.AsyncClient`` (e.g. with an ASGITransport)."""
        url, params, headers = self._prepare_status(sid, status, error_code)
        if client is None:
            async with httpx.AsyncClient(timeout=10) as own:
                response = await own.post(url, content=encode_form(params), headers=headers)
        else:
            response = await client.post(url, content=encode_form(params), headers=headers)
        return self._record_delivery(url, params, headers, response.status_code)

    def _prepare_status(
        self, sid: str, status: str, error_code: int | str | None
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        url = self.status_callback_url(sid)
        if url is None:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        params = self.status_params(sid, status, error_code)
        headers = {
            SIGNATURE_HEADER: sign(url, params, self.auth_token),
            "Content-Type": FORM_CONTENT_TYPE,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": new_sid("id"),
        }
        with self._lock:
            stored = self._messages[sid]
            stored["status"] = status
            stored["date_updated"] = rfc2822(datetime.now(UTC))
            if status in ("sent", "delivered") and stored["date_sent"] is None:
                stored["date_sent"] = stored["date_updated"]
            if error_code is not None:
                stored["error_code"] = int(error_code)
        return url, params, headers

    def _record_delivery(
        self, url: str, params: dict[str, str], headers: dict[str, str], status_code: int
    ) -> int:
        with self._lock:
            self._deliveries.append(
                StatusDelivery(url, params, headers[SIGNATURE_HEADER], status_code)
            )
        return status_code

    # ------------------------------------------------------------------ HTTP

    async def _not_found(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        auth_ok = self._auth_ok(request)
        if not auth_ok:
            return self._respond(request, path, {}, (), False, *self._auth_error())
        message = f"The requested resource {path} was not found"
        return self._respond(request, path, {}, (), True, 404, error_body(404, NOT_FOUND, message))

    async def _message_endpoint(self, request: Request) -> Response:
        path = request.url.path
        if not self._auth_ok(request, request.path_params["account_sid"]):
            return self._respond(request, path, {}, (), False, *self._auth_error())
        stored = self.message(request.path_params["message_sid"])
        if stored is None:
            message = f"The requested resource {path} was not found"
            return self._respond(
                request, path, {}, (), True, 404, error_body(404, NOT_FOUND, message)
            )
        return self._respond(request, path, {}, (), True, 200, stored)

    async def _messages_endpoint(self, request: Request) -> Response:
        path = request.url.path
        raw = await request.body()
        if not await self._through_hold(request):
            return JSONResponse({}, status_code=499)  # nobody is listening any more
        form = tuple(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        params: dict[str, str] = dict(parse_qsl(request.url.query, keep_blank_values=True))
        for key, value in form:
            params.setdefault(key, value)
        if not self._auth_ok(request, request.path_params["account_sid"]):
            return self._respond(request, path, params, form, False, *self._auth_error())
        try:
            failure = self._take_failure()
            if failure is not None:
                raise _ApiError(failure.status, failure.code, failure.message)
            status, body = self._create_message(params, form)
        except _ApiError as exc:
            status, body = exc.status, error_body(exc.status, exc.code, exc.message)
        if self._delay:
            await asyncio.sleep(self._delay)
        return self._respond(request, path, params, form, True, status, body)

    def _respond(
        self,
        request: Request,
        path: str,
        params: dict[str, str],
        form: tuple[tuple[str, str], ...],
        auth_ok: bool,
        status: int,
        body: dict[str, Any],
    ) -> Response:
        call = Call(request.method, path, params, auth_ok, status, copy.deepcopy(body), form)
        with self._lock:
            self._calls.append(call)
        return JSONResponse(body, status_code=status)

    def _auth_error(self) -> tuple[int, dict[str, Any]]:
        return 401, error_body(401, AUTHENTICATE, "Authenticate")

    def _auth_ok(self, request: Request, path_sid: str | None = None) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        if user != self.account_sid or password != self.auth_token:
            return False
        # Credentials of one account do not open another's resources. (*guess*: Twilio
        # may answer 404 instead of 401 here; an adapter never sees the difference.)
        return path_sid is None or path_sid == self.account_sid

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            return failure

    def _render_template(self, content_sid: str, variables: str) -> str:
        with self._lock:
            template = self._templates.get(content_sid)
        if template is None:
            raise _ApiError(400, INVALID_CONTENT_SID, "The ContentSid is Invalid")
        try:
            values = json.loads(variables)
        except json.JSONDecodeError:
            values = None
        if not isinstance(values, dict):
            raise _ApiError(400, 21656, "The ContentVariables Parameter is invalid")
        return _fill(template, values)

    def _create_message(
        self, params: dict[str, str], form: tuple[tuple[str, str], ...]
    ) -> tuple[int, dict[str, Any]]:
        to = params.get("To", "")
        sender = params.get("From", "")
        service = params.get("MessagingServiceSid", "")
        body = params.get("Body", "")
        media = [value for key, value in form if key == "MediaUrl"]
        if not to:
            raise _ApiError(400, TO_REQUIRED, "A 'To' phone number is required.")
        if not sender and not service:
            raise _ApiError(400, FROM_REQUIRED, "A 'From' phone number is required.")
        # Twilio accepts Body, MediaUrl or ContentSid; at least one must be there.
        if not body and not media and not params.get("ContentSid"):
            raise _ApiError(400, BODY_REQUIRED, "Message body is required.")
        if not E164.match(to):
            raise _ApiError(400, INVALID_TO, f"Invalid 'To' Phone Number: {to}")
        content_sid = params.get("ContentSid")
        if content_sid:
            body = self._render_template(content_sid, params.get("ContentVariables", "{}"))
        if len(body) > MAX_BODY:
            raise _ApiError(
                400,
                BODY_TOO_LONG,
                "The concatenated message body exceeds the 1600 character limit.",
            )
        with self._lock:
            opted_out = to in self._opted_out
        if opted_out:
            raise _ApiError(400, OPTED_OUT, OPTED_OUT_MESSAGE)
        # Twilio's throughput counts segments (about 10 a second per sender).
        segments = sms_cost(body).segments
        admission = self._admit(to, segments)
        if admission.wait is not None:
            raise _ApiError(429, TOO_MANY_REQUESTS, "Too Many Requests")

        sid = new_sid("MM" if media else "SM")
        now = rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        message: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": str(len(media)),
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if sender else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        with self._lock:
            self._messages[sid] = message
            self._senders[sid] = sender or self.service_number
            callback = params.get("StatusCallback")
            if callback:
                self._callbacks[sid] = callback
        self._accepted(admission, to, segments)
        return 201, copy.deepcopy(message)


def _fill(template: str, variables: dict[str, Any]) -> str:
    for key, value in variables.items():
        template = template.replace("{{" + str(key) + "}}", str(value))
    return template


def _to(call: Call) -> str:
    return call.params.get("To", "")


def parse_form(raw: bytes) -> dict[str, str]:
    """Decode a form-encoded body (as a receiver sees it), keeping empty values."""
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
