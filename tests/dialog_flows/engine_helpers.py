"""A small driver for engine tests: feed inputs, keep the state, collect what was said."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialog_flows.engine import respond
from dialog_flows.model import Flow
from dialog_flows.session import (
    Context,
    Event,
    Inbound,
    SessionState,
    Start,
    Tick,
    Turn,
    UserMessage,
)
from dialog_flows.translations import Translations

SMALL_FLOW = """
flow: small
version: 1
title: Liten enkät
languages: [sv, en, ar]
language_menu: when_unknown
reminder_after: 20h
expire_after: 7d
help: Polisen frågar.
steps:
  - id: intro
    type: message
    text: Hej! Det här är en test.
  - id: safe
    type: single_choice
    text: Känner du dig trygg?
    choices:
      - id: "yes"
        label: Ja
      - id: "no"
        label: Nej
      - id: unsure
        label: Vet inte riktigt
  - id: why
    type: text
    optional: true
    when: safe == "no"
    max_length: 50
    text: Varför inte?
  - id: where
    type: multiple_choice
    optional: true
    text: Var?
    choices:
      - id: park
        label: Parken
      - id: square
        label: Torget
      - id: station
        label: Stationen
  - id: age
    type: number
    optional: true
    min: 10
    max: 99
    text: Hur gammal är du?
  - id: place_1
    type: place_rating
    optional: true
    show_skip: false
    place: {number: 1, name: Torget, image: torget.jpg}
    text: Hur känns det här?
  - id: feedback
    type: feedback
    optional: true
    show_skip: false
    text: Vill du ha resultatet?
    choices:
      - id: here
        label: Ja, här
        deliver: here
      - id: sms
        label: Ja, via sms
        deliver: sms
        ask_address: Skriv ditt mobilnummer.
      - id: "no"
        label: Nej tack
        deliver: none
  - id: bye
    type: message
    text: Tack!
"""


@dataclass
class Driver:
    flow: Flow
    channel: str = "sms"
    translations: Translations = field(default_factory=Translations)
    language_hint: str | None = None
    feedback: dict[str, str] | None = None
    now: float = 1_000_000.0
    state: SessionState | None = None
    turns: list[Turn] = field(default_factory=list)

    def send(self, event: Inbound | str, *, payload: str | None = None) -> Turn:
        if isinstance(event, str):
            event = UserMessage(event, payload=payload)
        context = Context(
            now=self.now,
            channel=self.channel,
            translations=self.translations,
            language_hint=self.language_hint,
            feedback=self.feedback,
        )
        turn = respond(self.flow, self.state, event, context)
        self.state = turn.state
        self.turns.append(turn)
        return turn

    def start(self, source: str | None = None, language: str | None = None) -> Turn:
        return self.send(Start(source, language))

    def tap(self, payload: str) -> Turn:
        return self.send(UserMessage("", payload=payload))

    def tick(self, hours: float) -> Turn:
        self.now += hours * 3600
        return self.send(Tick())

    @property
    def last_text(self) -> str:
        return self.turns[-1].messages[-1].text

    def events(self, kind: str) -> list[Event]:
        return [event for turn in self.turns for event in turn.events if event.kind == kind]
