"""A local stand-in for Meta's Messenger Platform (Graph API), in its wire format.

We fake the provider, never our own code: ``FakeGraphApi`` is a real HTTP server (Starlette
served by uvicorn in a background thread on 127.0.0.1) that answers the two Graph
endpoints a Messenger bot uses, under any version ``v{N}.{M}``:

- ``POST {root}/v{N}.{M}/me/messages?access_token=PAGE_TOKEN`` (the Send API; also
  ``/{PAGE_ID}/messages``) with ``{"recipient": {"id": PSID}, "messaging_type": ...,
  "message": {...}}`` or ``{"recipient": ..., "sender_action": "typing_on"}``, answering
  200 ``{"recipient_id", "message_id"}``;
- ``GET/POST/DELETE {root}/v{N}.{M}/me/messenger_profile`` (Get Started, persistent menu,
  greeting), answering ``{"result": "success"}`` or ``{"data": [{...}]}``.

Errors come as Graph writes them: HTTP 400 (500 for Meta's own failures) and
``{"error": {"message", "type", "code", "error_subcode"?, "is_transient"?, "fbtrace_id"}}``.
The 24-hour window is enforced: a RESPONSE or UPDATE send to a PSID that has not written
to the page within 24 hours (``user_wrote``, or any ``deliver`` of its events) gets code 10,
subcode 2018278; the fake's clock is ``fake.clock`` so tests can move time.

Every request is recorded as a ``Call``. Sends can be scripted to fail (``fail_next``,
``rate_limit_next``, ``unavailable_next``, ``server_error_next``, ``blocked``), and the
webhook side is driven from here too: ``deliver`` POSTs a delivery as Meta does (the raw
bytes of ``signing.encode``, signed with ``X-Hub-Signature-256``) and ``verify`` performs
Meta's ``hub.challenge`` GET.

Sources: the Messenger Platform docs (developers.facebook.com/docs/messenger-platform):
Send API reference and its error-codes page (codes 2, 10/2018278, 100/2018001,
100/2018145, 190, 551/1545041, 613), quick replies (13 at most, 20-character titles,
1000-character payloads), messaging types and message tags (HUMAN_AGENT: 7 days), the
Messenger Profile API (get_started, greeting, persistent_menu: 20 items) and the postback
button (1000-character payload). Error texts were checked against what the API is seen to
answer in public bug reports where possible; the rest are marked *guess*. Tests should
match on HTTP status, ``code`` and ``error_subcode``, never on whole messages.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.bots.facebook.signing import (
    APP_SECRET,
    PAGE_ID,
    PAGE_TOKEN,
    SIGNATURE_HEADER,
    USER_AGENT,
    VERIFY_TOKEN,
    encode,
    inbound_psids,
    new_mid,
    signed_headers,
)
from tests.bots.local_server import FakeProvider, LocalServer

DEFAULT_VERSION = "v21.0"
VERSION = re.compile(r"^v\d+\.\d+$")

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
MAX_MENU_ITEMS = 20
MAX_MENU_TITLE = 30  # persistent menu reference; *guess* that Graph rejects rather than cuts
MAX_GREETING = 160
WINDOW = 24 * 3600.0
HUMAN_AGENT_WINDOW = 7 * 24 * 3600.0

MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
MESSAGE_TAGS = frozenset(
    {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"}
)
SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen"})
QUICK_REPLY_TYPES = frozenset({"text", "user_phone_number", "user_email"})
ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file", "template"})
MENU_BUTTON_TYPES = frozenset({"postback", "web_url"})
PROFILE_FIELDS = (
    "get_started",
    "greeting",
    "persistent_menu",
    "ice_breakers",
    "whitelisted_domains",
    "account_linking_url",
    "commands",
)

# Graph error codes the fake answers with (see the module docstring for sources).
SERVICE_ERROR = 2  # HTTP 500 (*guess* at the status), is_transient true
OUTSIDE_WINDOW = 10  # with OUTSIDE_WINDOW_SUBCODE
OUTSIDE_WINDOW_SUBCODE = 2018278
INVALID_PARAMETER = 100
NO_MATCHING_USER_SUBCODE = 2018001  # with code 100
NO_GET_STARTED_SUBCODE = 2018145  # with code 100, persistent menu without Get Started
UNSUPPORTED_METHOD_SUBCODE = 33  # with code 100, GraphMethodException
INVALID_TOKEN = 190
NO_ACTIVE_TOKEN = 2500  # no token at all; also "Unknown path components"
UNAVAILABLE = 551  # with UNAVAILABLE_SUBCODE: blocked the page, or messages turned off
UNAVAILABLE_SUBCODE = 1545041
RATE_LIMITED = 613  # the Send API's own limit; code 4 is the app-wide one

OUTSIDE_WINDOW_MESSAGE = (
    "(#10) This message is sent outside of allowed window. Learn more about the new policy "
    "here: https://developers.facebook.com/docs/messenger-platform/policy-overview"
)
UNAVAILABLE_MESSAGE = "(#551) This person isn't available right now."
RATE_LIMIT_MESSAGE = "(#613) Calls to this api have exceeded the rate limit."
SERVICE_ERROR_MESSAGE = "An unexpected error has occurred. Please retry your request later."
INVALID_TOKEN_MESSAGE = "Invalid OAuth access token - Cannot parse access token"
NO_ACTIVE_TOKEN_MESSAGE = (
    "An active access token must be used to query information about the current user."
)
NO_GET_STARTED_MESSAGE = (
    "(#100) You must set a Get Started button if you also wish to use persistent menu."
)


def new_fbtrace_id() -> str:
    """Like ``A9xnjd1iwrUx8qFJt1sld_Q``: 23 url-safe characters."""
    return "A" + secrets.token_urlsafe(17)[:22]


def error_body(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    type: str = "OAuthException",
    is_transient: bool | None = None,
) -> dict[str, Any]:
    """Graph's error JSON, keys in the order Graph writes them."""
    error: dict[str, Any] = {"message": message, "type": type}
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["code"] = code
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = new_fbtrace_id()
    return {"error": error}


