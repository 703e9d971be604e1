"""The Swedish day a dialog started, worked out in SQL on both databases.

Times are stored in UTC. The page counts Swedish days, so 23:30 UTC on 9 November is
counted on 10 November. PostgreSQL knows time zones; SQLite does not, so there the
expression adds the offset that was in force at that moment (one CASE branch per
daylight-saving period between the first and the last dialog). Grouping by day in the
database keeps the rows it returns few: days times sources, channels and languages.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column

from storage.models import Respondent
from trygg.staff.result_filters import LOCAL_TIME

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _offset(moment: dt.datetime) -> dt.timedelta:
    return moment.astimezone(LOCAL_TIME).utcoffset() or dt.timedelta()


def utc_offsets(first: dt.datetime, last: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(from this moment on, the offset) for each offset in force from ``first`` to
    ``last``, in order. Changes are found to the hour: Sweden changes on whole UTC hours."""
    moment = first.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    periods = [(moment, _offset(moment))]
    while moment <= last:
        if _offset(moment + DAY) != periods[-1][1]:
            change = moment
            while _offset(change) == periods[-1][1]:
                change += HOUR
            periods.append((change, _offset(change)))
        moment += DAY
    return periods


def local_day(dialect: str, first: dt.datetime, last: dt.datetime) -> ColumnElement[Any]:
    """The SQL for the local date a dialog started: a ``date`` on PostgreSQL, text
    ``2026-11-24`` on SQLite (``as_date`` reads both). The zone name is our constant,
    written as a literal so PostgreSQL sees one expression in SELECT and GROUP BY."""
    started = Respondent.started_at
    if dialect == "postgresql":
        zone = getattr(LOCAL_TIME, "key", "UTC")
        return func.date(func.timezone(literal_column(f"'{zone}'"), started))

    def shifted(offset: dt.timedelta) -> ColumnElement[Any]:
        return func.date(started, f"{int(offset.total_seconds()):+d} seconds")

    periods = utc_offsets(first, last)
    if len(periods) == 1:
        return shifted(periods[0][1])
    branches = [(started < until, shifted(offset)) for (_, offset), (until, _) in pairwise(periods)]
    return case(*branches, else_=shifted(periods[-1][1]))


def as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
