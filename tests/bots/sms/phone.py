"""A resident's phone for SMS tests: signed Twilio forms into our webhook, and what the
fake Twilio received back."""

from __future__ import annotations

import httpx
from twilio.request_validator import RequestValidator

from tests.bots.sms.fake_twilio import FakeTwilio
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.runtime import Runtime

PUBLIC = "https://dialog.example.se"
PHONE = "+46701234567"


class Phone:
    """A resident's phone: sends signed inbound forms, reads what the fake Twilio got."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        fake: FakeTwilio,
        runtime: Runtime,
        number: str = PHONE,
        to: str = "+46769999999",
    ):
        self.http, self.fake, self.runtime, self.number = http, fake, runtime, number
        self.to = to
        self.count = 0

    def form(self, body: str) -> dict[str, str]:
        self.count += 1
        sid = f"SM{self.count:032x}"
        return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid,
                "AccountSid": self.fake.account_sid, "From": self.number, "To": self.to,
                "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                "ApiVersion": "2010-04-01"}  # fmt: skip

    async def post(
        self, params: dict[str, str], *, path: str = "/webhooks/sms", token: str | None = None
    ) -> httpx.Response:
        signature = RequestValidator(token or self.fake.auth_token).compute_signature(
            PUBLIC + path, params
        )
        response = await self.http.post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )
        await self.deliver()
        return response

    async def send(self, body: str) -> httpx.Response:
        return await self.post(self.form(body))

    async def deliver(self) -> None:
        worker = DeliveryWorker(self.runtime, build_senders(self.runtime.settings))
        try:
            while await worker.run_once():
                pass
        finally:
            await worker.aclose()

    def received(self) -> list[str]:
        return self.fake.bodies_to(self.number)
