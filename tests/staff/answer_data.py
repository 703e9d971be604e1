"""Answers for the free-text and export page tests: real dialogs through the inbound
path where the wording matters, rows written directly where only the number does."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select

from bots.contract import InboundMessage
from storage import repositories as repo
from storage.models import Answer, AnswerTag, AuditEntry, Respondent
from tests.service_helpers import Clock
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime

ARABIC = "الظلام قرب الكشك"
ANSWER_IDS = re.compile(r'<li id="svar-([0-9a-f]+)-([a-z_]+)">')


def clock_of(runtime: Runtime) -> Clock:
    assert isinstance(runtime.clock, Clock)
    return runtime.clock


async def dialog(
    runtime: Runtime,
    address: str,
    answers: list[str],
    *,
    language: str = "sv",
    source: str | None = None,
) -> str:
    """One person's web chat, a second per message; returns their respondent id."""
    service = DialogService(runtime)
    clock = clock_of(runtime)
    await service.handle(
        InboundMessage(
            channel="web", address=address, start=True, start_source=source, language=language
        )
    )
    for text in answers:
        clock.advance(seconds=1)
        await service.handle(InboundMessage(channel="web", address=address, text=text))
    clock.advance(minutes=1)
    async with runtime.database.sessions() as session:
        query = select(Answer.respondent_id).where(Answer.question_id == "problems")
        query = query.order_by(Answer.answered_at.desc()).limit(1)
        return str((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class Written:
    """A free-text answer to write straight into the tables."""

    text: str
    question: str = "problems"
    language: str = "sv"
    source: str | None = "badet"
    channel: str = "web"
    at: dt.datetime = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    campaign: str = "karlslund"


async def write_answers(runtime: Runtime, answers: list[Written]) -> list[str]:
    """One respondent per answer; returns their ids in the order given."""
    ids = []
    async with runtime.database.sessions() as session, session.begin():
        for item in answers:
            respondent_id = repo.new_respondent_id()
            ids.append(respondent_id)
            session.add(
                Respondent(
                    id=respondent_id,
                    campaign_id=item.campaign,
                    flow_id="karlslund",
                    flow_version=1,
                    channel=item.channel,
                    language=item.language,
                    source=item.source,
                    started_at=item.at,
                    completed_at=None,
                    ended_at=None,
                    status="active",
                    last_step=item.question,
                )
            )
            await session.flush()
            await repo.save_answer(session, respondent_id, item.question, item.text, item.at)
    return ids


async def tags_stored(runtime: Runtime) -> list[tuple[str, str, str]]:
    async with runtime.database.sessions() as session:
        query = select(AnswerTag.respondent_id, AnswerTag.question_id, AnswerTag.tag)
        return sorted((r, q, t) for r, q, t in (await session.execute(query)).all())


async def audit_entries(runtime: Runtime, prefix: str) -> list[AuditEntry]:
    async with runtime.database.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action.startswith(prefix))
        return list((await session.execute(query.order_by(AuditEntry.id))).scalars())


def answers_in(page: str) -> list[tuple[str, str]]:
    """(respondent, question) of each answer the page lists, in order."""
    return [(found.group(1), found.group(2)) for found in ANSWER_IDS.finditer(page)]
