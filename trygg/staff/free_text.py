"""Free-text answers, filtered and tagged with themes (analyst and up).

Each answer is shown exactly as its writer typed it, in its own language and direction,
beside the question it answers. Analysts give answers theme tags ("belysning"), so what
people worry about can be counted across languages; the tag summary hides small counts
as the statistics export does. Nothing here names a person: an answer carries only its
random respondent id. Every tag change is in the audit log, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialog_flows.model import Campaign
from storage import repositories as repo
from storage import tags as tag_store
from storage.tags import TextAnswer
from trygg.export.stats import DEFAULT_MIN_CELL, suppress
from trygg.staff.accounts import Staff
from trygg.staff.auth import Analyst, StaffRefused, runtime_of
from trygg.staff.free_text_filters import (
    NO_SOURCE,
    PAGE_SIZE,
    STOCKHOLM,
    UNTAGGED,
    Choices,
    FilterError,
    Filters,
    Question,
    choices_of,
    entered_filters,
    normalise_tag,
    parse_filters,
    text_filter,
)
from trygg.staff.pages import campaign_or_404, render

router = APIRouter()
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook": "Messenger",
    "web": "Webbchatt",
    "console": "Terminal",
}
FEW = f"färre än {DEFAULT_MIN_CELL}"
HIDDEN = "x"  # hidden only so that a small count cannot be worked out from the total


@dataclass(frozen=True)
class ShownAnswer:
    answer: TextAnswer
    question: Question
    tags: list[str]
    lang: str  # BCP 47, for the lang attribute
    language: str
    source: str
    channel: str
    answered: str  # Swedish local time

    @property
    def anchor(self) -> str:
        return anchor(self.answer.respondent_id, self.answer.question_id)


def anchor(respondent_id: str, question_id: str) -> str:
    """The answer's id in the page, so a tag change returns to where it was made."""
    return f"svar-{respondent_id}-{question_id}"


@dataclass(frozen=True)
class SummaryRow:
    tag: str
    total: int | str
    by_language: list[int | str]


def _shown(value: int, hidden: bool) -> int | str:
    if not hidden:
        return value
    return FEW if value < DEFAULT_MIN_CELL else HIDDEN


def tag_summary(
    counts: list[tuple[str, str, int]], choices: Choices
) -> tuple[list[tuple[str, str]], list[SummaryRow]]:
    """Per tag: answers in all and per language, small counts hidden (``suppress``)."""
    used = {language for _, language, _ in counts}
    languages = [(code, name) for code, name in choices.languages if code in used]
    languages += [(code, code) for code in sorted(used - {code for code, _ in languages})]
    by_tag: dict[str, dict[str, int]] = {}
    for tag, language, count in counts:
        by_tag.setdefault(tag, {})[language] = count
    rows = []
    for tag, per_language in by_tag.items():
        values = [per_language.get(code, 0) for code, _ in languages]
        hidden, total_hidden = suppress(values, sum(values), DEFAULT_MIN_CELL)
        rows.append(
            SummaryRow(
                tag,
                _shown(sum(values), total_hidden),
                [_shown(value, hide) for value, hide in zip(values, hidden, strict=True)],
            )
        )
    return languages, sorted(rows, key=lambda row: row.tag)


def _shown_answer(
    answer: TextAnswer, tags: list[str], choices: Choices, sources: dict[str, str]
) -> ShownAnswer:
    question = choices.question(answer.question_id) or Question(
        answer.question_id, answer.question_id, answer.question_id
    )
    local = answer.answered_at.replace(tzinfo=answer.answered_at.tzinfo or dt.UTC)
    return ShownAnswer(
        answer=answer,
        question=question,
        tags=tags,
        lang=answer.language.replace("_", "-"),
        language=dict(choices.languages).get(answer.language, answer.language),
        source=sources.get(answer.source or "", answer.source or "(ingen källa)"),
        channel=CHANNEL_NAMES.get(answer.channel, answer.channel),
        answered=local.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
    )


