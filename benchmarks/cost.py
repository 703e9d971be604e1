"""Benchmark 5: what one complete Karlslund questionnaire costs by SMS, per language.

Cost is counted on what people actually get, not on the prompts alone: the engine (pure,
as every channel runs it) takes one person through the whole questionnaire on the SMS
channel, answering every question (one choice each, a short free text, no återkoppling),
and every message it sends back is rendered as the SMS adapter renders it and costed in
GSM-7 or UCS-2 segments. The reference is Swedish, the questionnaire's source language;
Arabic, Persian and Ukrainian need UCS-2, which holds 70 characters a segment, not 160.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.figures import Figure
from dialog_flows.engine import respond
from dialog_flows.library import Library, load_library
from dialog_flows.model import Flow
from dialog_flows.render_text import render_plain
from dialog_flows.session import Context, Inbound, SessionState, Start, UserMessage
from dialog_flows.sms_encoding import sms_cost
from trygg.settings import Settings

ANSWER_TEXT = "Mörkt vid tunneln."
MAX_TURNS = 200


@dataclass(frozen=True)
class RunCost:
    language: str
    messages: int
    segments: int
    ucs2: bool


def run_cost(flow: Flow, library: Library, language: str) -> RunCost:
    """Segments of everything one person is sent while answering every question."""
    context = Context(now=0.0, channel="sms", translations=library.translations)
    state: SessionState | None = None
    event: Inbound = Start(language=language)
    messages = segments = 0
    ucs2 = False
    for _ in range(MAX_TURNS):
        turn = respond(flow, state, event, context)
        for message in turn.messages:
            cost = sms_cost(render_plain(message, for_sms=True))
            messages += 1
            segments += cost.segments
            ucs2 = ucs2 or cost.encoding == "UCS-2"
        state = turn.state
        if state is None or not state.active:
            return RunCost(language, messages, segments, ucs2)
        asking = [m for m in turn.messages if m.input != "none" or m.options]
        if not asking:
            raise AssertionError(f"flow {flow.id} ({language}) waits without asking")
        event = _answer(asking[-1], state)
    raise AssertionError(f"flow {flow.id} ({language}) did not end in {MAX_TURNS} turns")


def _answer(message: object, state: SessionState) -> UserMessage:
    options = getattr(message, "options", ())
    step = getattr(message, "step_id", None)
    real = [o for o in options if not o.payload.endswith((":_skip", ":_done"))]
    if getattr(message, "input", "") == "multiple":
        done = f"{step}:_done"
        chosen = any(o.selected for o in options)
        return UserMessage(payload=done if chosen else real[0].payload)
    if step == "feedback":  # no återkoppling: its number prompt is not part of the run
        no = [o for o in real if o.payload.endswith(':"no"') or o.payload.endswith(":no")]
        return UserMessage(payload=(no or real)[-1].payload)
    if real:
        return UserMessage(payload=real[0].payload)
    return UserMessage(text=ANSWER_TEXT)


def run(size: str = "full", postgres_url: str | None = None) -> list[Figure]:
    """The same at every size: it is arithmetic on the flows, not a load."""
    settings = Settings()
    library = load_library([settings.flows_dir], settings.locales_dir)
    price = settings.sms_segment_price
    figures: list[Figure] = []
    for flow in library.current_flows():
        swedish = run_cost(flow, library, flow.source_language)
        for language in flow.languages:
            cost = run_cost(flow, library, language)
            figures.append(
                Figure(
                    "cost",
                    f"{flow.id}, {language}: SMS segments per complete questionnaire",
                    cost.segments,
                    "segments",
                    reference=swedish.segments,
                    reference_name=f"{flow.source_language}",
                    note=(
                        f"{cost.messages} messages, {'UCS-2' if cost.ucs2 else 'GSM-7'}, "
                        f"about {cost.segments * price:.2f} {settings.sms_currency}"
                    ),
                )
            )
    return figures
