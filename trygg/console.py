"""``trygg chat``: the questionnaire in a terminal, through the same engine as every channel.

Staff use it to try a flow, and a person without any app can take part at a library
computer. Until the storage layer exists the answers live in memory and are printed as
JSON when the dialog ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from dialog_flows.campaigns import parse_keyword_entry
from dialog_flows.engine import respond
from dialog_flows.library import Library
from dialog_flows.render_text import render_plain
from dialog_flows.session import Context, SessionState, Start, Turn, UserMessage

CHANNEL = "console"


class ConsoleChat:
    def __init__(
        self,
        library: Library,
        *,
        language: str | None = None,
        source: str | None = None,
        read: Callable[[], str] = input,
        write: Callable[[str], None] = print,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.library = library
        self.campaign = library.campaign()
        self.language = language
        self.source = source
        self.read = read
        self.write = write
        self.clock = clock
        self.state: SessionState | None = None
        self.answers: dict[str, object] = {}

    def context(self) -> Context:
        return Context(
            now=self.clock(),
            channel=CHANNEL,
            translations=self.library.translations,
            default_language=self.campaign.default_language,
        )

    def flow_for_state(self) -> str:
        return self.state.flow_id if self.state else self.campaign.flow_for(self.source)

    def step(self, event: Start | UserMessage) -> Turn:
        if self.state is not None and self.state.active:
            flow = self.library.flow(self.state.flow_id, self.state.flow_version)
        else:
            flow = self.library.flow(self.campaign.flow_for(self.source))
        assert flow is not None  # the library checked that campaigns name existing flows
        turn = respond(flow, self.state, event, self.context())
        self.state = turn.state
        if turn.state is not None:
            self.answers = dict(turn.state.answers) or self.answers
        for message in turn.messages:
            self.write(render_plain(message))
            self.write("")
        return turn

    def run(self) -> SessionState | None:
        self.step(Start(self.source, self.language))
        while self.state is not None and self.state.active:
            try:
                line = self.read()
            except (EOFError, KeyboardInterrupt):
                break
            entry = parse_keyword_entry(line, self.library.campaigns)
            if entry is not None:
                self.source = entry.source.id if entry.source else None
                self.step(Start(self.source))
            else:
                self.step(UserMessage(line))
        if self.state is not None and not self.state.active:
            summary = {
                "status": self.state.status,
                "flow": self.state.flow_id,
                "flow_version": self.state.flow_version,
                "language": self.state.language,
                "source": self.state.source,
                "answers": self.answers if self.state.status != "erased" else {},
            }
            self.write(json.dumps(summary, ensure_ascii=False, indent=2))
        return self.state
