"""``POST /webhooks/sms`` and ``/webhooks/sms/status``: Twilio's inbound messages and
delivery reports, each signed (``X-Twilio-Signature``) against TRYGG_PUBLIC_URL.

An unsigned or wrongly signed request gets 403 and nothing is stored. An inbound message
is answered with empty TwiML once it is handled: replies go out through the outbox and
the REST API, never in this response. While SMS is off, both paths answer 404.
WhatsApp arrives on the same paths, from ``whatsapp:`` addresses.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from bots.sms.inbound import (
    EMPTY_TWIML,
    WHATSAPP,
    is_valid,
    parse_message,
    parse_status,
    signed_url,
)
from storage import outbox
from trygg.service.channels import sms_enabled, whatsapp_enabled
from trygg.service.dialogs import DialogService

log = logging.getLogger(__name__)
router = APIRouter()


async def _signed_form(request: Request) -> dict[str, str] | None:
    settings = request.app.state.runtime.settings
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    url = signed_url(settings.public_url, request.url.path, request.url.query)
    signature = request.headers.get("x-twilio-signature")
    if not is_valid(str(settings.twilio_auth_token), url, params, signature):
        return None
    return params


@router.post("/webhooks/sms")
async def sms_webhook(request: Request) -> Response:
    if not sms_enabled(request.app.state.runtime.settings):
        return Response(status_code=404)
    params = await _signed_form(request)
    if params is None:
        return Response(status_code=403)
    message = parse_message(params)
    dialogs: DialogService = request.app.state.dialogs
    if message is None:
        log.info("sms: a signed request that is not an inbound message; acknowledged")
    elif message.channel == WHATSAPP and not whatsapp_enabled(request.app.state.runtime.settings):
        # We could not answer: no WhatsApp sender is set. Acknowledge so Twilio stops.
        log.info("sms: a WhatsApp message while WhatsApp is off; acknowledged")
        await dialogs.acknowledge(message.channel, message.delivery_id)
    else:
        await dialogs.handle(message)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/sms/status")
async def sms_status(request: Request) -> Response:
    runtime = request.app.state.runtime
    if not sms_enabled(runtime.settings):
        return Response(status_code=404)
    params = await _signed_form(request)
    if params is None:
        return Response(status_code=403)
    report = parse_status(params)
    if report is not None:
        async with runtime.database.sessions() as session, session.begin():
            await outbox.update_delivery_status(
                session,
                report.message_sid,
                report.status,
                report.error_code,
                channel=report.channel,
            )
    return Response(status_code=204)
