"""Asking one step and reading the answer to it, for every step kind.

``ask`` turns a step into a neutral message in the person's language. ``interpret``
reads a typed text or a tapped payload as an answer to that step: a value, a skip, a
change to a multiple-choice selection, or a reason to ask again.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialog_flows import payloads, texts
from dialog_flows.flow_texts import choice_context, step_context
from dialog_flows.languages import direction
from dialog_flows.matching import (
    first_keyword,
    keyword_forms,
    normalise,
    parse_integer,
    parse_integer_list,
)
from dialog_flows.model import Choice, Delivery, Flow, Step, StepKind
from dialog_flows.session import Answer, InputKind, Option, Outgoing, SessionState, UserMessage
from dialog_flows.translations import Translations

_RATING_TEXTS = {
    "green": (texts.RATING_GREEN, "🟢"),
    "yellow": (texts.RATING_YELLOW, "🟡"),
    "red": (texts.RATING_RED, "🔴"),
}
_INPUT: dict[StepKind, InputKind] = {
    StepKind.SINGLE_CHOICE: "single",
    StepKind.PLACE_RATING: "single",
    StepKind.FEEDBACK: "single",
    StepKind.MULTIPLE_CHOICE: "multiple",
    StepKind.TEXT: "text",
    StepKind.NUMBER: "number",
    StepKind.MESSAGE: "none",
}


def visible_choices(step: Step, channel: str) -> tuple[Choice, ...]:
    """The choices shown on this channel. Numbers are positions in this tuple."""
    if step.kind is StepKind.FEEDBACK and channel == "sms":
        # On SMS, "by SMS" and "here" are the same answer; offer it once.
        return tuple(choice for choice in step.choices if choice.deliver is not Delivery.SMS)
    return step.choices


def choice_label(tr: Translations, language: str, flow: Flow, step: Step, choice: Choice) -> str:
    if step.kind is StepKind.PLACE_RATING:
        return tr.system(language, _RATING_TEXTS[choice.id][0])
    return tr.text(language, choice_context(flow, step, choice, "label"), choice.label)


def step_text(tr: Translations, language: str, flow: Flow, step: Step) -> str:
    text = tr.text(language, step_context(flow, step, "text"), step.text)
    if step.place is not None:
        name = tr.text(language, step_context(flow, step, "place"), step.place.name)
        heading = tr.system(language, texts.PLACE_HEADING).format(
            number=step.place.number, name=name
        )
        text = f"{heading}\n{text}"
    return text


def ask(
    flow: Flow, step: Step, state: SessionState, tr: Translations, prefix: str | None = None
) -> Outgoing:
    language = state.language
    text = step_text(tr, language, flow, step)
    if prefix:
        text = f"{prefix}\n\n{text}"
    options: list[Option] = []
    for number, choice in enumerate(visible_choices(step, state.channel), start=1):
        symbol = _RATING_TEXTS[choice.id][1] if step.kind is StepKind.PLACE_RATING else None
        options.append(
            Option(
                id=choice.id,
                label=choice_label(tr, language, flow, step, choice),
                payload=payloads.encode(step.id, choice.id),
                number=number,
                symbol=symbol,
                selected=choice.id in state.selection,
            )
        )
    hint: str | None = None
    skip_word = first_keyword(tr.system(language, texts.KEYWORD_SKIP))
    numbered = step.kind in (
        StepKind.SINGLE_CHOICE,
        StepKind.MULTIPLE_CHOICE,
        StepKind.PLACE_RATING,
        StepKind.FEEDBACK,
    )
    if step.kind is StepKind.MULTIPLE_CHOICE:
        done = tr.system(language, texts.DONE_LABEL)
        text = f"{text}\n{tr.system(language, texts.MULTIPLE_HINT)}"
        hint = tr.system(language, texts.MULTIPLE_TEXT_HINT)
        options.append(
            Option(id=payloads.DONE, label=done, payload=payloads.encode(step.id, payloads.DONE))
        )
    if step.optional and step.show_skip:
        options.append(
            Option(
                id=payloads.SKIP,
                label=tr.system(language, texts.SKIP_LABEL),
                payload=payloads.encode(step.id, payloads.SKIP),
                number=len(visible_choices(step, state.channel)) + 1 if numbered else None,
            )
        )
        if not numbered:
            hint = tr.system(language, texts.SKIP_HINT).format(skip=skip_word)
    return Outgoing(
        text=text,
        language=language,
        direction=direction(language),
        options=tuple(options),
        input=_INPUT[step.kind],
        step_id=step.id,
        image=step.place.image if step.place and step.place.image else step.image,
        text_hint=hint,
    )


@dataclass(frozen=True)
class Interpretation:
    """What an input meant for the current step. Exactly one field is meaningful."""

    value: Answer | None = None
    skip: bool = False
    selection: tuple[str, ...] | None = None  # a multiple-choice tick; ask again with marks
    reask: texts.SystemText | None = None


def interpret(
    flow: Flow, step: Step, state: SessionState, message: UserMessage, tr: Translations
) -> Interpretation:
    choices = visible_choices(step, state.channel)
    if message.payload is not None:
        decoded = payloads.decode(message.payload)
        choice_id = decoded[1] if decoded else ""
        return _choice_payload(step, state, choices, choice_id)
    text = message.text.strip()
    if not text:
        return Interpretation(
            reask=texts.REASK_NOT_TEXT if message.has_attachment else _reask_for(step)
        )
    if step.optional and is_keyword(text, texts.KEYWORD_SKIP, tr):
        return Interpretation(skip=True)
    if step.kind is StepKind.TEXT:
        if len(text) > step.max_length:
            return Interpretation(reask=texts.REASK_TEXT_LONG)
        return Interpretation(value=text)
    if step.kind is StepKind.NUMBER:
        number = parse_integer(text)
        low, high = step.min_value or 0, step.max_value or 0
        if number is None or not low <= number <= high:
            return Interpretation(reask=texts.REASK_NUMBER)
        return Interpretation(value=number)
    if step.kind is StepKind.MULTIPLE_CHOICE:
        return _multiple_text(flow, step, state, choices, text, tr)
    chosen = _match_one(flow, step, state, choices, text, tr)
    if chosen == payloads.SKIP and step.optional:
        return Interpretation(skip=True)
    if chosen is None or chosen == payloads.SKIP:
        return Interpretation(reask=texts.REASK_CHOICE)
    return Interpretation(value=chosen)


def _choice_payload(
    step: Step, state: SessionState, choices: tuple[Choice, ...], choice_id: str
) -> Interpretation:
    if choice_id == payloads.SKIP:
        return (
            Interpretation(skip=True)
            if step.optional
            else Interpretation(reask=texts.REASK_REQUIRED)
        )
    if step.kind is StepKind.MULTIPLE_CHOICE:
        if choice_id == payloads.DONE:
            if not state.selection:
                return Interpretation(reask=texts.REASK_MULTIPLE_EMPTY)
            return Interpretation(value=_in_order(choices, state.selection))
        if any(choice.id == choice_id for choice in choices):
            ticked = set(state.selection) ^ {choice_id}
            return Interpretation(selection=tuple(_in_order(choices, ticked)))
        return Interpretation(reask=texts.REASK_MULTIPLE)
    if any(choice.id == choice_id for choice in choices):
        return Interpretation(value=choice_id)
    return Interpretation(reask=texts.REASK_CHOICE)


def _multiple_text(
    flow: Flow,
    step: Step,
    state: SessionState,
    choices: tuple[Choice, ...],
    text: str,
    tr: Translations,
) -> Interpretation:
    if is_keyword(text, texts.KEYWORD_DONE, tr):
        if state.selection:
            return Interpretation(value=_in_order(choices, state.selection))
        return Interpretation(reask=texts.REASK_MULTIPLE_EMPTY)
    numbers = parse_integer_list(text)
    if numbers is not None:
        if all(1 <= number <= len(choices) for number in numbers):
            picked = {choices[number - 1].id for number in numbers}
            return Interpretation(value=_in_order(choices, picked))
        if step.optional and step.show_skip and numbers == [len(choices) + 1]:
            return Interpretation(skip=True)
        return Interpretation(reask=texts.REASK_MULTIPLE)
    chosen = _match_label(flow, step, state, choices, text, tr)
    if chosen is not None:
        return Interpretation(value=[chosen])
    return Interpretation(reask=texts.REASK_MULTIPLE)


def _match_one(
    flow: Flow,
    step: Step,
    state: SessionState,
    choices: tuple[Choice, ...],
    text: str,
    tr: Translations,
) -> str | None:
    number = parse_integer(text)
    if number is not None:
        if 1 <= number <= len(choices):
            return choices[number - 1].id
        if step.optional and step.show_skip and number == len(choices) + 1:
            return payloads.SKIP
        return None
    return _match_label(flow, step, state, choices, text, tr)


def _match_label(
    flow: Flow,
    step: Step,
    state: SessionState,
    choices: tuple[Choice, ...],
    text: str,
    tr: Translations,
) -> str | None:
    """The whole label, in the person's language or in Swedish, or the choice id."""
    wanted = normalise(text)
    if not wanted:
        return None
    for choice in choices:
        forms = {
            normalise(choice_label(tr, state.language, flow, step, choice)),
            normalise(choice_label(tr, flow.source_language, flow, step, choice)),
            normalise(choice.id.replace("_", " ")),
        }
        if wanted in forms:
            return choice.id
    return None


def is_keyword(text: str, listing: texts.SystemText, tr: Translations) -> bool:
    wanted = normalise(text)
    return any(wanted in keyword_forms(form) for form in tr.system_everywhere(listing))


def _in_order(choices: tuple[Choice, ...], picked: set[str] | tuple[str, ...]) -> list[str]:
    return [choice.id for choice in choices if choice.id in picked]


def reask_values(step: Step, state: SessionState, tr: Translations) -> dict[str, object]:
    """Every value a re-ask text may name; each text uses the ones it needs."""
    choices = visible_choices(step, state.channel)
    return {
        "count": len(choices) + (1 if step.optional and step.show_skip else 0),
        "min": step.min_value,
        "max": step.max_value if step.kind is StepKind.NUMBER else step.max_length,
        "skip": first_keyword(tr.system(state.language, texts.KEYWORD_SKIP)),
    }


def _reask_for(step: Step) -> texts.SystemText:
    if step.kind is StepKind.TEXT:
        return texts.REASK_TEXT_EMPTY
    if step.kind is StepKind.MULTIPLE_CHOICE:
        return texts.REASK_MULTIPLE
    if step.kind is StepKind.NUMBER:
        return texts.REASK_NUMBER
    return texts.REASK_CHOICE
