"""Which channels are on: a channel is enabled when its credentials are set (CONTRACT.md)."""

from __future__ import annotations

from bots.contract import ChannelSender
from trygg.settings import Settings


def telegram_enabled(settings: Settings) -> bool:
    return bool(settings.telegram_token and settings.telegram_secret)


def sms_enabled(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from)


def facebook_enabled(settings: Settings) -> bool:
    return bool(
        settings.facebook_page_token
        and settings.facebook_app_secret
        and settings.facebook_verify_token
    )


def whatsapp_enabled(settings: Settings) -> bool:
    """WhatsApp rides on the Twilio account, with its own sender."""
    return sms_enabled(settings) and bool(settings.twilio_whatsapp_from)


def build_senders(settings: Settings) -> dict[str, ChannelSender]:
    senders: dict[str, ChannelSender] = {}
    if telegram_enabled(settings):
        from bots.telegram.outbound import TelegramSender  # noqa: PLC0415 (only when on)

        assert settings.telegram_token is not None
        senders["telegram"] = TelegramSender(
            settings.telegram_token,
            settings.telegram_api,
            media_root=settings.public_url,
            rate_per_second=settings.telegram_messages_per_second,
        )
    if sms_enabled(settings):
        from bots.sms.outbound import TwilioSender  # noqa: PLC0415 (only when on)

        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
        credentials = (settings.twilio_account_sid, settings.twilio_auth_token)
        # SMS and WhatsApp share the account, the API and the status callback.
        common = {
            "api_root": settings.twilio_api,
            "status_callback": settings.public_url.rstrip("/") + "/webhooks/sms/status",
        }
        senders["sms"] = TwilioSender(
            *credentials,
            settings.twilio_from,
            segments_per_second=settings.twilio_segments_per_second,
            **common,
        )
        if settings.twilio_whatsapp_from:
            from bots.sms.whatsapp import WhatsAppSender  # noqa: PLC0415 (only when on)

            senders["whatsapp"] = WhatsAppSender(
                *credentials,
                settings.twilio_whatsapp_from,
                segments_per_second=settings.twilio_whatsapp_per_second,
                templates=settings.twilio_whatsapp_templates,
                **common,
            )
    if facebook_enabled(settings):
        from bots.facebook.outbound import MessengerSender  # noqa: PLC0415 (only when on)

        assert settings.facebook_page_token
        senders["facebook"] = MessengerSender(
            settings.facebook_page_token,
            settings.facebook_api,
            version=settings.facebook_graph_version,
            rate_per_second=settings.facebook_messages_per_second,
            media_root=settings.public_url,
        )
    return senders
