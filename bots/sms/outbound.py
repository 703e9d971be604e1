"""Sending SMS through Twilio's REST API with the official client, asynchronously.

Messages go to ``{TRYGG_TWILIO_API}/2010-04-01/Accounts/{sid}/Messages.json`` with a
StatusCallback. Outcomes: 21610 (the person opted out at Twilio) erases them and is
never retried; 429/20429 and 5xx are retried; an invalid number is unreachable.
"""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bots.contract import Outcome, SendResult
from bots.sms.inbound import CHANNEL
from dialog_flows.render_text import render_plain
from dialog_flows.session import Outgoing
from dialog_flows.sms_encoding import sms_cost

OPTED_OUT_CODES = {21610}
UNREACHABLE_CODES = {21211, 21614, 21612, 21408}  # invalid, not mobile, unroutable, no permission
RATE_LIMIT_CODES = {20429, 14107}
# WhatsApp: free text outside the 24-hour window. The worker checks the window first, so
# this is the safety net for a clock or record that disagrees with Meta's.
OUTSIDE_WINDOW_CODES = {63016}


class TwilioSender:
    channel: str = CHANNEL
    recipient_interval = 0.0

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        api_root: str = "https://api.twilio.com",
        status_callback: str | None = None,
        segments_per_second: float = 10.0,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.api_root = api_root.rstrip("/")
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None
        self.sender = sender
        self.status_callback = status_callback
        # Twilio's throughput is counted in segments (about 10 a second per sender outside
        # North America), so the worker paces by each message's segments (``cost``).
        self.rate_per_second = segments_per_second

    def _rest(self) -> Client:
        # The aiohttp session behind the async client belongs to the running event loop,
        # so it is made on first use there, and closed by ``aclose``.
        if self._client is None:
            self._http = AsyncTwilioHttpClient()
            client = Client(self.account_sid, self.auth_token, http_client=self._http)
            client.api.base_url = self.api_root
            client.region = client.edge = None  # TWILIO_REGION/EDGE would rewrite the host
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    def cost(self, message: Outgoing) -> int:
        return sms_cost(self.render(message)).segments

    def render(self, message: Outgoing) -> str:
        return render_plain(message, for_sms=True)

    def to(self, address: str) -> str:
        return address

    async def send(self, address: str, message: Outgoing) -> SendResult:
        return await self._create(address, body=self.render(message))

    async def _create(self, address: str, **content: str) -> SendResult:
        options: dict[str, str] = {"to": self.to(address), **content}
        if self.sender.startswith("MG"):
            options["messaging_service_sid"] = self.sender
        else:
            options["from_"] = self.sender
        if self.status_callback:
            options["status_callback"] = self.status_callback
        try:
            created = await self._rest().messages.create_async(**options)
        except TwilioRestException as exc:
            return _error(exc)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SendResult(Outcome.RETRY, error=f"network: {type(exc).__name__}")
        return SendResult(Outcome.SENT, provider_message_id=created.sid)


def _error(exc: TwilioRestException) -> SendResult:
    code = int(exc.code) if exc.code else None
    text = f"{exc.status} {code}: {exc.msg}"[:500]
    if code in OPTED_OUT_CODES:
        return SendResult(Outcome.OPTED_OUT, error=text)
    if code in OUTSIDE_WINDOW_CODES:
        return SendResult(Outcome.WAITING, error=text)
    if exc.status == 429 or code in RATE_LIMIT_CODES or exc.status >= 500:
        return SendResult(Outcome.RETRY, error=text)
    if code in UNREACHABLE_CODES:
        return SendResult(Outcome.UNREACHABLE, error=text)
    if exc.status in (401, 403):  # our credentials: keep the message, try later
        return SendResult(Outcome.RETRY, retry_after=300, error=text)
    return SendResult(Outcome.FAILED, error=text)
