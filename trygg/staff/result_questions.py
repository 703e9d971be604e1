"""What the campaign asks, in Swedish, for the results page: questions in the order the
flows ask them, their choices' labels, and names for sources, channels and languages.

Labels come from the flows the export uses (``trygg.export.flows``), so a question or a
choice reads the same on the page as in a downloaded table. Ids that only older flow
versions had are still counted, under their id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from dialog_flows.library import IMAGE_NAME, Library
from dialog_flows.model import Campaign, Flow, Step, StepKind
from dialog_flows.questions import choice_label
from trygg.export.flows import SOURCE_ONLY, campaign_flows, question_order
from trygg.staff.result_filters import CHANNEL_NAMES

DEMOGRAPHICS = ("age_group", "gender")
CHOICE_KINDS = (StepKind.SINGLE_CHOICE, StepKind.MULTIPLE_CHOICE, StepKind.FEEDBACK)
NO_SOURCE_LABEL = "Ingen källa"
# Channels every campaign can have; others (the terminal) are listed when they occur.
USUAL_CHANNELS = ("telegram", "sms", "whatsapp", "facebook", "web")


@dataclass(frozen=True)
class Question:
    id: str
    label: str  # the question's text, or "Plats 2: Karlslundsbadet"
    kind: StepKind | None  # None: an id no current flow has
    choices: tuple[tuple[str, str], ...] = ()  # (choice id, Swedish label), as asked
    image: str | None = None  # a place photo's file name in the flow folder

    @property
    def multiple(self) -> bool:
        return self.kind is StepKind.MULTIPLE_CHOICE

    @property
    def photo(self) -> str | None:
        """The place photo served at ``/media/NAME``; an image elsewhere (a URL) is not
        shown, since the staff pages load nothing from other sites."""
        return self.image if self.image and IMAGE_NAME.match(self.image) else None


@dataclass(frozen=True)
class Questionnaire:
    flows: list[Flow]
    questions: list[Question]  # every answering step, as the flows ask them

    @property
    def languages(self) -> tuple[str, ...]:
        codes: list[str] = []
        for flow in self.flows:
            codes += [code for code in flow.languages if code not in codes]
        return tuple(codes)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        return Question(question_id, question_id, None)

    def of_kind(self, *kinds: StepKind) -> list[Question]:
        return [question for question in self.questions if question.kind in kinds]


def questionnaire(library: Library, campaign: Campaign) -> Questionnaire:
    flows = campaign_flows(library, campaign.id)
    first: dict[str, tuple[Flow, Step]] = {}
    for flow in flows:
        for step in flow.steps:
            first.setdefault(step.id, (flow, step))
    questions = [_question(*first[question_id]) for question_id in question_order(flows)]
    return Questionnaire(flows, questions)


def _question(flow: Flow, step: Step) -> Question:
    choices = tuple(
        (choice.id, choice_label(SOURCE_ONLY, flow.source_language, flow, step, choice))
        for choice in step.choices
    )
    if step.place is not None:
        label = f"Plats {step.place.number}: {step.place.name}"
        return Question(step.id, label, step.kind, choices, step.place.image)
    return Question(step.id, " ".join(step.text.split()), step.kind, choices)


def with_found(known: list[tuple[str, str]], found: Iterable[str]) -> list[tuple[str, str]]:
    """The known categories, then ids found in the data that they lack, sorted."""
    ids = {key for key, _ in known}
    return known + [(key, key) for key in sorted(set(found) - ids)]


def language_name(code: str) -> str:
    """The language's Swedish name: Arabiska, Somaliska."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("sv")
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return (name[:1].upper() + name[1:]) if name else code


def source_categories(
    campaign: Campaign, found: Iterable[str | None]
) -> list[tuple[str | None, str]]:
    known: list[tuple[str | None, str]] = [(source.id, source.name) for source in campaign.sources]
    ids = {key for key, _ in known}
    extra = sorted(key for key in set(found) if key is not None and key not in ids)
    return [*known, *((key, key) for key in extra), (None, NO_SOURCE_LABEL)]


def channel_categories(found: Iterable[str]) -> list[tuple[str, str]]:
    known = [(channel, CHANNEL_NAMES[channel]) for channel in USUAL_CHANNELS]
    return [(key, CHANNEL_NAMES.get(key, label)) for key, label in with_found(known, found)]


def language_categories(languages: Iterable[str], found: Iterable[str]) -> list[tuple[str, str]]:
    return [
        (code, language_name(code))
        for code, _ in with_found([(code, code) for code in languages], found)
    ]
