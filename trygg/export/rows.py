"""The respondents and their answers, read from the database, and the JSON export.

Only the ``respondents``, ``answers``, ``answer_tags`` and ``flow_snapshots`` tables are
read: nothing about contacts (addresses, preferences, the återkoppling), so nothing about
them can leak into a file. Every other format (CSV, XLSX, statistics) is built from what
this module collects.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dialog_flows.library import Library
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Flow
from dialog_flows.problems import FlowError
from storage import tags as tag_store
from storage.database import Database
from storage.models import Answer, FlowSnapshot, Respondent
from trygg.export.flows import campaign_flows, label_flows, question_order
from trygg.service.runtime import Runtime

# WhatsApp comes through the SMS adapter (Twilio), so the export's ``channel`` (one of
# telegram, sms, facebook, web, console: CONTRACT.md) says sms; ``via`` says which.
CONTRACT_CHANNELS = {"whatsapp": "sms"}
RESPONDENT_COLUMNS = (
    Respondent.id, Respondent.campaign_id, Respondent.flow_id, Respondent.flow_version,
    Respondent.channel, Respondent.language, Respondent.source, Respondent.status,
    Respondent.started_at, Respondent.completed_at, Respondent.last_step,
)  # fmt: skip


@dataclass(frozen=True)
class ResponseExport:
    """The rows, the question columns in order, and the flows that label them."""

    rows: list[dict[str, Any]]
    questions: list[str]
    flows: list[Flow] = field(default_factory=list)


async def export_rows(runtime: Runtime, *, campaign: str | None = None) -> list[dict[str, Any]]:
    """One object per respondent (all campaigns, or one), oldest first."""
    return (await collect(runtime.database, runtime.library, campaign=campaign)).rows


async def collect(
    database: Database, library: Library, *, campaign: str | None = None
) -> ResponseExport:
    async with database.reading() as session:
        # Plain rows, not ORM objects: a million of those would take gigabytes (the scale
        # benchmark); a Row has the same attribute names.
        query = select(*RESPONDENT_COLUMNS).order_by(Respondent.started_at, Respondent.id)
        answer_query = (
            select(Answer.respondent_id, Answer.question_id, Answer.value)
            .join(Respondent, Respondent.id == Answer.respondent_id)
            .order_by(Answer.respondent_id, Answer.answered_at)
        )
        if campaign is not None:
            query = query.where(Respondent.campaign_id == campaign)
            answer_query = answer_query.where(Respondent.campaign_id == campaign)
        respondents = list((await session.execute(query)).all())
        answers: dict[str, dict[str, Any]] = {respondent.id: {} for respondent in respondents}
        for respondent_id, question_id, value in (await session.execute(answer_query)).all():
            if respondent_id in answers:
                answers[respondent_id][question_id] = _stored_value(value)
        tags = await tag_store.tags_by_respondent(session, campaign)
        used = {(r.flow_id, r.flow_version) for r in respondents}
        stored = await _stored_flows(session, used - set(library.flows))
    flows = label_flows(library, campaign, used, stored)
    questions = question_order(campaign_flows(library, campaign, used), answers.values())
    position = {question_id: index for index, question_id in enumerate(questions)}

    def in_order(by_question: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(by_question.items(), key=lambda item: position.get(item[0], 0)))

    # pop: each respondent's answers are copied into its row, so the two do not coexist.
    rows = [
        _row(
            respondent, in_order(answers.pop(respondent.id)), in_order(tags.get(respondent.id, {}))
        )
        for respondent in respondents
    ]
    return ResponseExport(rows, questions, flows)


def _stored_value(value: Any) -> Any:
    return value.get("v") if isinstance(value, dict) else value


async def _stored_flows(session: AsyncSession, pairs: set[tuple[str, int]]) -> list[Flow]:
    """Versions that left the folder: their stored source, for their labels."""
    if not pairs:
        return []
    query = select(FlowSnapshot).where(
        tuple_(FlowSnapshot.flow_id, FlowSnapshot.version).in_(sorted(pairs))
    )
    flows = []
    for snapshot in (await session.execute(query)).scalars():
        try:
            flows.append(
                load_flow_text(snapshot.source_text, f"{snapshot.flow_id} v{snapshot.version}")
            )
        except FlowError:
            continue  # a snapshot the current loader refuses: its ids still export, unlabelled
    return sorted(flows, key=lambda flow: (flow.id, -flow.version))


def _row(respondent: Any, answers: dict[str, Any], tags: dict[str, Any]) -> dict[str, Any]:
    return {
        "respondent": respondent.id,
        "campaign": respondent.campaign_id,
        "flow": respondent.flow_id,
        "flow_version": respondent.flow_version,
        "channel": CONTRACT_CHANNELS.get(respondent.channel, respondent.channel),
        "via": respondent.channel,
        "language": respondent.language.replace("_", "-"),
        "source": respondent.source or None,
        "status": respondent.status,
        "started_at": iso_utc(respondent.started_at),
        "completed_at": iso_utc(respondent.completed_at),
        "last_step": respondent.last_step,
        "answers": answers,
        "tags": tags,  # question id -> the analysts' theme tags, sorted
    }


def iso_utc(value: dt.datetime | None) -> str | None:
    """``2026-11-24T12:00:00Z``; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- JSON ----------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def to_json(rows: list[dict[str, Any]]) -> str:
    """The contract's JSON: an array with one object per respondent."""
    return json_text(rows)
