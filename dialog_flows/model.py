"""The questionnaire as data: flows, steps, choices and campaigns.

Everything here is immutable and already validated (see ``loader``). Texts are the
Swedish source; translations are looked up by the ids, never by position, so answers
given in different languages add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dialog_flows.conditions import Condition


class StepKind(StrEnum):
    MESSAGE = "message"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"
    NUMBER = "number"
    PLACE_RATING = "place_rating"
    FEEDBACK = "feedback"  # whether and how the person wants återkoppling (the results)


ANSWERING_KINDS = frozenset(StepKind) - {StepKind.MESSAGE}
CHOICE_KINDS = frozenset(
    {StepKind.SINGLE_CHOICE, StepKind.MULTIPLE_CHOICE, StepKind.PLACE_RATING, StepKind.FEEDBACK}
)


class Delivery(StrEnum):
    """How a person wants the återkoppling, chosen in a feedback step."""

    HERE = "here"  # on the channel they are using now
    SMS = "sms"  # by SMS to a number they give
    NONE = "none"


# The place rating's fixed scale, from the brief's green/yellow/red photo exercise.
PLACE_RATINGS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    note: str | None = None  # for translators
    deliver: Delivery | None = None  # feedback steps only
    ask_address: str | None = None  # feedback steps with deliver: sms


@dataclass(frozen=True)
class Place:
    number: int
    name: str
    image: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    text: str
    optional: bool = False
    show_skip: bool = True
    when: Condition | None = None
    note: str | None = None
    choices: tuple[Choice, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 2000
    place: Place | None = None
    image: str | None = None
    line: int = 0

    @property
    def answers(self) -> bool:
        return self.kind is not StepKind.MESSAGE

    def choice(self, choice_id: str) -> Choice | None:
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        return None


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: str
    languages: tuple[str, ...]  # the first is the source language, Swedish
    steps: tuple[Step, ...]
    help: str | None = None  # who asks and why, shown with the keyword list on HJÄLP
    language_menu: str = "when_unknown"  # when_unknown | always | never
    reminder_after_hours: float = 48.0
    expire_after_hours: float = 7 * 24.0
    source_file: str = ""
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({step.id: position for position, step in enumerate(self.steps)})

    @property
    def source_language(self) -> str:
        return self.languages[0]

    def step(self, step_id: str) -> Step:
        return self.steps[self._index[step_id]]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index

    def position(self, step_id: str) -> int:
        return self._index[step_id]


@dataclass(frozen=True)
class Source:
    """An activity or poster that brings people in (deep link, QR code, SMS keyword)."""

    id: str
    name: str
    flow: str | None = None  # a source may start another flow, e.g. easy-read Swedish


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    keyword: str
    flow: str
    default_language: str = "sv"
    sources: tuple[Source, ...] = ()
    ends: str | None = None  # ISO date; contact data is erased after it
    source_file: str = ""

    def source(self, source_id: str) -> Source | None:
        wanted = source_id.casefold()
        for source in self.sources:
            if source.id.casefold() == wanted:
                return source
        return None

    def flow_for(self, source_id: str | None) -> str:
        source = self.source(source_id) if source_id else None
        return source.flow if source and source.flow else self.flow
