"""What every channel adapter and the service agree on.

Inbound, an adapter turns its provider's webhook into ``InboundMessage``s. Outbound, it
implements ``ChannelSender``: send one neutral message to one address and say how it
went, in the terms the delivery worker acts on (sent, try again later, never again,
wait for the person to write). Adapters know this module and their own provider only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from dialog_flows.session import Outgoing


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # telegram, sms, facebook, web, console
    address: str  # chat id, phone number, PSID, web chat token: encrypted at rest
    delivery_id: str | None = None  # update_id, MessageSid, mid: acted on once
    text: str = ""
    payload: str | None = None  # a tapped button
    has_attachment: bool = False
    start: bool = False  # /start, a Messenger referral, opening the web chat
    start_source: str | None = None  # the deep-link payload or ref
    language_hint: str | None = None  # Telegram language_code, Messenger locale
    language: str | None = None  # an explicit choice (the web chat's language picker)
    # Provider housekeeping that goes out with the replies, in order, before them: e.g.
    # Telegram's answerCallbackQuery. Each is {"action": NAME, ...}; see ``perform``.
    controls: tuple[Mapping[str, Any], ...] = ()


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # temporary: rate limit, 5xx, timeout
    FAILED = "failed"  # permanent for this message: malformed, rejected
    UNREACHABLE = "unreachable"  # permanent for the person: blocked the bot, gone
    OPTED_OUT = "opted_out"  # the person opted out at the provider (Twilio 21610): erase them
    WAITING = "waiting"  # outside the provider's messaging window; send after their next message


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    retry_after: float | None = None  # seconds, when the provider says
    error: str | None = None


class ChannelSender(Protocol):
    channel: str
    rate_per_second: float  # across all recipients
    recipient_interval: float  # seconds between two messages to one person

    async def send(self, address: str, message: Outgoing) -> SendResult: ...


@runtime_checkable
class WindowedSender(ChannelSender, Protocol):
    """A channel that lets us write freely only within ``window_seconds`` of the person's
    last message (WhatsApp and Messenger: 24 hours). The worker checks the window; outside
    it, it calls ``send_outside_window``, which sends what the provider's rules allow (an
    approved template) or answers WAITING, so the message goes after their next one."""

    window_seconds: float

    async def send_outside_window(self, address: str, message: Outgoing) -> SendResult: ...


@runtime_checkable
class ControlSender(ChannelSender, Protocol):
    """A sender that also carries out its provider's housekeeping actions."""

    async def perform(self, address: str, control: Mapping[str, Any]) -> SendResult: ...
