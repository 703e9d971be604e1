"""Data retention: contact data goes when its campaign ends; housekeeping of old rows.

Answers are anonymous public records and stay. What goes:
- every contact of a campaign whose ``ends`` date has passed (address, language,
  preferences), with their dialogs still in progress;
- provider delivery ids older than a week (providers retry for 36 hours at most);
- finished outbox rows older than 30 days (their addresses were wiped when finished);
- expired staff sessions, and failed-login counts older than a day.
Each run writes one audit entry saying what it removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete

from storage import repositories as repo
from storage import staff as staff_store
from storage.models import OutboxMessage
from trygg.service.runtime import Runtime

DEDUP_KEEP = dt.timedelta(days=7)
OUTBOX_KEEP = dt.timedelta(days=30)
THROTTLE_KEEP = dt.timedelta(days=1)


@dataclass
class RetentionReport:
    campaigns_ended: list[str] = field(default_factory=list)
    contacts_erased: int = 0
    delivery_ids_forgotten: int = 0
    outbox_rows_deleted: int = 0
    staff_sessions_ended: int = 0


async def run_retention(
    runtime: Runtime, *, actor: str = "trygg retention", dry_run: bool = False
) -> RetentionReport:
    now = runtime.clock()
    today = now.date()
    report = RetentionReport()
    async with runtime.database.sessions() as session, session.begin():
        for campaign in runtime.library.campaigns:
            if campaign.ends and dt.date.fromisoformat(campaign.ends) < today:
                report.campaigns_ended.append(campaign.id)
                report.contacts_erased += await repo.erase_contacts_of_campaign(
                    session, campaign.id
                )
        report.delivery_ids_forgotten = await repo.forget_deliveries_before(
            session, now - DEDUP_KEEP
        )
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(("sent", "delivered", "failed", "cancelled")),
                OutboxMessage.created_at < now - OUTBOX_KEEP,
            )
        )
        report.outbox_rows_deleted = int(result.rowcount)  # type: ignore[attr-defined]
        report.staff_sessions_ended = await staff_store.end_expired_sessions(session, now)
        await staff_store.forget_old_failures(session, now - THROTTLE_KEEP)
        await repo.audit(session, actor, "retention", report.__dict__.copy(), now)
        if dry_run:
            await session.rollback()
    return report
