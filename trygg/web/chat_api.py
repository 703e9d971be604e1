"""The web chat: a page at ``/`` and ``/chat``, and the JSON API its script talks to.

The web chat is a channel like the others (``web``): the person is identified by a random
token in a cookie, which is the "address" encrypted in the contact store. Replies are
returned in the response, because the page that asked is the one that shows them; the
outbox keeps the durable record. A ``client_id`` per message lets the page retry after a
network error without answering twice.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from bots.contract import InboundMessage
from dialog_flows.flow_texts import flow_context
from dialog_flows.languages import direction, match_language
from dialog_flows.session import Outgoing, outgoing_to_dict
from trygg.service.broadcast_reach import web_inbox
from trygg.service.dialogs import DialogService

COOKIE = "trygg_chat"
CHANNEL = "web"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

router = APIRouter()


class StartRequest(BaseModel):
    source: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)
    client_id: str | None = Field(default=None, max_length=64)


class SendRequest(BaseModel):
    # No limit of its own below the body cap: the engine, not a 422, tells the person an
    # answer is too long, in their language.
    text: str = Field(default="")
    payload: str | None = Field(default=None, max_length=256)
    client_id: str | None = Field(default=None, max_length=64)


def _service(request: Request) -> DialogService:
    service: DialogService = request.app.state.dialogs
    return service


def _token(request: Request, response: Response) -> str:
    token = request.cookies.get(COOKIE)
    if token and 20 <= len(token) <= 64 and token.isascii():
        return token
    token = secrets.token_urlsafe(24)
    secure = str(request.app.state.runtime.settings.public_url).startswith("https://")
    response.set_cookie(
        COOKIE, token, max_age=30 * 24 * 3600, httponly=True, samesite="lax", secure=secure
    )
    return token


def _reply(messages: tuple[Outgoing, ...], active: bool, duplicate: bool = False) -> dict[str, Any]:
    return {
        "messages": [outgoing_to_dict(message) for message in messages],
        "active": active,
        "duplicate": duplicate,
    }


def _delivery_id(client_id: str | None, token: str) -> str | None:
    # Scoped to the person, so one visitor cannot pre-empt another's message ids.
    return f"{token[:16]}:{client_id}" if client_id else None


@router.get("/", response_class=HTMLResponse)
@router.get("/chat", response_class=HTMLResponse)
async def chat_page(
    request: Request, source: str | None = None, lang: str | None = None
) -> Response:
    library = request.app.state.runtime.library
    campaign = library.campaign()
    flow = library.flow(campaign.flow_for(source))
    offered = flow.languages if flow else ("sv",)
    language = lang if lang in offered else None
    # The page speaks the language the dialog will start in: the explicit choice, else
    # the browser's, as the engine resolves it.
    hinted = match_language(_browser_language(request), offered)
    ui_language = language or hinted or campaign.default_language
    title = campaign.title
    if flow is not None:
        title = library.translations.text(ui_language, flow_context(flow, "title"), flow.title)
    response = TEMPLATES.TemplateResponse(
        request,
        "chat.html",
        {
            "lang": ui_language,
            "dir": direction(ui_language),
            "title": title,
            "source": source if source and campaign.source(source) else None,
            "language": language,
            "static": "/static",
        },
    )
    _token(request, response)
    return response


@router.post("/chat/api/start")
async def start(body: StartRequest, request: Request, response: Response) -> dict[str, Any]:
    fields = {"start": True, "start_source": body.source, "language": body.language}
    return await _handle(request, response, body.client_id, fields)


@router.post("/chat/api/send")
async def send(body: SendRequest, request: Request, response: Response) -> dict[str, Any]:
    fields = {"text": body.text, "payload": body.payload}
    return await _handle(request, response, body.client_id, fields)


async def _handle(
    request: Request, response: Response, client_id: str | None, fields: dict[str, Any]
) -> dict[str, Any]:
    token = _token(request, response)
    service = _service(request)
    handled = await service.handle(
        InboundMessage(
            channel=CHANNEL,
            address=token,
            delivery_id=_delivery_id(client_id, token),
            language_hint=_browser_language(request),
            **fields,
        )
    )
    if handled.duplicate:  # a retried request: show where the dialog stands
        prompt = await service.prompt(CHANNEL, token)
        return _reply(prompt, active=bool(prompt), duplicate=True)
    state = handled.state
    return _reply(handled.messages, active=bool(state is not None and state.active))


@router.get("/chat/api/current")
async def current(request: Request, response: Response) -> dict[str, Any]:
    token = _token(request, response)
    messages = await _service(request).prompt(CHANNEL, token)
    # Återkoppling sent to this visitor since they were last here comes first.
    runtime = request.app.state.runtime
    news = await web_inbox(runtime, runtime.vault.lookup_hash(CHANNEL, token))
    return _reply((*news, *messages), active=bool(messages))


def _browser_language(request: Request) -> str | None:
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None
