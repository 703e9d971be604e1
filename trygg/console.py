"""``trygg chat``: the questionnaire in a terminal, through the same engine, inbound path
and database as every other channel (channel ``console``).

Staff use it to try a flow; a person without any app can take part at a library
computer. Each run is a new console contact, so answers from two runs never mix.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from bots.contract import InboundMessage
from dialog_flows.render_text import render_plain
from dialog_flows.session import SessionState
from trygg.service.dialogs import DialogService, Handled

CHANNEL = "console"


class ConsoleChat:
    def __init__(
        self,
        dialogs: DialogService,
        *,
        language: str | None = None,
        source: str | None = None,
        read: Callable[[], Awaitable[str]],
        write: Callable[[str], None] = print,
    ) -> None:
        self.dialogs = dialogs
        self.language = language
        self.source = source
        self.read = read
        self.write = write
        self.address = "console-" + secrets.token_hex(8)
        self.state: SessionState | None = None
        self.answers: dict[str, object] = {}

    async def send(self, message: InboundMessage) -> Handled:
        handled = await self.dialogs.handle(message)
        if handled.state is not None:
            self.state = handled.state
            if handled.state.answers or handled.state.status == "erased":
                self.answers = dict(handled.state.answers)
        for outgoing in handled.messages:
            self.write(render_plain(outgoing))
            self.write("")
        return handled

    async def run(self) -> SessionState | None:
        await self.send(
            InboundMessage(
                channel=CHANNEL,
                address=self.address,
                start=True,
                start_source=self.source,
                language=self.language,
            )
        )
        while self.state is not None and self.state.active:
            try:
                line = await self.read()
            except (EOFError, KeyboardInterrupt):
                break
            await self.send(InboundMessage(channel=CHANNEL, address=self.address, text=line))
        if self.state is not None and not self.state.active:
            summary = {
                "status": self.state.status,
                "flow": self.state.flow_id,
                "flow_version": self.state.flow_version,
                "language": self.state.language,
                "source": self.state.source,
                "answers": self.answers,
            }
            self.write(json.dumps(summary, ensure_ascii=False, indent=2))
        return self.state
