"""Configuration from the environment (names fixed by shared/CONTRACT.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from dialog_flows.library import DEFAULT_FLOWS_DIR, DEFAULT_LOCALES_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYGG_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./trygg.db"
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    flows_dir: Path = DEFAULT_FLOWS_DIR
    locales_dir: Path = DEFAULT_LOCALES_DIR

    telegram_token: str | None = None
    telegram_secret: str | None = None
    telegram_api: str = "https://api.telegram.org"
    # Ours, not in CONTRACT.md: the bot's user name (without @) for t.me links on the staff
    # pages and posters, which must not call Telegram's getMe while a page renders.
    telegram_bot_name: str | None = None
    # Ours: the bot's send rate. Telegram allows about 30 messages a second per bot; with
    # several workers, give each its share (docs/operations.md, "Scaling").
    telegram_messages_per_second: float = 30.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api: str = "https://api.twilio.com"
    twilio_segments_per_second: float = 10.0  # the sender's throughput (not in CONTRACT.md)
    # WhatsApp through the same Twilio account (these are ours, not in CONTRACT.md): the
    # sender (whatsapp:+46... or a Messaging Service), its rate, and approved templates as
    # a JSON object of language -> Content SID, used outside the 24-hour window.
    twilio_whatsapp_from: str | None = None
    twilio_whatsapp_per_second: float = 80.0  # Twilio: 80 messages a second per sender
    twilio_whatsapp_templates: dict[str, str] = {}
    # The price of one outbound SMS segment, for cost estimates (invitations, docs).
    sms_segment_price: float = 0.07
    sms_currency: str = "USD"
    # An invitation send above this many messages asks for confirmation.
    sms_invite_confirm_above: int = 100
    facebook_page_token: str | None = None
    facebook_app_secret: str | None = None
    facebook_verify_token: str | None = None
    facebook_api: str = "https://graph.facebook.com"
    # Ours, not in CONTRACT.md: the Graph API version in the path, the page's send rate
    # (Meta allows about 300 a second), and the page's user name for m.me links.
    facebook_graph_version: str = "v21.0"
    facebook_messages_per_second: float = 250.0
    facebook_page_name: str | None = None
    # Ours: how long the delivery worker holds a message it claimed before another worker
    # may take it over (after a crash). Longer than any one send may take, rate waits too.
    outbox_lease_seconds: float = 120.0
    # A stop-gap until staff accounts with roles exist: one shared secret that the staff
    # API (/staff/api/...) wants as "Authorization: Bearer <token>". Unset, that API is
    # switched off (403). Replace it with staff logins when they come; do not build on it.
    staff_api_token: str | None = None
