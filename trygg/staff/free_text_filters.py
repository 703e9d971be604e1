"""What the free-text page may show and filter by, read from the campaign's flows, and
the checks on every value a request brings (filters, tags).

The questions are the flows' ``text`` steps, never a fixed list, so a new open question
shows up without a code change. A filter value that is not one the campaign has is
refused with a message that says which one, instead of quietly showing everything.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from dialog_flows.library import Library
from dialog_flows.model import Campaign, StepKind
from storage.tags import TextFilter
from trygg.export.flows import campaign_flows

PAGE_SIZE = 50
LAST_PAGE = 100_000  # far beyond any campaign; keeps OFFSET bounded
SHORT_QUESTION = 70  # characters of a question's text shown beside an answer
TAG_LENGTH = 64
UNTAGGED = "_utan"  # the tag filter "answers without a tag"; "_" is never in a tag
NO_SOURCE = "_ingen"  # the source filter "came without a source"
# The staff work in Sweden: a day in a date filter is a Swedish calendar day.
STOCKHOLM = ZoneInfo("Europe/Stockholm")


class FilterError(ValueError):
    """A filter or tag value that cannot be used; the message is for the page."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str  # the Swedish wording, shortened
    full_text: str


@dataclass(frozen=True)
class Choices:
    """What the campaign's answers can be filtered by."""

    questions: list[Question]
    languages: list[tuple[str, str]]  # code, Swedish name
    sources: list[tuple[str, str]]  # id, name

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def swedish_name(code: str) -> str:
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("sv")
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    # CLDR writes Swedish language names in lower case; in a list they start with a capital.
    return name[:1].upper() + name[1:] if name else code


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_QUESTION else text[: SHORT_QUESTION - 1].rstrip() + "…"


def choices_of(library: Library, campaign: Campaign) -> Choices:
    """The campaign's text questions (main flow first, its wording), languages, sources."""
    questions: list[Question] = []
    languages: list[tuple[str, str]] = []
    for flow in campaign_flows(library, campaign.id):
        for step in flow.steps:
            if step.kind is StepKind.TEXT and all(q.id != step.id for q in questions):
                questions.append(Question(step.id, _short(step.text), step.text))
        for code in flow.languages:
            if all(known != code for known, _ in languages):
                languages.append((code, swedish_name(code)))
    sources = [(source.id, source.name) for source in campaign.sources]
    return Choices(questions, languages, sources)


def normalise_tag(text: str) -> str:
    """A theme tag as stored: trimmed, lower case, single spaces; letters of any script
    (with their marks, which many scripts need), digits, spaces and hyphens only."""
    tag = " ".join(unicodedata.normalize("NFC", text).split()).lower()
    if not tag:
        raise FilterError("Skriv en tagg.")
    if len(tag) > TAG_LENGTH:
        raise FilterError(f"En tagg får ha högst {TAG_LENGTH} tecken.")
    allowed = all(
        unicodedata.category(char)[0] in "LM" or char.isdecimal() or char in " -" for char in tag
    )
    if not allowed or not any(char.isalnum() for char in tag):
        raise FilterError("En tagg får bara ha bokstäver, siffror, mellanslag och bindestreck.")
    return tag


@dataclass(frozen=True)
class Filters:
    """The filter form as given (empty: any), so the page can show it again."""

    step: str = ""
    language: str = ""
    source: str = ""
    since: str = ""  # the form field "from", a date
    until: str = ""  # the form field "to", a date, inclusive
    tag: str = ""  # a tag, UNTAGGED, or empty
    page: int = 1

    def query(self, page: int | None = None) -> str:
        """The query string that shows this selection again (at another page)."""
        values = {
            "step": self.step,
            "language": self.language,
            "source": self.source,
            "from": self.since,
            "to": self.until,
            "tag": self.tag,
        }
        wanted = self.page if page is None else page
        pairs = [(key, value) for key, value in values.items() if value]
        if wanted > 1:
            pairs.append(("page", str(wanted)))
        return urlencode(pairs)

    def link(self, path: str, page: int | None = None) -> str:
        query = self.query(page)
        return f"{path}?{query}" if query else path


def _date(value: str, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label} ska vara ett datum som 2026-11-24, inte '{value}'.") from None


def entered_filters(params: Mapping[str, str]) -> Filters:
    """The form as typed (page 1), unchecked: to show it again beside a problem."""
    return Filters(
        step=params.get("step", "").strip(),
        language=params.get("language", "").strip(),
        source=params.get("source", "").strip(),
        since=params.get("from", "").strip(),
        until=params.get("to", "").strip(),
        tag=params.get("tag", "").strip(),
    )


def parse_filters(params: Mapping[str, str], choices: Choices) -> Filters:
    """The filters of a request, each checked against what the campaign has."""
    filters = entered_filters(params)
    if filters.step and choices.question(filters.step) is None:
        raise FilterError(f"Kampanjen har ingen fritextfråga '{filters.step}'.")
    if filters.language and filters.language not in dict(choices.languages):
        raise FilterError(f"Kampanjen har inget språk '{filters.language}'.")
    if filters.source and filters.source not in {*dict(choices.sources), NO_SOURCE}:
        raise FilterError(f"Kampanjen har ingen källa '{filters.source}'.")
    since, until = _date(filters.since, "Från"), _date(filters.until, "Till")
    if since and until and since > until:
        raise FilterError("Datumet 'från' ligger efter datumet 'till'.")
    if filters.tag and filters.tag != UNTAGGED:
        filters = replace(filters, tag=normalise_tag(filters.tag))
    page = params.get("page", "").strip() or "1"
    if not page.isdecimal() or not 1 <= int(page) <= LAST_PAGE:
        raise FilterError(f"Sidan ska vara ett tal från 1 till {LAST_PAGE}, inte '{page}'.")
    return replace(filters, page=int(page))


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=STOCKHOLM).astimezone(dt.UTC)


def text_filter(filters: Filters, campaign: Campaign, choices: Choices) -> TextFilter:
    """The database's filter for checked filters."""
    since, until = _date(filters.since, "Från"), _date(filters.until, "Till")
    questions = [filters.step] if filters.step else [q.id for q in choices.questions]
    return TextFilter(
        campaign_id=campaign.id,
        questions=questions,
        language=filters.language or None,
        source=filters.source if filters.source and filters.source != NO_SOURCE else None,
        no_source=filters.source == NO_SOURCE,
        since=_start_of(since) if since else None,
        before=_start_of(until + dt.timedelta(days=1)) if until else None,
        tag=filters.tag if filters.tag and filters.tag != UNTAGGED else None,
        untagged=filters.tag == UNTAGGED,
    )
