"""``POST /webhooks/telegram``: Telegram's updates, checked and handed to the service.

The secret Telegram echoes in ``X-Telegram-Bot-Api-Secret-Token`` is compared in constant
time; a missing or wrong one gets 403 and nothing is stored. Everything else gets a 200
once handled, including kinds we ignore, so Telegram does not retry them. While the
channel is off (no token or secret), the path answers 404.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request, Response

from bots.contract import InboundMessage
from bots.telegram.inbound import Ignored, Reachability, parse_update
from trygg.service.channels import telegram_enabled
from trygg.service.dialogs import DialogService

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    if not telegram_enabled(settings):
        return Response(status_code=404)
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if not hmac.compare_digest(given.encode(), str(settings.telegram_secret).encode()):
        return Response(status_code=403)
    try:
        data = json.loads(await request.body())
    except ValueError:
        log.warning("telegram: a signed delivery that is not JSON; acknowledged")
        return Response(status_code=200)
    await dispatch_update(request.app.state.dialogs, data)
    return Response(status_code=200)


async def dispatch_update(dialogs: DialogService, data: object) -> None:
    """One update, from the webhook or from polling, handed to the service."""
    parsed = parse_update(data)
    if isinstance(parsed, InboundMessage):
        await dialogs.handle(parsed)
    elif isinstance(parsed, Reachability):
        await dialogs.set_reachable(
            "telegram", parsed.address, parsed.reachable, parsed.delivery_id
        )
    elif isinstance(parsed, Ignored):
        await dialogs.acknowledge("telegram", parsed.delivery_id)
        log.info("telegram: %s", parsed.reason)
