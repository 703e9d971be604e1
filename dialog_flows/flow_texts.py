"""Every translatable text of a flow, with its message context.

One list, used by the Babel extractor, by ``lint`` (coverage) and by the engine (look-up),
so all three always agree on what a context is called: ``FLOW/STEP[/CHOICE]:FIELD``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dialog_flows.model import Choice, Flow, Step, StepKind


@dataclass(frozen=True)
class FlowText:
    context: str
    source: str
    comment: str | None
    line: int


def step_context(flow: Flow, step: Step, field: str) -> str:
    return f"{flow.id}/{step.id}:{field}"


def choice_context(flow: Flow, step: Step, choice: Choice, field: str) -> str:
    return f"{flow.id}/{step.id}/{choice.id}:{field}"


def flow_context(flow: Flow, field: str) -> str:
    return f"{flow.id}:{field}"


def flow_texts(flow: Flow) -> Iterator[FlowText]:
    yield FlowText(flow_context(flow, "title"), flow.title, "The questionnaire's title", 1)
    if flow.help:
        yield FlowText(
            flow_context(flow, "help"), flow.help, "Shown when a person asks for help", 1
        )
    for step in flow.steps:
        yield FlowText(step_context(flow, step, "text"), step.text, step.note, step.line)
        if step.place is not None:
            comment = f"Name of place number {step.place.number}"
            yield FlowText(step_context(flow, step, "place"), step.place.name, comment, step.line)
        if step.kind is StepKind.PLACE_RATING:
            continue  # its choices are the fixed scale in texts.py
        for choice in step.choices:
            note = choice.note or f"A choice of: {step.text[:60]}"
            yield FlowText(
                choice_context(flow, step, choice, "label"), choice.label, note, step.line
            )
            if choice.ask_address:
                yield FlowText(
                    choice_context(flow, step, choice, "ask_address"),
                    choice.ask_address,
                    "Asks for a mobile number to send the results to",
                    step.line,
                )