@dataclass(frozen=True)
class Call:
    """One request to the fake, as Graph would have read it."""

    method: str  # HTTP method
    path: str  # e.g. "/v21.0/me/messages"
    query: dict[str, str]  # access_token included, as sent
    body: Any  # the JSON body (form bodies decoded alike), or None when empty or unreadable
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    token_ok: bool = False

    @property
    def version(self) -> str | None:
        """``v21.0`` for ``/v21.0/me/messages``; None for an unversioned path."""
        return parse_path(self.path)[0]


@dataclass(frozen=True)
class Delivery:
    """One webhook POST the fake made, and how the receiver answered."""

    url: str
    body: bytes  # the raw bytes, exactly as signed
    signature: str  # the X-Hub-Signature-256 sent
    status_code: int


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    subcode: int | None
    type: str
    is_transient: bool | None
    remaining: int


class GraphError(Exception):
    """Raised inside a handler; becomes Graph's error JSON."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",
        is_transient: bool | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body = error_body(code, message, subcode=subcode, type=type, is_transient=is_transient)


def _bad(message: str, subcode: int | None = None) -> GraphError:
    """A code-100 parameter error. Wordings follow Graph's ``(#100) param ...`` style;
    those not seen in public reports are *guess*."""
    return GraphError(400, INVALID_PARAMETER, f"(#100) {message}", subcode=subcode)


class FakeGraphApi(FakeProvider):
    """Meta's Graph API for one page's Messenger bot, on a free local port.

    ``page_token`` is the only access token accepted, ``app_secret`` signs ``deliver``
    and ``verify_token`` is what ``verify`` sends by default. ``version`` is only used
    to build ``messages_url``; every ``v{N}.{M}`` in a path is accepted.
    ``enforce_window=False`` turns the 24-hour window off (every send in time).
    """

    def __init__(
        self,
        page_token: str = PAGE_TOKEN,
        app_secret: str = APP_SECRET,
        *,
        version: str = DEFAULT_VERSION,
        page_id: str = PAGE_ID,
        verify_token: str = VERIFY_TOKEN,
        enforce_window: bool = True,
    ):
        super().__init__()
        self.page_token = page_token
        self.app_secret = app_secret
        self.version = version
        self.page_id = page_id
        self.verify_token = verify_token
        self.enforce_window = enforce_window
        self.clock: Callable[[], float] = time.time
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._blocked: set[str] = set()
        self._last_inbound: dict[str, float] = {}
        self._profile: dict[str, Any] = {}
        self._deliveries: list[Delivery] = []
        self._delay = 0.0
        methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=methods)])
        self._server = LocalServer(self.app, "FakeGraphApi")

    # ------------------------------------------------------------------ inspection

    @property
    def root(self) -> str:
        """What ``TRYGG_FACEBOOK_API`` takes: ``http://127.0.0.1:PORT``; requests go to
        ``{root}/v{N}.{M}/me/messages``."""
        return self._server.root

    @property
    def messages_url(self) -> str:
        return f"{self.root}/{self.version}/me/messages"

    @property
    def profile_url(self) -> str:
        return f"{self.root}/{self.version}/me/messenger_profile"

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request, in arrival order (bad tokens and 404s included)."""
        with self._lock:
            return list(self._calls)

    def sends(self) -> list[Call]:
        """Every POST to the Send API with the right token, accepted or not (see
        ``status``): messages and sender actions alike."""
        return [
            call
            for call in self.calls
            if call.token_ok
            and call.method == "POST"
            and _edge(call.path, self.page_id) == "messages"
        ]

    def sent_to(self, psid: str) -> list[dict[str, Any]]:
        """The ``message`` object of each *accepted* send (HTTP 200) to ``psid``, in
        order. A send answered with an error never reached the person, and sender actions
        are not messages; ``sends()`` lists every attempt with its ``status``."""
        return [
            copy.deepcopy(call.body["message"])
            for call in self._accepted_messages()
            if _recipient(call) == psid
        ]

    def texts_to(self, psid: str) -> list[str]:
        """The text of each accepted message to ``psid`` (attachments have none)."""
        return [str(message["text"]) for message in self.sent_to(psid) if "text" in message]

    def message_ids_to(self, psid: str) -> list[str]:
        """The ``message_id`` Graph answered for each accepted message to ``psid`` (what a
        later ``delivery_event`` reports in ``mids``)."""
        return [
            str(call.response["message_id"])
            for call in self._accepted_messages()
            if _recipient(call) == psid
        ]

    def actions_to(self, psid: str) -> list[str]:
        """Accepted sender actions (typing_on, typing_off, mark_seen) to ``psid``."""
        return [
            str(call.body["sender_action"])
            for call in self.sends()
            if call.status == 200
            and isinstance(call.body, dict)
            and "sender_action" in call.body
            and _recipient(call) == psid
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def profile(self) -> dict[str, Any]:
        """The Messenger Profile as set so far (get_started, persistent_menu, ...)."""
        with self._lock:
            return copy.deepcopy(self._profile)

    @property
    def deliveries(self) -> list[Delivery]:
        """Webhook POSTs made by ``deliver`` so far."""
        with self._lock:
            return list(self._deliveries)

    def last_inbound(self, psid: str) -> float | None:
        """When ``psid`` last wrote to the page (the fake's clock), or None."""
        with self._lock:
            return self._last_inbound.get(psid)

    # ------------------------------------------------------------------ scripting

    def user_wrote(self, psid: str, at: float | None = None) -> None:
        """``psid`` wrote to the page at ``at`` (default: ``clock()``), opening the 24-hour
        window. ``deliver`` does this itself for every person acting in its payload."""
        moment = self.clock() if at is None else at
        with self._lock:
            self._last_inbound[psid] = moment

    def record_inbound(self, payload: Mapping[str, Any]) -> list[str]:
        """``user_wrote`` for every person who acted in a delivery (messages, postbacks,
        referrals; not echoes, deliveries or reads). For tests that POST deliveries
        themselves instead of through ``deliver``. Returns those PSIDs."""
        found = inbound_psids(payload)
        for psid in found:
            self.user_wrote(psid)
        return found

    def fail_next(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` message sends (not sender actions, not profile calls) with
        the right token get this error instead, before any validation."""
        failure = _Failure(status, code, message, subcode, type, is_transient, times)
        with self._lock:
            self._failures.append(failure)

    def rate_limit_next(self, times: int = 1) -> None:
        """Code 613, the Send API's rate limit (HTTP 400; *guess* at the status)."""
        self.fail_next(400, RATE_LIMITED, RATE_LIMIT_MESSAGE, times=times)

    def unavailable_next(self, times: int = 1) -> None:
        """Code 551 / 1545041 for the next sends: the person blocked the page or turned
        its messages off (Meta does not say which). HTTP 400 (*guess*)."""
        self.fail_next(
            400, UNAVAILABLE, UNAVAILABLE_MESSAGE, subcode=UNAVAILABLE_SUBCODE, times=times
        )

    def server_error_next(self, times: int = 1) -> None:
        """HTTP 500, code 2, ``is_transient`` true: Meta's own failure; retry later."""
        self.fail_next(500, SERVICE_ERROR, SERVICE_ERROR_MESSAGE, is_transient=True, times=times)

    def blocked(self, psid: str) -> None:
        """The person blocked the page: every send to ``psid`` gets 551 / 1545041 from now
        on, until ``unblocked``."""
        with self._lock:
            self._blocked.add(psid)

    def unblocked(self, psid: str) -> None:
        with self._lock:
            self._blocked.discard(psid)

    def slow(self, seconds: float) -> None:
        """Delay every response by ``seconds`` (0 turns it off)."""
        self._delay = seconds

    # ------------------------------------------------------------------ webhook side

    def deliver(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        secret: str | None = None,
        client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
        record_inbound: bool = True,
        escape_slashes: bool = False,
    ) -> httpx.Response:
        """POST ``payload`` to ``url`` as Meta delivers it: the raw bytes of
        ``signing.encode``, signed with ``app_secret`` (or ``secret``, to forge one).

        The people acting in it are first noted with ``user_wrote`` (as Meta knows they
        wrote before it tells us), so a reply sent while the webhook is handled is in
        the window. ``headers`` adds or overrides headers (e.g. drop the signature with
        ``{SIGNATURE_HEADER: ""}``). ``client`` may be any ``httpx.Client`` (e.g. one
        with a ``MockTransport``). Blocks: never call it from the event loop that serves
        the receiver; use ``deliver_async`` there.
        """
        body, sent_headers = self._prepare_delivery(
            payload, secret, headers, record_inbound, escape_slashes
        )
        if client is None:
            with httpx.Client(timeout=10) as own:
                response = own.post(url, content=body, headers=sent_headers)
        else:
            response = client.post(url, content=body, headers=sent_headers)
        self._record_delivery(url, body, sent_headers, response.status_code)
        return response

    async def deliver_async(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        secret: str | None = None,
        client: httpx.AsyncClient | None = None,
        headers: Mapping[str, str] | None = None,
        record_inbound: bool = True,
        escape_slashes: bool = False,
    ) -> httpx.Response:
        """``deliver`` over ``httpx.AsyncClient`` (e.g. with an ``ASGITransport``)."""
        body, sent_headers = self._prepare_delivery(
            payload, secret, headers, record_inbound, escape_slashes
        )
        if client is None:
            async with httpx.AsyncClient(timeout=10) as own:
                response = await own.post(url, content=body, headers=sent_headers)
        else:
            response = await client.post(url, content=body, headers=sent_headers)
        self._record_delivery(url, body, sent_headers, response.status_code)
        return response

    def verify(
        self,
        url: str,
        mode: str = "subscribe",
        token: str | None = None,
        challenge: str | None = None,
        *,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        """Meta's verification GET: ``?hub.mode=&hub.verify_token=&hub.challenge=``.
        The receiver must answer 200 with the challenge as its body when the token is
        right (403 otherwise). ``token`` defaults to ``verify_token``; ``challenge`` to a
        random number, as Meta sends."""
        params = {
            "hub.mode": mode,
            "hub.verify_token": self.verify_token if token is None else token,
            "hub.challenge": challenge or str(secrets.randbelow(9 * 10**9) + 10**9),
        }
        headers = {"User-Agent": USER_AGENT}
        if client is None:
            with httpx.Client(timeout=10) as own:
                return own.get(url, params=params, headers=headers)
        return client.get(url, params=params, headers=headers)

    def _prepare_delivery(
        self,
        payload: Mapping[str, Any],
        secret: str | None,
        headers: Mapping[str, str] | None,
        record_inbound: bool,
        escape_slashes: bool,
    ) -> tuple[bytes, dict[str, str]]:
        body = encode(payload, escape_slashes=escape_slashes)
        sent = signed_headers(body, self.app_secret if secret is None else secret)
        sent["User-Agent"] = USER_AGENT
        for key, value in (headers or {}).items():
            sent = {name: old for name, old in sent.items() if name.lower() != key.lower()}
            if value:
                sent[key] = value
        if record_inbound:
            self.record_inbound(payload)
        return body, sent

    def _record_delivery(
        self, url: str, body: bytes, headers: Mapping[str, str], status_code: int
    ) -> None:
        signature = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
            "",
        )
        with self._lock:
            self._deliveries.append(Delivery(url, body, signature, status_code))

    # ------------------------------------------------------------------ HTTP

    async def _endpoint(self, request: Request) -> Response:
        path = request.url.path
        query = dict(request.query_params)
        raw = await request.body()
        if not await self._through_hold(request):
            return JSONResponse({}, status_code=499)  # nobody is listening any more
        body, readable = _read_body(request.headers.get("content-type", ""), raw)
        token = self._token(request, query, body)
        token_ok = token == self.page_token
        try:
            if not token:
                raise GraphError(400, NO_ACTIVE_TOKEN, NO_ACTIVE_TOKEN_MESSAGE)
            if not token_ok:
                raise GraphError(400, INVALID_TOKEN, INVALID_TOKEN_MESSAGE)
            status, answer = self._route(request.method, path, query, body, readable)
        except GraphError as exc:
            status, answer = exc.status, exc.body
        if self._delay:
            await asyncio.sleep(self._delay)
        call = Call(request.method, path, query, body, status, copy.deepcopy(answer), token_ok)
        with self._lock:
            self._calls.append(call)
        headers: dict[str, str] = {}
        if "error" in answer:
            headers["x-fb-trace-id"] = str(answer["error"]["fbtrace_id"])
        return JSONResponse(answer, status_code=status, headers=headers)

    def _token(self, request: Request, query: dict[str, str], body: Any) -> str:
        """Graph takes the token from the query, a body parameter or the Authorization
        header (``Bearer``/``OAuth``; *guess* that both schemes work on every edge)."""
        if query.get("access_token"):
            return query["access_token"]
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            return str(body["access_token"])
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("bearer", "oauth"):
            return value.strip()
        return ""

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, readable: bool
    ) -> tuple[int, dict[str, Any]]:
        _version, node, rest = parse_path(path)
        if node not in ("me", self.page_id):
            raise _unsupported(method, node)
        edge = rest[0] if len(rest) == 1 else ""
        if edge not in ("messages", "messenger_profile"):
            # Graph's answer for an unknown edge (and for a wrong version, as in
            # "/v2.80/me/messages", which is also how bug reports show it).
            raise GraphError(400, NO_ACTIVE_TOKEN, "Unknown path components: /" + "/".join(rest))
        if method not in (("POST",) if edge == "messages" else ("GET", "POST", "DELETE")):
            raise _unsupported(method, node)
        if method == "GET":
            return 200, self._get_profile(query)
        if not readable or not isinstance(body, dict):
            raise _bad("The request body could not be read as JSON")  # *guess*
        if edge == "messages":
            return 200, self._send(body)
        if method == "DELETE":
            return 200, self._delete_profile(body)
        return 200, self._set_profile(body)

    # ------------------------------------------------------------------ Send API

    def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        if "message" in params:
            failure = self._take_failure()
            if failure is not None:
                raise GraphError(
                    failure.status,
                    failure.code,
                    failure.message,
                    subcode=failure.subcode,
                    type=failure.type,
                    is_transient=failure.is_transient,
                )
        psid = _check_recipient(params.get("recipient"))
        message, action = params.get("message"), params.get("sender_action")
        if message is not None and action is not None:
            raise _bad("Cannot send both message and state at the same time.")
        if message is None and action is None:
            raise _bad("Must send either message or state")  # *guess*
        admission = self._admit(psid) if message is not None else None
        if admission is not None and admission.wait is not None:
            # The Send API's own limit (code 613; about 300 sends a second per page).
            raise GraphError(400, RATE_LIMITED, RATE_LIMIT_MESSAGE)
        if action is not None:
            if action not in SENDER_ACTIONS:
                raise _bad(f"param sender_action must be one of {_one_of(SENDER_ACTIONS)}")
            self._check_reachable(psid)
            # *guess*: sender actions are not held to the window here.
            return {"recipient_id": psid}
        _check_message(message)
        messaging_type, tag = _check_messaging_type(params)
        self._check_reachable(psid)
        self._check_window(psid, messaging_type, tag)
        if admission is not None:
            self._accepted(admission, psid)
        return {"recipient_id": psid, "message_id": new_mid()}

    def _check_reachable(self, psid: str) -> None:
        with self._lock:
            blocked = psid in self._blocked
        if blocked:
            raise GraphError(400, UNAVAILABLE, UNAVAILABLE_MESSAGE, subcode=UNAVAILABLE_SUBCODE)

    def _check_window(self, psid: str, messaging_type: str, tag: str | None) -> None:
        if not self.enforce_window:
            return
        if messaging_type == "MESSAGE_TAG":
            if tag != "HUMAN_AGENT":
                return  # the other tags may be sent any time (their content is policy)
            limit = HUMAN_AGENT_WINDOW
        else:
            limit = WINDOW
        last = self.last_inbound(psid)
        if last is None or self.clock() - last > limit:
            raise GraphError(
                400, OUTSIDE_WINDOW, OUTSIDE_WINDOW_MESSAGE, subcode=OUTSIDE_WINDOW_SUBCODE
            )

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            return failure

    def _accepted_messages(self) -> list[Call]:
        return [
            call
            for call in self.sends()
            if call.status == 200 and isinstance(call.body, dict) and "message" in call.body
        ]

    # ------------------------------------------------------------------ Messenger Profile

    def _set_profile(self, params: dict[str, Any]) -> dict[str, Any]:
        fields = {key: value for key, value in params.items() if key != "access_token"}
        unknown = sorted(set(fields) - set(PROFILE_FIELDS))
        if unknown:
            raise _bad(f"Param {unknown[0]} is not supported")  # *guess*
        if not fields:
            raise _bad(f"Requires one of the params: {','.join(PROFILE_FIELDS)}")  # *guess*
        if "get_started" in fields:
            _check_get_started(fields["get_started"])
        if "greeting" in fields:
            _check_greeting(fields["greeting"])
        if "persistent_menu" in fields:
            with self._lock:
                has_get_started = "get_started" in self._profile
            if not has_get_started and "get_started" not in fields:
                raise GraphError(
                    400, INVALID_PARAMETER, NO_GET_STARTED_MESSAGE, subcode=NO_GET_STARTED_SUBCODE
                )
            _check_menu(fields["persistent_menu"])
        with self._lock:
            self._profile.update(copy.deepcopy(fields))
        return {"result": "success"}

    def _get_profile(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = [name.strip() for name in query.get("fields", "").split(",") if name.strip()]
        if not wanted:
            raise _bad("The parameter fields is required")  # *guess*
        with self._lock:
            found = {
                name: copy.deepcopy(self._profile[name]) for name in wanted if name in self._profile
            }
        return {"data": [found] if found else []}

    def _delete_profile(self, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("fields")
        if not isinstance(names, list) or not names:
            raise _bad("The parameter fields is required")  # *guess*
        with self._lock:
            for name in names:
                self._profile.pop(str(name), None)
        return {"result": "success"}


# ---------------------------------------------------------------------- validation


def _one_of(values: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(values)) + "}"


def _check_recipient(recipient: Any) -> str:
    if recipient is None:
        raise _bad("The parameter recipient is required")
    if not isinstance(recipient, dict) or "id" not in recipient:
        raise _bad("param recipient must be an object with an id")  # *guess*
    psid = str(recipient["id"])
    if not psid.isdigit():
        raise _bad("No matching user found", NO_MATCHING_USER_SUBCODE)
    return psid


def _check_message(message: Any) -> None:
    if not isinstance(message, dict):
        raise _bad("param message must be an object")  # *guess*
    text, attachment = message.get("text"), message.get("attachment")
    if text is not None and attachment is not None:
        raise _bad("Only one of text or attachment can be sent")  # *guess*
    if text is None and attachment is None:
        raise _bad("param message must have text or attachment")  # *guess*
    if text is not None:
        if not isinstance(text, str) or not text:
            raise _bad("param message[text] must be a non-empty UTF-8 encoded string")  # *guess*
        # *guess*: counted in code points; Meta does not say how it counts.
        if len(text) > MAX_TEXT:
            raise _bad(f"Length of param message[text] must be less than or equal to {MAX_TEXT}")
    if attachment is not None:
        if not isinstance(attachment, dict) or attachment.get("type") not in ATTACHMENT_TYPES:
            raise _bad(
                f"param message[attachment][type] must be one of {_one_of(ATTACHMENT_TYPES)}"
            )
        if not isinstance(attachment.get("payload"), dict):
            raise _bad("param message[attachment][payload] must be an object")  # *guess*
    metadata = message.get("metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > MAX_PAYLOAD):
        raise _bad(f"param message[metadata] must be at most {MAX_PAYLOAD} characters")
    if "quick_replies" in message:
        _check_quick_replies(message["quick_replies"])


def _check_quick_replies(replies: Any) -> None:
    if not isinstance(replies, list) or not replies:
        raise _bad("param message[quick_replies] must be a non-empty array")  # *guess*
    if len(replies) > MAX_QUICK_REPLIES:
        raise _bad(f"param message[quick_replies] must have at most {MAX_QUICK_REPLIES} elements")
    for index, reply in enumerate(replies):
        where = f"message[quick_replies][{index}]"
        if not isinstance(reply, dict) or reply.get("content_type") not in QUICK_REPLY_TYPES:
            raise _bad(f"param {where}[content_type] must be one of {_one_of(QUICK_REPLY_TYPES)}")
        if reply["content_type"] != "text":
            continue
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not title:
            raise _bad(f"param {where}[title] must be non-empty")
        # *guess*: Meta documents 20 characters; apps report it may cut longer titles
        # instead of rejecting them. The fake rejects, so a long title shows up in tests.
        if len(title) > MAX_QUICK_REPLY_TITLE:
            raise _bad(f"param {where}[title] must be at most {MAX_QUICK_REPLY_TITLE} characters")
        if not isinstance(payload, str | int) or isinstance(payload, bool) or payload == "":
            raise _bad(f"param {where}[payload] must be non-empty")
        if len(str(payload)) > MAX_PAYLOAD:
            raise _bad(f"param {where}[payload] must be at most {MAX_PAYLOAD} characters")


def _check_messaging_type(params: dict[str, Any]) -> tuple[str, str | None]:
    messaging_type, tag = params.get("messaging_type"), params.get("tag")
    if messaging_type is None:
        # The Send API reference marks it required (*guess* at the wording).
        raise _bad("The parameter messaging_type is required")
    if messaging_type not in MESSAGING_TYPES:
        raise _bad(f"param messaging_type must be one of {_one_of(MESSAGING_TYPES)}")
    if messaging_type == "MESSAGE_TAG":
        if tag is None:
            raise _bad("Tag is required for MESSAGE_TAG messaging type")  # *guess*
        if tag not in MESSAGE_TAGS:
            raise _bad("Invalid tag.")
    elif tag is not None:
        raise _bad("Messaging type should be MESSAGE_TAG for tagged messages.")
    return str(messaging_type), None if tag is None else str(tag)


def _check_get_started(value: Any) -> None:
    payload = value.get("payload") if isinstance(value, dict) else None
    if not isinstance(payload, str) or not payload:
        raise _bad("param get_started[payload] must be non-empty")  # *guess*
    if len(payload) > MAX_PAYLOAD:
        raise _bad(f"param get_started[payload] must be at most {MAX_PAYLOAD} characters")


def _check_locales(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise _bad(f"param {name} must be a non-empty array of objects")  # *guess*
    # Both references require an entry for the "default" locale (*guess* at the wording).
    if not any(item.get("locale") == "default" for item in value):
        raise _bad(f"param {name} must have an entry with locale default")
    return value


def _check_greeting(value: Any) -> None:
    for index, item in enumerate(_check_locales(value, "greeting")):
        text = item.get("text")
        if not isinstance(text, str) or not text or len(text) > MAX_GREETING:
            raise _bad(f"param greeting[{index}][text] must be 1 to {MAX_GREETING} characters")


def _check_menu(value: Any) -> None:
    for index, menu in enumerate(_check_locales(value, "persistent_menu")):
        where = f"persistent_menu[{index}]"
        disabled = menu.get("composer_input_disabled", False)
        if not isinstance(disabled, bool):
            raise _bad(f"param {where}[composer_input_disabled] must be a boolean")
        items = menu.get("call_to_actions")
        if not isinstance(items, list) or not items:
            raise _bad(f"param {where}[call_to_actions] must be a non-empty array")  # *guess*
        if len(items) > MAX_MENU_ITEMS:
            raise _bad(
                f"param {where}[call_to_actions] must have at most {MAX_MENU_ITEMS} elements"
            )
        for number, item in enumerate(items):
            at = f"{where}[call_to_actions][{number}]"
            if not isinstance(item, dict) or item.get("type") not in MENU_BUTTON_TYPES:
                raise _bad(f"param {at}[type] must be one of {_one_of(MENU_BUTTON_TYPES)}")
            title = item.get("title")
            if not isinstance(title, str) or not title or len(title) > MAX_MENU_TITLE:
                raise _bad(f"param {at}[title] must be 1 to {MAX_MENU_TITLE} characters")
            if item["type"] == "postback":
                payload = item.get("payload")
                if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
                    raise _bad(f"param {at}[payload] must be 1 to {MAX_PAYLOAD} characters")
            elif not isinstance(item.get("url"), str) or not item["url"]:
                raise _bad(f"param {at}[url] must be a URL")


# ---------------------------------------------------------------------- helpers


def _read_body(content_type: str, raw: bytes) -> tuple[Any, bool]:
    """Decode a request body; ``(None, True)`` when empty, ``(None, False)`` when bad.

    Graph takes JSON bodies and form bodies whose object and array values are JSON
    strings (what the SDKs send); both come out as the same dict.
    """
    if not raw.strip():
        return None, True
    if "application/x-www-form-urlencoded" in content_type:
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None, False
        return {key: _form_value(value) for key, value in pairs}, True
    try:
        return json.loads(raw), True
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, False


def _form_value(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_path(path: str) -> tuple[str | None, str, list[str]]:
    """``/v21.0/me/messages`` -> ``("v21.0", "me", ["messages"])``. Without a version
    Graph serves its oldest one; the fake accepts that too."""
    parts = [part for part in path.split("/") if part]
    version = parts.pop(0) if parts and VERSION.match(parts[0]) else None
    node = parts.pop(0) if parts else ""
    return version, node, parts


def _edge(path: str, page_id: str) -> str | None:
    """``messages`` for ``/v21.0/me/messages`` (or ``/{page_id}/messages``), else None."""
    _version, node, rest = parse_path(path)
    return rest[0] if node in ("me", page_id) and len(rest) == 1 else None


def _unsupported(method: str, node: str) -> GraphError:
    """Graph's answer for a method an object does not support, or an unknown object."""
    return GraphError(
        400,
        INVALID_PARAMETER,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=UNSUPPORTED_METHOD_SUBCODE,
        type="GraphMethodException",
    )


def _recipient(call: Call) -> str | None:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
        return None
    found = body["recipient"].get("id")
    return None if found is None else str(found)
