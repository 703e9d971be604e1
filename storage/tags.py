"""Free-text answers and the theme tags analysts give them, over one ``AsyncSession``.

Every filter is a bound parameter in SQL and every list is paged, so the free-text page
stays fast with a million respondents. Normalising a tag and deciding what may be tagged
live in ``trygg/staff``; this module only reads and writes rows. The caller owns the
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, AnswerTag, Respondent
from storage.repositories import dialect_insert, in_chunks

Query = TypeVar("Query", bound=Select[Any])


@dataclass(frozen=True)
class TextFilter:
    """Which free-text answers of one campaign to list. ``None`` means any."""

    campaign_id: str
    questions: Sequence[str]  # the campaign's text questions, or the one picked
    language: str | None = None
    source: str | None = None
    no_source: bool = False  # answers of respondents who came without a source
    since: dt.datetime | None = None
    before: dt.datetime | None = None  # exclusive
    tag: str | None = None
    untagged: bool = False


@dataclass(frozen=True)
class TextAnswer:
    respondent_id: str
    question_id: str
    text: str
    language: str
    source: str | None
    channel: str
    answered_at: dt.datetime


def _answer_tag_of(tag: str | None = None) -> ColumnElement[bool]:
    """EXISTS a tag (or the given one) on the answer of the outer query."""
    condition = and_(
        AnswerTag.respondent_id == Answer.respondent_id,
        AnswerTag.question_id == Answer.question_id,
    )
    if tag is not None:
        condition = and_(condition, AnswerTag.tag == tag)
    return exists().where(condition)


def _filtered(query: Query, wanted: TextFilter) -> Query:
    query = query.join(Respondent, Respondent.id == Answer.respondent_id).where(
        Respondent.campaign_id == wanted.campaign_id,
        Answer.question_id.in_(list(wanted.questions)),
    )
    if wanted.language is not None:
        query = query.where(Respondent.language == wanted.language)
    if wanted.no_source:
        query = query.where(or_(Respondent.source.is_(None), Respondent.source == ""))
    elif wanted.source is not None:
        query = query.where(Respondent.source == wanted.source)
    if wanted.since is not None:
        query = query.where(Answer.answered_at >= wanted.since)
    if wanted.before is not None:
        query = query.where(Answer.answered_at < wanted.before)
    if wanted.untagged:
        query = query.where(~_answer_tag_of())
    elif wanted.tag is not None:
        query = query.where(_answer_tag_of(wanted.tag))
    return query


async def text_answers(
    session: AsyncSession, wanted: TextFilter, *, limit: int, offset: int
) -> tuple[list[TextAnswer], int]:
    """One page of the answers, newest first, and how many there are in all."""
    if not wanted.questions:
        return [], 0
    count_query = _filtered(select(func.count()).select_from(Answer), wanted)
    total = int((await session.execute(count_query)).scalar_one())
    columns = select(
        Answer.respondent_id,
        Answer.question_id,
        Answer.value,
        Respondent.language,
        Respondent.source,
        Respondent.channel,
        Answer.answered_at,
    ).select_from(Answer)
    query = (
        _filtered(columns, wanted)
        # The ids settle ties, so a page never repeats or skips an answer.
        .order_by(Answer.answered_at.desc(), Answer.respondent_id, Answer.question_id)
        .limit(limit)
        .offset(offset)
    )
    page = [
        TextAnswer(rid, qid, _text(value), language, source, channel, at)
        for rid, qid, value, language, source, channel, at in (await session.execute(query)).all()
    ]
    return page, total


def _text(value: object) -> str:
    stored = value.get("v") if isinstance(value, dict) else value
    return stored if isinstance(stored, str) else str(stored)


async def text_answer(
    session: AsyncSession, campaign_id: str, respondent_id: str, question_id: str
) -> Answer | None:
    """The answer, when it belongs to a respondent of this campaign."""
    query = (
        select(Answer)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(
            Respondent.campaign_id == campaign_id,
            Answer.respondent_id == respondent_id,
            Answer.question_id == question_id,
        )
    )
    return (await session.execute(query)).scalar_one_or_none()


# -- tags ----------------------------------------------------------------------------------


async def add_tag(
    session: AsyncSession,
    respondent_id: str,
    question_id: str,
    tag: str,
    *,
    created_by: str,
    now: dt.datetime,
) -> bool:
    """Tag an answer; False when it already had the tag (nothing changes)."""
    statement = (
        dialect_insert(session, AnswerTag)
        .values(
            respondent_id=respondent_id,
            question_id=question_id,
            tag=tag,
            created_by=created_by,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def remove_tag(session: AsyncSession, respondent_id: str, question_id: str, tag: str) -> bool:
    """Take a tag off an answer; False when it did not have it."""
    statement = delete(AnswerTag).where(
        AnswerTag.respondent_id == respondent_id,
        AnswerTag.question_id == question_id,
        AnswerTag.tag == tag,
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def tags_of_answers(
    session: AsyncSession, respondent_ids: Sequence[str]
) -> dict[tuple[str, str], list[str]]:
    """The tags of these respondents' answers, by (respondent, question), sorted."""
    found: dict[tuple[str, str], list[str]] = {}
    for part in in_chunks(sorted(set(respondent_ids))):
        query = select(AnswerTag.respondent_id, AnswerTag.question_id, AnswerTag.tag).where(
            AnswerTag.respondent_id.in_(list(part))
        )
        for respondent_id, question_id, tag in (await session.execute(query)).all():
            found.setdefault((respondent_id, question_id), []).append(tag)
    return {key: sorted(tags) for key, tags in found.items()}


async def tags_by_respondent(
    session: AsyncSession, campaign_id: str | None = None
) -> dict[str, dict[str, list[str]]]:
    """Every tag (of one campaign, or all), as respondent -> question -> sorted tags."""
    query = (
        select(AnswerTag.respondent_id, AnswerTag.question_id, AnswerTag.tag)
        .join(Respondent, Respondent.id == AnswerTag.respondent_id)
        .order_by(AnswerTag.respondent_id, AnswerTag.question_id, AnswerTag.tag)
    )
    if campaign_id is not None:
        query = query.where(Respondent.campaign_id == campaign_id)
    found: dict[str, dict[str, list[str]]] = {}
    for respondent_id, question_id, tag in (await session.execute(query)).all():
        found.setdefault(respondent_id, {}).setdefault(question_id, []).append(tag)
    return found


async def tag_counts(session: AsyncSession, campaign_id: str) -> list[tuple[str, str, int]]:
    """(tag, language, answers) for the campaign: how often each theme comes up, per
    language of the people who wrote."""
    query = (
        select(AnswerTag.tag, Respondent.language, func.count())
        .join(Respondent, Respondent.id == AnswerTag.respondent_id)
        .where(Respondent.campaign_id == campaign_id)
        .group_by(AnswerTag.tag, Respondent.language)
        .order_by(AnswerTag.tag, Respondent.language)
    )
    return [(tag, language, int(count)) for tag, language, count in await session.execute(query)]
