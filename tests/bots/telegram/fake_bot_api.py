"""A local stand-in for the Telegram Bot API that speaks its wire format.

We fake the provider, never our own code: ``FakeBotApi`` is a real HTTP server (Starlette
served by uvicorn in a background thread on 127.0.0.1) at ``{root}/bot{token}/{method}``,
answering with the Bot API's envelope, results and error descriptions. Point the adapter
(``TRYGG_TELEGRAM_API``) or ``telegram.Bot(token, base_url=f"{root}/bot")`` at it.

Requests are accepted as ``application/json``, ``application/x-www-form-urlencoded`` (what
python-telegram-bot sends: every value a string, complex ones JSON-encoded) and
``multipart/form-data`` (uploads), plus the query string. Each request that carries the
right token is recorded as a ``Call`` with decoded parameters: numeric ids become ints,
``true``/``false`` become bools, and the JSON strings of ``reply_markup``,
``allowed_updates``, ``entities`` and friends become objects.

Sources: https://core.telegram.org/bots/api (Making requests, Update, Message,
sendMessage, editMessage*, setWebhook, getUpdates, InlineKeyboardButton) and the error
descriptions the real server gives. Where the docs do not spell out an error's wording,
the text here is the one the server is commonly seen to answer; tests should match on
the status code and distinctive words, not on whole descriptions.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Self

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.bots.local_server import FakeProvider, LocalServer, retry_seconds

DEFAULT_TOKEN = "123456:TEST-token"

BOT_ID = 7000000001
BOT_USERNAME = "TryggKarlslundBot"
BOT_FIRST_NAME = "Trygg"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": BOT_FIRST_NAME,
    "username": BOT_USERNAME,
}
GET_ME: dict[str, Any] = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Form values are strings; these are decoded the way the Bot API reads them.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "media",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
    }
)
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# The methods that send a message: what Telegram's limits (and ``enforce_rate``) count.
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto"})
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
INTEGER = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class Call:
    """One request to the fake, as the Bot API would have read it."""

    method: str  # canonical spelling when the method is known, e.g. "sendMessage"
    params: dict[str, Any]
    http_method: str = "POST"
    content_type: str = ""
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int


class ApiError(Exception):
    """Raised inside a method handler; becomes the Bot API's error envelope."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def error_body(
    status: int, description: str, parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = dict(parameters)
    return body


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi(FakeProvider):
    """A Telegram Bot API server on a free local port. See the module docstring."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, require_https_webhook: bool = True):
        super().__init__()
        self._token = token
        self.require_https_webhook = require_https_webhook
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._blocked: set[int | str] = set()
        self._delay = 0.0
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._webhook: dict[str, Any] = {}
        self._webhook_error: tuple[int, str] | None = None
        self._stopping = threading.Event()  # ends long-polling getUpdates on stop
        self._methods = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._true,
            "setMyCommands": self._true,
            "deleteMyCommands": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
        }
        # Bot API method names are case-insensitive.
        self._by_lower = {name.lower(): name for name in self._methods}
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )
        self._server = LocalServer(self.app, "FakeBotApi")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        self._stopping.clear()  # long polls wait on this; stop() releases them
        return super().start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    # ------------------------------------------------------------------ inspection

    @property
    def root(self) -> str:
        """E.g. ``http://127.0.0.1:41234``; requests go to ``{root}/bot{token}/{method}``."""
        return self._server.root

    @property
    def token(self) -> str:
        return self._token

    @property
    def base_url(self) -> str:
        """What ``telegram.Bot(token, base_url=...)`` wants: ``{root}/bot``."""
        return f"{self.root}/bot"

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request made with the right token, in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        name = self._canonical(method)
        return [call for call in self.calls if call.method == name]

    def sent_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Params of each sendMessage / sendPhoto the chat received, in order.

        Only accepted sends count (HTTP 200): a call answered with 429, 403 or 400 never
        reached the person. ``calls_of`` lists every attempt, with its ``status``.
        """
        wanted = _chat_key(chat_id)
        return [
            call.params
            for call in self.calls
            if call.method in ("sendMessage", "sendPhoto")
            and call.status == 200
            and _chat_key(call.params.get("chat_id")) == wanted
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def webhook(self) -> dict[str, Any]:
        """The current webhook: url, secret_token, allowed_updates, ... ({} when none)."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """The message as the server holds it now (after edits), or None."""
        with self._lock:
            found = self._messages.get((_chat_key(chat_id), message_id))
            return copy.deepcopy(found)

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` get this error instead of their result."""
        failure = _Failure(status, description, retry_after, times)
        with self._lock:
            self._failures.setdefault(self._canonical(method), []).append(failure)

    def rate_limit_next(self, method: str = "sendMessage", retry_after: int = 3) -> None:
        self.fail_next(
            method,
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )

    def block(self, chat_id: int | str) -> None:
        """The person blocked the bot: every send to the chat gets 403 until ``unblock``."""
        with self._lock:
            self._blocked.add(_chat_key(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(_chat_key(chat_id))

    def slow(self, seconds: float) -> None:
        """Delay every response by ``seconds`` (0 turns it off)."""
        self._delay = seconds

    def queue_updates(self, updates: Iterable[Mapping[str, Any]]) -> None:
        """Updates that getUpdates hands out (each needs an ``update_id``)."""
        with self._lock:
            self._updates.extend(copy.deepcopy(dict(update)) for update in updates)
            self._updates.sort(key=lambda update: update["update_id"])

    def seed_message(self, message: Mapping[str, Any]) -> None:
        """Make a message known, e.g. the one a fixture's callback_query points at."""
        stored = copy.deepcopy(dict(message))
        key = _chat_key(stored["chat"]["id"])
        with self._lock:
            self._messages[(key, stored["message_id"])] = stored
            self._next_message_id[key] = max(
                self._next_message_id.get(key, 1), stored["message_id"] + 1
            )

    def set_webhook_error(self, message: str, date: int | None = None) -> None:
        """What getWebhookInfo reports as the last delivery error."""
        with self._lock:
            self._webhook_error = (date if date is not None else int(time.time()), message)

    # ------------------------------------------------------------------ HTTP

    async def _not_found(self, request: Request) -> JSONResponse:
        return JSONResponse(error_body(404, "Not Found"), status_code=404)

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self._token:
            return JSONResponse(error_body(401, "Unauthorized"), status_code=401)
        requested = request.path_params["method"]
        name = self._canonical(requested)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        params = await _read_params(request)
        if not await self._through_hold(request):
            return JSONResponse({}, status_code=499)  # nobody is listening any more
        status, body = await self._answer(name, params)
        call = Call(name, params, request.method, content_type, status, body)
        with self._lock:
            self._calls.append(call)
        if self._delay:
            await asyncio.sleep(self._delay)
        return JSONResponse(body, status_code=status)

    async def _answer(self, name: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        handler = self._methods.get(name)
        if handler is None:
            return 404, error_body(404, "Not Found")
        failure = self._take_failure(name)
        if failure is not None:
            parameters = (
                None if failure.retry_after is None else {"retry_after": failure.retry_after}
            )
            return failure.status, error_body(failure.status, failure.description, parameters)
        chat = str(_chat_key(params.get("chat_id")))
        admission = self._admit(chat) if name in SENDING_METHODS else None
        if admission is not None and admission.wait is not None:
            seconds = retry_seconds(admission.wait)
            description = f"Too Many Requests: retry after {seconds}"
            return 429, error_body(429, description, {"retry_after": seconds})
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            return exc.status, error_body(exc.status, exc.description, exc.parameters)
        if admission is not None:
            self._accepted(admission, chat)
        if isinstance(result, tuple):  # (result, description)
            return 200, {"ok": True, "result": result[0], "description": result[1]}
        return 200, {"ok": True, "result": result}

    def _take_failure(self, name: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(name)
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    def _canonical(self, method: str) -> str:
        return self._by_lower.get(method.lower(), method)

    # ------------------------------------------------------------------ methods

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(GET_ME)

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_not_blocked(chat_id)
        raw = params.get("text")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise _bad("message text is empty")
        text, entities = parse_text(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise _bad("message is too long")
        markup = check_reply_markup(params.get("reply_markup"))
        message = self._new_message(chat_id)
        message["text"] = text
        if entities:
            message["entities"] = entities
        return self._store(chat_id, message, markup)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_not_blocked(chat_id)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise _bad("there is no photo in the request")
        caption, entities = parse_text(
            str(params.get("caption") or ""),
            params.get("parse_mode"),
            params.get("caption_entities"),
        )
        if len(caption) > MAX_CAPTION:
            raise _bad("message caption is too long")
        markup = check_reply_markup(params.get("reply_markup"))
        message = self._new_message(chat_id)
        message["photo"] = _photo_sizes(message["message_id"])
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        return self._store(chat_id, message, markup)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        key, stored = self._message_to_edit(params)
        raw = params.get("text")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise _bad("message text is empty")
        text, entities = parse_text(str(raw), params.get("parse_mode"), params.get("entities"))
        if len(text) > MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG")
        if "text" not in stored:
            raise _bad("there is no text in the message to edit")
        markup = check_reply_markup(params.get("reply_markup"))
        inline = _inline_only(markup)
        if (
            text == stored.get("text")
            and entities == stored.get("entities", [])
            and inline == stored.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        with self._lock:
            stored["text"] = text
            stored.pop("entities", None)
            if entities:
                stored["entities"] = entities
            _set_markup(stored, inline)
            stored["edit_date"] = int(time.time())
            self._messages[key] = stored
            return copy.deepcopy(stored)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        key, stored = self._message_to_edit(params)
        inline = _inline_only(check_reply_markup(params.get("reply_markup")))
        if inline == stored.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        with self._lock:
            _set_markup(stored, inline)
            stored["edit_date"] = int(time.time())
            self._messages[key] = stored
            return copy.deepcopy(stored)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        with self._lock:
            if self._messages.pop((chat_id, message_id), None) is None:
                raise _bad("message to delete not found")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad("QUERY_ID_INVALID")
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        return True

    def _set_webhook(self, params: dict[str, Any]) -> tuple[bool, str]:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        if self.require_https_webhook and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.match(str(secret)):
            raise _bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise _bad("can't parse allowed updates")
        with self._lock:
            already = self._webhook.get("url") == url
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": allowed,
                "max_connections": params.get("max_connections", 40),
                "ip_address": params.get("ip_address"),
            }
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True, "Webhook is already set" if already else "Webhook was set"

    def _delete_webhook(self, params: dict[str, Any]) -> tuple[bool, str]:
        with self._lock:
            had = bool(self._webhook)
            self._webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True, "Webhook was deleted" if had else "Webhook is already deleted"

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
                if self._webhook.get("allowed_updates") is not None:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self._webhook:
                raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if isinstance(offset, int) and offset > 0:
                    # An offset confirms every update before it: they are gone for good.
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates)
            if isinstance(offset, int) and offset < 0:
                pending = pending[offset:]
            if allowed:
                pending = [u for u in pending if any(kind in u for kind in allowed)]
            if pending or time.monotonic() >= deadline or self._stopping.is_set():
                return copy.deepcopy(pending[:limit])
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ helpers

    def _chat_id(self, params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int | str):
            raise _bad("chat not found")
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise _bad("chat not found")
        return chat_id

    def _check_not_blocked(self, chat_id: int | str) -> None:
        with self._lock:
            if chat_id in self._blocked:
                raise ApiError(403, BLOCKED)

    def _new_message(self, chat_id: int | str) -> dict[str, Any]:
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
        return {
            "message_id": message_id,
            "from": dict(BOT_USER),
            "chat": _chat(chat_id),
            "date": int(time.time()),
        }

    def _store(
        self, chat_id: int | str, message: dict[str, Any], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        # Only an inline keyboard belongs to the message; reply keyboards are not echoed.
        _set_markup(message, _inline_only(markup))
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = message
            return copy.deepcopy(message)

    def _message_to_edit(
        self, params: dict[str, Any]
    ) -> tuple[tuple[int | str, int], dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if not isinstance(message_id, int):
            raise _bad("MESSAGE_ID_INVALID")
        key = (chat_id, message_id)
        with self._lock:
            stored = self._messages.get(key)
            if stored is None:
                raise _bad("message to edit not found")
            return key, copy.deepcopy(stored)


# ---------------------------------------------------------------------- request decoding


async def _read_params(request: Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                body = {}
            if isinstance(body, dict):
                raw.update(body)
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    raw[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": len(data),
                    }
                else:
                    raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value  # left as a string: validation answers like the Bot API
    if key in INT_FIELDS and INTEGER.match(value):
        return int(value)
    if key in BOOL_FIELDS and value in ("true", "false"):
        return value == "true"
    return value


def _chat_key(chat_id: Any) -> int | str:
    if isinstance(chat_id, str) and INTEGER.match(chat_id):
        return int(chat_id)
    return chat_id


def _chat(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, str):
        return {"id": -1001000000001, "type": "channel", "title": "Test", "username": chat_id[1:]}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    if chat_id <= -1000000000000:
        return {"id": chat_id, "type": "supergroup", "title": "Test"}
    return {"id": chat_id, "type": "group", "title": "Test", "all_members_are_administrators": True}


def _photo_sizes(message_id: int) -> list[dict[str, Any]]:
    sizes = [(90, 67, 1234), (320, 240, 15_432), (800, 600, 61_234)]
    return [
        {
            "file_id": f"AgACAgQAAxkDAAI{message_id:05d}{i}FakePhotoFileId",
            "file_unique_id": f"AQAD{message_id:05d}{i}",
            "width": width,
            "height": height,
            "file_size": size,
        }
        for i, (width, height, size) in enumerate(sizes)
    ]


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup is not None and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _set_markup(message: dict[str, Any], inline: dict[str, Any] | None) -> None:
    if inline is None or not inline["inline_keyboard"]:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = copy.deepcopy(inline)


# ---------------------------------------------------------------------- validation


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup the way sendMessage does; returns it, or raises ApiError."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str):
                    raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not text.strip():
        raise _bad("BUTTON_TEXT_INVALID")
    if not any(action in button for action in INLINE_BUTTON_ACTIONS):
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise _bad("BUTTON_URL_INVALID")


# ---------------------------------------------------------------------- formatting


def parse_text(
    text: str, parse_mode: Any, entities: Any = None
) -> tuple[str, list[dict[str, Any]]]:
    """The text as the message will carry it, and its entities (UTF-16 offsets)."""
    if parse_mode in (None, ""):
        if entities is not None and not isinstance(entities, list):
            raise _bad("can't parse entities JSON object")
        return text.strip(), list(entities or [])
    mode = str(parse_mode)
    if mode.lower() == "html":
        plain, found = _parse_html(text)
    elif mode.lower() == "markdownv2":
        plain, found = _parse_markdown(text, v2=True)
    elif mode.lower() == "markdown":
        plain, found = _parse_markdown(text, v2=False)
    else:
        raise _bad(f"unsupported parse_mode: {mode}")
    return _strip(plain, found)


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] - lead + entity["length"], size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlEntities(HTMLParser):
    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.lines = [0]
        for match in re.finditer("\n", source):
            self.lines.append(match.end())
        self.parts: list[str] = []
        self.size = 0
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        return len(self.source[: self.lines[line - 1] + column].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = HTML_TAGS.get(tag)
        values = dict(attrs)
        if kind is None or (tag == "span" and values.get("class") != "tg-spoiler"):
            raise _bad(
                f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                f"{self._byte_offset()}"
            )
        extra: dict[str, Any] = {}
        if kind == "text_link":
            extra["url"] = values.get("href") or ""
        if kind == "custom_emoji":
            extra["custom_emoji_id"] = values.get("emoji-id") or ""
        if kind == "blockquote" and "expandable" in values:
            kind = "expandable_blockquote"
        self.stack.append((tag, self.size, {"type": kind, **extra}))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _bad(
                f"can't parse entities: Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{self.stack[-1][0] if self.stack else tag}>", found "</{tag}>"'
            )
        _, start, entity = self.stack.pop()
        if self.size > start:
            self.entities.append({**entity, "offset": start, "length": self.size - start})

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.size += utf16_len(data)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlEntities(text)
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\"")
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


MD_NAMES = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
}
MD_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2 (and legacy Markdown): text, entities, and the Bot API's parse errors."""
    out: list[str] = []
    size = 0
    stack: list[tuple[str, int, int]] = []  # marker, utf16 start, byte offset
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)

    def byte_at(index: int) -> int:
        return len(text[:index].encode())

    def emit(chunk: str) -> None:
        nonlocal size
        out.append(chunk)
        size += utf16_len(chunk)

    def unclosed(name: str, at: int) -> ApiError:
        if v2:
            return _bad(
                f"can't parse entities: Can't find end of {name} entity at byte offset {at}"
            )
        return _bad(
            f"can't parse entities: Can't find end of the entity starting at byte offset {at}"
        )

    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and (v2 or text[i + 1] in "_*`["):
            emit(text[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            start = i
            i += len(fence)
            language = None
            if fence == "```":
                newline = text.find("\n", i)
                end_fence = text.find("```", i)
                if newline != -1 and (end_fence == -1 or newline < end_fence):
                    language = text[i:newline].strip() or None
                    i = newline + 1
            begin = size
            while i < n and not text.startswith(fence, i):
                if v2 and text[i] == "\\" and i + 1 < n:
                    i += 1
                emit(text[i])
                i += 1
            if i >= n:
                raise unclosed("Pre" if fence == "```" else "Code", byte_at(start))
            i += len(fence)
            entity: dict[str, Any] = {"type": "pre" if fence == "```" else "code"}
            if language:
                entity["language"] = language
            if size > begin:
                entities.append({**entity, "offset": begin, "length": size - begin})
            continue
        if char == "[":
            stack.append(("[", size, byte_at(i)))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            _, begin, at = stack.pop()
            if i + 1 < n and text[i + 1] == "(":
                close = text.find(")", i + 2)
                if close == -1:
                    raise unclosed("TextUrl", at)
                url = text[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
                if size > begin:
                    entities.append(
                        {"type": "text_link", "offset": begin, "length": size - begin, "url": url}
                    )
                i = close + 1
                continue
            if v2:
                raise _bad(
                    "can't parse entities: Character ']' is reserved and must be escaped with "
                    "the preceding '\\'"
                )
            emit("[")  # legacy Markdown: a lone [text] stays text
            i += 1
            continue
        marker = None
        if v2:
            for candidate in ("__", "||", "*", "_", "~"):
                if text.startswith(candidate, i):
                    marker = candidate
                    break
        elif char in "*_":
            marker = char
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, begin, _ = stack.pop()
                kind = MD_NAMES[marker][0]
                if size > begin:
                    entities.append({"type": kind, "offset": begin, "length": size - begin})
            else:
                stack.append((marker, size, byte_at(i)))
            i += len(marker)
            continue
        if v2 and char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker at a line start
            continue
        if v2 and char in MD_V2_RESERVED:
            raise _bad(
                f"can't parse entities: Character '{char}' is reserved and must be escaped with "
                "the preceding '\\'"
            )
        emit(char)
        i += 1
    if stack:
        marker, _, at = stack[-1]
        name = "TextUrl" if marker == "[" else MD_NAMES[marker][1]
        raise unclosed(name, at)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
