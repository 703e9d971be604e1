"""Build and sign Twilio's webhook requests (inbound messages and status callbacks).

Twilio POSTs ``application/x-www-form-urlencoded`` forms to our webhooks and signs each
one with ``X-Twilio-Signature``: the base64 of HMAC-SHA1, keyed with the account's auth
token, over the full URL as requested (query string included) followed by every
parameter name in sorted order, each directly followed by its value. The official
``twilio.request_validator.RequestValidator`` implements both sides; ``sign`` uses it, so
a signature made here is one Twilio would make.

Sources: https://www.twilio.com/docs/usage/webhooks/webhooks-security,
https://www.twilio.com/docs/messaging/guides/webhook-request (inbound parameters) and
https://www.twilio.com/docs/messaging/guides/outbound-message-logging (status callbacks).

All sids, numbers and tokens here are fake. The Swedish numbers are in +46 70 174 06 05
... 06 99, the range PTS reserves for use in fiction, so none of them reaches a person.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from dialog_flows.sms_encoding import sms_cost

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "trygg-test-auth-token-0123456789"
MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
TWILIO_NUMBER = "+46701740699"  # "our" long code
PERSON = "+46701740605"
OTHER_PERSON = "+46701740606"
API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Country codes Twilio would report in FromCountry / ToCountry for the numbers we use.
_COUNTRIES = (
    ("+358", "FI"),
    ("+46", "SE"),
    ("+47", "NO"),
    ("+45", "DK"),
    ("+44", "GB"),
    ("+49", "DE"),
    ("+1", "US"),
)


def new_sid(prefix: str = "SM") -> str:
    """A 34-character Twilio sid: two letters and 32 lowercase hex digits."""
    return prefix + uuid.uuid4().hex


def _country(number: str) -> str | None:
    bare = number.removeprefix("whatsapp:")
    for code, country in _COUNTRIES:
        if bare.startswith(code):
            return country
    return None


def media_url(account_sid: str, message_sid: str, media_sid: str | None = None) -> str:
    """Where Twilio keeps an inbound MMS attachment (the URL it sends in MediaUrlN)."""
    media_sid = media_sid or new_sid("ME")
    return (
        f"https://api.twilio.com/{API_VERSION}/Accounts/{account_sid}"
        f"/Messages/{message_sid}/Media/{media_sid}"
    )


def inbound_form(
    *,
    body: str,
    from_: str,
    to: str = TWILIO_NUMBER,
    message_sid: str | None = None,
    num_media: int | None = None,
    media: Iterable[tuple[str, str]] = (),
    extra: Mapping[str, str] | None = None,
    account_sid: str = ACCOUNT_SID,
    messaging_service_sid: str | None = MESSAGING_SERVICE_SID,
    geo: bool = True,
) -> dict[str, str]:
    """The form Twilio POSTs to the inbound-message webhook, every value a string.

    ``media`` is ``(url, content_type)`` pairs; ``num_media`` defaults to their number,
    and when it is larger the missing attachments are made up as ``image/jpeg``. A
    message with media gets an ``MM`` sid, one without an ``SM`` sid (as Twilio does);
    ``SmsSid`` and ``SmsMessageSid`` repeat ``MessageSid``. ``geo`` adds the
    FromCountry/FromCity/FromState/FromZip (and To...) fields: the country from the
    number, the rest empty, as Twilio sends them for mobile numbers outside the US.
    ``messaging_service_sid=None`` leaves MessagingServiceSid out (a number outside any
    Messaging Service). ``extra`` adds or overrides fields, e.g. ``{"OptOutType": "STOP"}``.
    """
    attachments = list(media)
    count = len(attachments) if num_media is None else num_media
    sid = message_sid or new_sid("MM" if count else "SM")
    while len(attachments) < count:
        attachments.append((media_url(account_sid, sid), "image/jpeg"))
    form: dict[str, str] = {}
    if geo:
        form.update(
            {
                "ToCountry": _country(to) or "",
                "ToState": "",
                "ToCity": "",
                "ToZip": "",
            }
        )
    form.update(
        {
            "SmsMessageSid": sid,
            "NumMedia": str(count),
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to,
        }
    )
    if geo:
        form.update(
            {
                "FromCountry": _country(from_) or "",
                "FromState": "",
                "FromCity": "",
                "FromZip": "",
            }
        )
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    form.update(
        {
            "NumSegments": str(sms_cost(body).segments),
            "MessageSid": sid,
            "AccountSid": account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
    )
    for index, (url, content_type) in enumerate(attachments[:count]):
        form[f"MediaContentType{index}"] = content_type
        form[f"MediaUrl{index}"] = url
    if extra:
        form.update(extra)
    return form


def status_form(
    *,
    message_sid: str,
    status: str = "delivered",
    from_: str = TWILIO_NUMBER,
    to: str = PERSON,
    error_code: int | str | None = None,
    account_sid: str = ACCOUNT_SID,
    messaging_service_sid: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The form of a message status callback (``StatusCallback`` URL of a send).

    ``MessageStatus`` is one of queued, sending, sent, delivered, undelivered, failed,
    read (WhatsApp), ...; ``SmsSid``/``SmsStatus`` repeat sid and status (the legacy
    names). ``ErrorCode`` is present only when set, e.g. 30003 "Unreachable destination
    handset" with ``undelivered``.
    """
    form: dict[str, str] = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
    }
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    form.update(
        {
            "MessageSid": message_sid,
            "AccountSid": account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
    )
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    if extra:
        form.update(extra)
    return form


def sign(url: str, params: Mapping[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """``X-Twilio-Signature`` for a POST of ``params`` to ``url`` (exactly as requested)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def signed_headers(
    url: str, params: Mapping[str, str], auth_token: str = AUTH_TOKEN
) -> dict[str, str]:
    """Headers of a signed webhook POST: the signature and the form content type."""
    return {
        SIGNATURE_HEADER: sign(url, params, auth_token),
        "Content-Type": FORM_CONTENT_TYPE,
    }


def encode_form(params: Mapping[str, str]) -> str:
    """The request body Twilio sends for ``params`` (UTF-8, ``+`` for spaces)."""
    return urlencode(list(params.items()))