async def free_text_page(
    request: Request,
    staff: Staff,
    campaign: Campaign,
    filters: Filters,
    *,
    problem: str | None = None,
) -> HTMLResponse:
    """The page; with a problem, the form again and no answers (400)."""
    runtime = runtime_of(request)
    choices = choices_of(runtime.library, campaign)
    answers: list[TextAnswer] = []
    total = 0
    tags: dict[tuple[str, str], list[str]] = {}
    async with runtime.database.reading() as session:
        if problem is None:
            wanted = text_filter(filters, campaign, choices)
            offset = (filters.page - 1) * PAGE_SIZE
            answers, total = await tag_store.text_answers(
                session, wanted, limit=PAGE_SIZE, offset=offset
            )
            respondents = [answer.respondent_id for answer in answers]
            tags = await tag_store.tags_of_answers(session, respondents)
        counts = await tag_store.tag_counts(session, campaign.id)
    sources = dict(choices.sources)
    shown = [
        _shown_answer(a, tags.get((a.respondent_id, a.question_id), []), choices, sources)
        for a in answers
    ]
    languages, summary = tag_summary(counts, choices)
    return render(
        request, "free_text.html", staff, title="Fritextsvar",
        status_code=200 if problem is None else 400, problem=problem, campaign=campaign,
        choices=choices, filters=filters, answers=shown, total=total,
        pages=max(1, -(-total // PAGE_SIZE)), first=(filters.page - 1) * PAGE_SIZE + 1,
        summary=summary, summary_languages=languages,
        suggestions=sorted({tag for tag, _, _ in counts}), untagged=UNTAGGED,
        no_source=NO_SOURCE, few=FEW, hidden_mark=HIDDEN,
    )  # fmt: skip


@router.get("/staff/campaigns/{campaign_id}/free-text", response_class=HTMLResponse)
async def free_text(request: Request, campaign_id: str, staff: Analyst) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    params = dict(request.query_params)
    choices = choices_of(runtime_of(request).library, campaign)
    try:
        filters = parse_filters(params, choices)
    except FilterError as problem:
        return await free_text_page(
            request, staff, campaign, entered_filters(params), problem=str(problem)
        )
    return await free_text_page(request, staff, campaign, filters)


# -- tagging -------------------------------------------------------------------------------

# Every field may be missing or odd: the checks below answer with a message, not a 422.
Field = Annotated[str, Form(max_length=2000)]


async def _change_tag(
    request: Request,
    staff: Staff,
    campaign_id: str,
    *,
    respondent: str,
    question: str,
    tag: str,
    back: str,
    adding: bool,
) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    runtime = runtime_of(request)
    choices = choices_of(runtime.library, campaign)
    try:
        filters = parse_filters(dict(parse_qsl(back)), choices)
    except FilterError:
        filters = Filters()  # a tampered return address: back to the first page
    if choices.question(question) is None:
        raise StaffRefused(400, f"'{question}' är ingen fritextfråga i kampanjen.")
    try:
        tag = normalise_tag(tag)
    except FilterError as problem:
        return await free_text_page(request, staff, campaign, filters, problem=str(problem))
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        if await tag_store.text_answer(session, campaign.id, respondent, question) is None:
            raise StaffRefused(404, "Det finns inget sådant fritextsvar i kampanjen.")
        if adding:
            changed = await tag_store.add_tag(
                session, respondent, question, tag, created_by=staff.actor, now=now
            )
        else:
            changed = await tag_store.remove_tag(session, respondent, question, tag)
        if changed:
            action = "free_text.tag_added" if adding else "free_text.tag_removed"
            detail = {
                "campaign": campaign.id,
                "respondent": respondent,
                "question": question,
                "tag": tag,
            }
            await repo.audit(session, staff.actor, action, detail, now)
    target = filters.link(f"/staff/campaigns/{campaign.id}/free-text")
    return RedirectResponse(f"{target}#{anchor(respondent, question)}", status_code=303)


@router.post("/staff/campaigns/{campaign_id}/free-text/tags")
async def add_tag(
    request: Request,
    campaign_id: str,
    staff: Analyst,
    respondent: Field = "",
    question: Field = "",
    tag: Field = "",
    back: Field = "",
) -> Response:
    return await _change_tag(
        request, staff, campaign_id, respondent=respondent, question=question, tag=tag,
        back=back, adding=True,
    )  # fmt: skip


@router.post("/staff/campaigns/{campaign_id}/free-text/tags/delete")
async def remove_tag(
    request: Request,
    campaign_id: str,
    staff: Analyst,
    respondent: Field = "",
    question: Field = "",
    tag: Field = "",
    back: Field = "",
) -> Response:
    return await _change_tag(
        request, staff, campaign_id, respondent=respondent, question=question, tag=tag,
        back=back, adding=False,
    )  # fmt: skip
