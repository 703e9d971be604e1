"""For any inputs at all, a session waits for an answer or has ended, and nobody is ignored."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialog_flows.engine import respond
from dialog_flows.library import Library
from dialog_flows.model import Flow
from dialog_flows.session import (
    ENDED,
    Context,
    Inbound,
    SessionState,
    Start,
    Tick,
    UserMessage,
)

KEYWORDS = [
    "STOPP",
    "HJÄLP",
    "SPRÅK",
    "BÖRJA OM",
    "RADERA",
    "RESULTAT",
    "اللغة",
    "hoppa över",
    "klar",
]


def payloads_for(flow: Flow) -> list[str]:
    values = ["_lang:sv", "_lang:ar", "_lang:xx", "", ":", "nonsense"]
    for step in flow.steps:
        values += [f"{step.id}:{choice.id}" for choice in step.choices]
        values += [f"{step.id}:_skip", f"{step.id}:_done"]
    return values


def inbound(flow: Flow) -> st.SearchStrategy[Inbound]:
    texts = st.one_of(
        st.text(max_size=40),
        st.sampled_from(KEYWORDS),
        st.integers(-3, 15).map(str),
        st.sampled_from(["١", "٢", "٣", "1,2", "070-123 45 67", "Otryggt", "English", "🙂"]),
        st.text(min_size=2000, max_size=2100, alphabet="ab ع"),
    )
    return st.one_of(
        texts.map(UserMessage),
        st.sampled_from(payloads_for(flow)).map(lambda p: UserMessage("", payload=p)),
        st.booleans().map(lambda _: UserMessage("", has_attachment=True)),
        st.sampled_from([None, "badet", "lss"]).map(Start),
        st.just(Tick()),
    )


def check_invariants(flow: Flow, state: SessionState | None) -> None:
    if state is None:
        return
    json.dumps(state.to_dict())  # always serialisable
    assert SessionState.from_dict(state.to_dict()) == state
    if state.status in ENDED:
        assert state.step_id is None and state.awaiting is None
        return
    assert state.status == "active"
    assert state.awaiting in ("answer", "language", "address")
    if state.awaiting in ("answer", "address"):
        assert state.step_id is not None and flow.has_step(state.step_id)
        assert flow.step(state.step_id).answers


def run_sequence(flow: Flow, library: Library, events: list[Inbound], channel: str) -> None:
    state: SessionState | None = None
    now = 1_000_000.0
    for event in events:
        now += 3600 * 6 if isinstance(event, Tick) else 5
        context = Context(now=now, channel=channel, translations=library.translations)
        turn = respond(flow, state, event, context)
        if not isinstance(event, Tick):
            assert turn.messages, f"no reply to {event!r}"
        assert all(message.text.strip() for message in turn.messages)
        state = turn.state
        check_invariants(flow, state)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_inputs_on_the_karlslund_flow(library: Library, data: st.DataObject) -> None:
    flow = library.flow("karlslund")
    assert flow is not None
    events = data.draw(st.lists(inbound(flow), max_size=40))
    channel = data.draw(st.sampled_from(["sms", "telegram", "facebook", "web", "console"]))
    run_sequence(flow, library, events, channel)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_inputs_on_the_easy_read_flow(library: Library, data: st.DataObject) -> None:
    flow = library.flow("karlslund-lattlast")
    assert flow is not None
    events = data.draw(st.lists(inbound(flow), max_size=30))
    run_sequence(flow, library, events, "web")
