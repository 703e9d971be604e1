"""The ways into a campaign from one source: links, the SMS keyword, the web chat.

Every link carries the source id, so the answers that arrive through it are counted
for that activity (CONTRACT.md, "Entry links"). A channel without credentials has no
entry point; one with credentials but without the public name a link needs (the bot's
or page's user name) says which setting to add. Nothing here calls a provider: the pages
and posters that use it render from the settings alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import phonenumbers

from dialog_flows.model import Campaign, Source
from trygg.service.channels import (
    facebook_enabled,
    sms_enabled,
    telegram_enabled,
    whatsapp_enabled,
)
from trygg.settings import Settings

OFF = "inte påslagen"


@dataclass(frozen=True)
class EntryPoint:
    """One way in. ``url`` is what a QR code holds (for SMS an ``sms:`` link); ``missing``
    says, in Swedish for staff, why there is no link when there is none."""

    channel: str  # telegram, facebook, sms, web
    label: str  # as printed on a poster: a brand name, not a translated word
    url: str | None = None
    sms_text: str | None = None  # SMS: the message to send, e.g. "TRYGG BADET"
    sms_number: str | None = None  # SMS: the number, written to be read and typed
    missing: str | None = None

    @property
    def on(self) -> bool:
        return self.url is not None


@dataclass(frozen=True)
class ChannelState:
    name: str
    on: bool
    missing: str | None  # what to set to switch it on


def phone_number(settings: Settings) -> tuple[str, str] | None:
    """TRYGG_TWILIO_FROM as (E.164, printed form) when it is a phone number; a Messaging
    Service SID or an alphanumeric sender cannot receive the keyword."""
    sender = (settings.twilio_from or "").strip()
    if not sender.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(sender, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    printed = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return e164, printed


def sms_keyword(campaign: Campaign, source: Source) -> str:
    return f"{campaign.keyword} {source.id.upper()}"


def web_chat_url(settings: Settings, source: Source, language: str | None = None) -> str:
    """The web chat (trygg/web/chat_api.py): ``source`` is recorded, ``lang`` skips the
    language menu, which a poster in one language may do."""
    query = {"source": source.id, **({"lang": language} if language else {})}
    return f"{settings.public_url.rstrip('/')}/chat?{urlencode(query)}"


def telegram(settings: Settings, source: Source) -> EntryPoint:
    if not telegram_enabled(settings):
        return EntryPoint("telegram", "Telegram", missing=OFF)
    bot = (settings.telegram_bot_name or "").strip().lstrip("@")
    if not bot:
        return EntryPoint(
            "telegram", "Telegram", missing="sätt TRYGG_TELEGRAM_BOT_NAME (botens användarnamn)"
        )
    return EntryPoint("telegram", "Telegram", url=f"https://t.me/{bot}?start={source.id}")


def messenger(settings: Settings, source: Source) -> EntryPoint:
    if not facebook_enabled(settings):
        return EntryPoint("facebook", "Messenger", missing=OFF)
    page = (settings.facebook_page_name or "").strip()
    if not page:
        return EntryPoint(
            "facebook", "Messenger", missing="sätt TRYGG_FACEBOOK_PAGE_NAME (sidans användarnamn)"
        )
    return EntryPoint("facebook", "Messenger", url=f"https://m.me/{page}?ref={source.id}")


def sms(settings: Settings, campaign: Campaign, source: Source) -> EntryPoint:
    if not sms_enabled(settings):
        return EntryPoint("sms", "SMS", missing=OFF)
    number = phone_number(settings)
    if number is None:
        return EntryPoint(
            "sms", "SMS", missing="TRYGG_TWILIO_FROM är inget telefonnummer som tar emot SMS"
        )
    e164, printed = number
    text = sms_keyword(campaign, source)
    # sms:NUMBER?body=TEXT opens the messages app with the text filled in (RFC 5724).
    url = f"sms:{e164}?body={quote(text)}"
    return EntryPoint("sms", "SMS", url=url, sms_text=text, sms_number=printed)


def entry_points(
    settings: Settings, campaign: Campaign, source: Source, language: str | None = None
) -> list[EntryPoint]:
    """Telegram, Messenger, SMS and the web chat for one source, on or not."""
    return [
        telegram(settings, source),
        messenger(settings, source),
        sms(settings, campaign, source),
        EntryPoint("web", "Webbchatt", url=web_chat_url(settings, source, language)),
    ]


def channel_states(settings: Settings) -> list[ChannelState]:
    """Which channels are switched on, as ``trygg serve`` reports it at start."""
    return [
        ChannelState(
            "Telegram",
            telegram_enabled(settings),
            "TRYGG_TELEGRAM_TOKEN och TRYGG_TELEGRAM_SECRET",
        ),
        ChannelState(
            "SMS",
            sms_enabled(settings),
            "TRYGG_TWILIO_ACCOUNT_SID, TRYGG_TWILIO_AUTH_TOKEN och TRYGG_TWILIO_FROM",
        ),
        ChannelState(
            "WhatsApp",
            whatsapp_enabled(settings),
            "SMS-inställningarna och TRYGG_TWILIO_WHATSAPP_FROM",
        ),
        ChannelState(
            "Messenger",
            facebook_enabled(settings),
            "TRYGG_FACEBOOK_PAGE_TOKEN, TRYGG_FACEBOOK_APP_SECRET och TRYGG_FACEBOOK_VERIFY_TOKEN",
        ),
        ChannelState("Webbchatt", True, None),
    ]
