"""The counts behind the results page, each one GROUP BY query in the database.

Nothing here loads respondents one by one: a campaign may have a million of them. Each
query returns one row per group (a source, a day, a question, a stored answer value),
and the filters are bound parameters from ``result_filters.conditions``.

Answer values are JSON (``{"v": ...}``). They are grouped by their stored text, which
works the same on SQLite and PostgreSQL; ``choice_ids`` then reads each distinct text
once and expands a multiple-choice list into one count per choice id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.models import Answer, Respondent
from trygg.staff.local_days import as_date, local_day
from trygg.staff.result_filters import Filters, conditions

COMPLETED, ACTIVE, ENDED = "completed", "active", "ended"


@dataclass
class Counts:
    """Everything the page shows, as plain counts before any suppression."""

    total: int = 0
    by_source: Counter[str | None] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)  # COMPLETED, ACTIVE, ENDED
    first_started: dt.datetime | None = None
    last_started: dt.datetime | None = None
    # (the Swedish day it started, source, channel, language) -> respondents
    by_day: Counter[tuple[dt.date, str | None, str, str]] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)  # question -> respondents
    # (the last step answered or skipped, ACTIVE or ENDED) -> respondents not completed
    last_steps: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    # question -> choice id -> respondents (a multiple-choice answer counts once per id)
    choices: dict[str, Counter[str]] = field(default_factory=dict)


def status_group(status: str) -> str:
    """Completed, still going, or ended without completing (stopped, expired)."""
    if status in (COMPLETED, ACTIVE):
        return status
    return ENDED


async def count_results(
    database: Database, campaign_id: str, filters: Filters, choice_questions: Sequence[str]
) -> Counts:
    where = conditions(campaign_id, filters)
    counts = Counts()
    # One snapshot for every query, so the tables add up while people answer, and on
    # SQLite without holding the write lock that incoming messages need.
    async with database.reading() as session:
        await _profile(session, where, counts)
        if counts.total == 0:
            return counts
        await _days(session, database.engine.dialect.name, where, counts)
        await _answered(session, where, choice_questions, counts)
        await _last_steps(session, where, counts)
        if choice_questions:
            await _choices(session, where, choice_questions, counts)
    return counts


async def _profile(session: AsyncSession, where: list[ColumnElement[bool]], counts: Counts) -> None:
    """Respondents per source, channel, language and status, from one grouping: at most
    a few hundred rows however many respondents there are."""
    query = (
        select(
            Respondent.source,
            Respondent.channel,
            Respondent.language,
            Respondent.status,
            func.count(),
            func.min(Respondent.started_at),
            func.max(Respondent.started_at),
        )
        .where(*where)
        .group_by(Respondent.source, Respondent.channel, Respondent.language, Respondent.status)
    )
    for source, channel, language, status, number, first, last in await session.execute(query):
        counts.first_started = min(first, counts.first_started or first)
        counts.last_started = max(last, counts.last_started or last)
        counts.total += number
        counts.by_source[source or None] += number
        counts.by_channel[channel] += number
        counts.by_language[language] += number
        counts.by_status[status_group(status)] += number


async def _days(
    session: AsyncSession, dialect: str, where: list[ColumnElement[bool]], counts: Counts
) -> None:
    """Respondents per Swedish day and source, channel and language together: the page
    hides the three breakdowns over time as one (``crossed_cells``), whichever it shows."""
    if counts.first_started is None or counts.last_started is None:
        return  # nobody to count
    day = local_day(dialect, counts.first_started, counts.last_started).label("day")
    keys = (Respondent.source, Respondent.channel, Respondent.language)
    query = select(day, *keys, func.count()).where(*where).group_by(day, *keys)
    for started, source, channel, language, number in await session.execute(query):
        counts.by_day[(as_date(started), source or None, channel, language)] += number


async def _answered(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    choice_questions: Sequence[str],
    counts: Counts,
) -> None:
    """Respondents who answered each question that is not a choice (one answer per
    respondent and question: it is the table's primary key). The choices' query counts
    the others as it goes, so the biggest table is not read twice for them."""
    query = (
        select(Answer.question_id, func.count())
        .select_from(Answer)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(*where, Answer.question_id.not_in(list(choice_questions)))
        .group_by(Answer.question_id)
    )
    for question, number in await session.execute(query):
        counts.answered[question] += number


async def _last_steps(
    session: AsyncSession, where: list[ColumnElement[bool]], counts: Counts
) -> None:
    """Where the respondents who did not complete are now: the last step they answered
    or skipped (None: they stopped before the first question)."""
    query = (
        select(Respondent.last_step, Respondent.status, func.count())
        .where(*where, Respondent.status != COMPLETED)
        .group_by(Respondent.last_step, Respondent.status)
    )
    for step, status, number in await session.execute(query):
        counts.last_steps[(step or None, status_group(status))] += number


async def _choices(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    questions: Sequence[str],
    counts: Counts,
) -> None:
    stored = cast(Answer.value, String).label("stored")
    query = (
        select(Answer.question_id, stored, func.count())
        .select_from(Answer)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(*where, Answer.question_id.in_(list(questions)))
        .group_by(Answer.question_id, stored)
    )
    for question, text, number in await session.execute(query):
        counts.answered[question] += number
        found = counts.choices.setdefault(question, Counter())
        for choice in choice_ids(text):
            found[choice] += number


def choice_ids(stored: str | None) -> list[str]:
    """The choice ids in one stored answer: one for a single choice, each ticked one
    (once) for a multiple choice."""
    if stored is None:
        return []
    try:
        value: Any = json.loads(stored)
    except ValueError:
        return [stored]
    if isinstance(value, dict):
        value = value.get("v")
    if value is None or value in ("", []):
        return []
    if isinstance(value, list):
        return list(dict.fromkeys(str(item) for item in value))
    return [str(value)]
