"""``GET /webhooks/facebook`` (Meta's verification) and ``POST /webhooks/facebook``
(Messenger events, signed with ``X-Hub-Signature-256`` over the raw body).

A bad or missing signature gets 403 and nothing is stored. A signed delivery gets 200
once every event in it is handled, including kinds we ignore, so Meta does not retry
them; if handling fails part-way, the error makes Meta retry the whole delivery, and the
events already handled are recognised by their ``mid``. While Messenger is off, both
paths answer 404.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from bots.facebook.inbound import CHANNEL, parse_delivery, signature_ok, verification_challenge
from storage import outbox
from trygg.service.channels import facebook_enabled
from trygg.service.dialogs import DialogService

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/webhooks/facebook")
async def facebook_verify(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    if not facebook_enabled(settings):
        return Response(status_code=404)
    challenge = verification_challenge(
        dict(request.query_params), str(settings.facebook_verify_token)
    )
    if challenge is None:
        return Response(status_code=403)
    return PlainTextResponse(challenge)


@router.post("/webhooks/facebook")
async def facebook_webhook(request: Request) -> Response:
    runtime = request.app.state.runtime
    if not facebook_enabled(runtime.settings):
        return Response(status_code=404)
    raw = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    if not signature_ok(raw, signature, str(runtime.settings.facebook_app_secret)):
        return Response(status_code=403)
    delivery = parse_delivery(raw)
    dialogs: DialogService = request.app.state.dialogs
    for message in delivery.messages:
        await dialogs.handle(message)
    if delivery.delivered_mids:
        async with runtime.database.sessions() as session, session.begin():
            for mid in delivery.delivered_mids:
                await outbox.update_delivery_status(
                    session, mid, "delivered", None, channel=CHANNEL
                )
    if delivery.ignored:
        log.info("facebook: acknowledged %s", ", ".join(sorted(set(delivery.ignored))))
    return PlainTextResponse("EVENT_RECEIVED")
