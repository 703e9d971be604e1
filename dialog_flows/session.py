"""The engine's inputs and outputs: session state, inbound events, outgoing messages.

All plain, immutable values. The state round-trips through JSON (``to_dict`` /
``from_dict``) so storage can keep it in one column and tests can compare it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from dialog_flows.languages import Direction
from dialog_flows.translations import Translations

Answer = str | int | list[str]
Status = Literal["active", "completed", "stopped", "expired", "erased"]
Awaiting = Literal["answer", "language", "address"]
InputKind = Literal["none", "single", "multiple", "text", "number", "language"]
EventKind = Literal[
    "session_started",
    "answer_recorded",
    "step_skipped",
    "language_changed",
    "completed",
    "opted_out",
    "erase_requested",
    "results_requested",
    "feedback_opt_in",
    "restarted",
    "reminded",
    "expired",
]
ENDED: frozenset[str] = frozenset({"completed", "stopped", "expired", "erased"})


@dataclass(frozen=True)
class SessionState:
    flow_id: str
    flow_version: int
    channel: str
    language: str
    started_at: float
    last_activity_at: float
    language_explicit: bool = False
    source: str | None = None
    status: Status = "active"
    step_id: str | None = None  # the question waiting for an answer
    awaiting: Awaiting | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    selection: tuple[str, ...] = ()  # a multiple choice being ticked, not yet done
    attempts: int = 0  # invalid answers to the current question
    reminded: bool = False

    @property
    def active(self) -> bool:
        return self.status == "active"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = list(self.skipped)
        data["selection"] = list(self.selection)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionState:
        values = dict(data)
        values["skipped"] = tuple(values.get("skipped", ()))
        values["selection"] = tuple(values.get("selection", ()))
        values["answers"] = dict(values.get("answers", {}))
        return cls(**values)

    def ended(self) -> SessionState:
        """What may be kept after the dialog ends: no answers, nothing to link them by."""
        return SessionState(
            flow_id=self.flow_id,
            flow_version=self.flow_version,
            channel=self.channel,
            language=self.language,
            started_at=self.started_at,
            last_activity_at=self.last_activity_at,
            language_explicit=self.language_explicit,
            status=self.status,
        )


# -- inbound ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """A person arrives: /start SOURCE, an m.me ref, an SMS keyword, a web chat link.
    ``language`` is an explicit choice (a language picker), not a hint."""

    source: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class UserMessage:
    """Whatever a person sent. ``payload`` is set when they tapped a button."""

    text: str = ""
    payload: str | None = None
    has_attachment: bool = False


@dataclass(frozen=True)
class Tick:
    """Time passes: reminders and expiry. The service sends it for idle sessions."""


Inbound = Start | UserMessage | Tick


@dataclass(frozen=True)
class Context:
    """What the engine needs from the world, handed in so the engine stays pure."""

    now: float
    channel: str
    translations: Translations
    language_hint: str | None = None  # Telegram language_code, Messenger locale
    default_language: str = "sv"
    feedback: Mapping[str, str] | None = None  # latest återkoppling text per language


# -- outbound --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    payload: str
    number: int | None = None  # what to type on a text-only channel; None: not numbered
    symbol: str | None = None  # e.g. a coloured circle for place ratings, on rich channels
    selected: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One neutral message. Each channel renders it its own way."""

    text: str
    language: str
    direction: Direction
    options: tuple[Option, ...] = ()
    input: InputKind = "none"
    step_id: str | None = None
    image: str | None = None
    text_hint: str | None = None  # for text-only channels: how to answer without buttons


@dataclass(frozen=True)
class Event:
    kind: EventKind
    step_id: str | None = None
    value: Answer | None = None
    language: str | None = None
    deliver: str | None = None  # feedback_opt_in: here, sms or none
    address: str | None = None  # feedback_opt_in by SMS: the number, never an answer


@dataclass(frozen=True)
class Turn:
    state: SessionState | None
    messages: tuple[Outgoing, ...] = ()
    events: tuple[Event, ...] = ()

    def event(self, kind: EventKind) -> Event | None:
        return next((event for event in self.events if event.kind == kind), None)


def outgoing_to_dict(message: Outgoing) -> dict[str, Any]:
    """JSON form of a message, as the outbox stores it."""
    return asdict(message)


def outgoing_from_dict(data: Mapping[str, Any]) -> Outgoing:
    values = dict(data)
    values["options"] = tuple(Option(**option) for option in values.get("options", ()))
    return Outgoing(**values)
