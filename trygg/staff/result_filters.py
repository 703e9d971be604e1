"""The results page's filters: read from the query string, checked, and turned into SQL.

The filters are a GET form, so a filtered view is a URL staff can share. Every value is
checked against what the campaign has (its sources, the channels, its flows' languages,
real dates) and reaches the database only as a bound parameter.

Dates are local Swedish dates: "from 1 december" means from midnight in Stockholm, which
the database (UTC) sees as 23:00 the day before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement

from dialog_flows.model import Campaign
from storage.models import Respondent

try:
    LOCAL_TIME: dt.tzinfo = ZoneInfo("Europe/Stockholm")
except ZoneInfoNotFoundError:  # a system without the time zone database
    LOCAL_TIME = dt.UTC

NO_SOURCE = "-"  # the filter value for respondents who came without a source
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook": "Messenger",
    "web": "Webbchatt",
    "console": "Terminal (trygg chat)",
}
BREAKDOWNS = {"source": "källa", "channel": "kanal", "language": "språk"}
FIELDS = ("source", "channel", "language", "from", "to", "by")
# Dates outside these years are typing mistakes (and year 1 or 9999 has no UTC midnight).
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True)
class Filters:
    source: str | None = None  # a source id, or NO_SOURCE
    channel: str | None = None
    language: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    by: str = "source"
    raw: dict[str, str] = field(default_factory=dict)  # as typed, to fill in the form again

    @property
    def narrowed(self) -> bool:
        """Whether anything but the breakdown was chosen."""
        return any(
            value is not None
            for value in (self.source, self.channel, self.language, self.date_from, self.date_to)
        )

    def query(self, **changes: str) -> str:
        """This view's query string with some fields changed (for the breakdown links)."""
        values = {name: self.raw.get(name, "") for name in FIELDS}
        values.update(changes)
        return urlencode({name: value for name, value in values.items() if value})


class FilterProblems(Exception):  # noqa: N818 (a list of messages for the form)
    def __init__(self, messages: list[str], raw: dict[str, str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.raw = raw


def parse_filters(
    params: Mapping[str, str], campaign: Campaign, languages: tuple[str, ...]
) -> Filters:
    """The filters in ``params``; FilterProblems lists every value that is not allowed."""
    raw = {name: params.get(name, "").strip() for name in FIELDS}
    problems: list[str] = []
    source = raw["source"] or None
    if source is not None and source != NO_SOURCE:
        known = campaign.source(source)
        if known is None:
            problems.append(f"Källan '{source}' finns inte i kampanjen.")
        else:
            source = known.id  # as the respondents have it, whatever case was typed
    channel = raw["channel"] or None
    if channel is not None and channel not in CHANNEL_NAMES:
        problems.append(f"Kanalen '{channel}' finns inte.")
    language = raw["language"] or None
    if language is not None and language not in languages:
        problems.append(f"Språket '{language}' finns inte i kampanjens frågor.")
    date_from = _date(raw["from"], "Från-datumet", problems)
    date_to = _date(raw["to"], "Till-datumet", problems)
    if date_from and date_to and date_from > date_to:
        problems.append("Från-datumet är efter till-datumet.")
    by = raw["by"] or "source"
    if by not in BREAKDOWNS:
        problems.append(f"Det går inte att dela upp per '{by}'.")
    if problems:
        raise FilterProblems(problems, raw)
    return Filters(source, channel, language, date_from, date_to, by, raw)


def _date(text: str, name: str, problems: list[str]) -> dt.date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} '{text}' är inte ett datum som 2026-11-24.")
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.append(f"{name} måste vara mellan år {FIRST_YEAR} och {LAST_YEAR}.")
        return None
    return day


def local_midnight(day: dt.date) -> dt.datetime:
    """The moment a local day starts, as an aware UTC time."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TIME).astimezone(dt.UTC)


def conditions(campaign_id: str, filters: Filters) -> list[ColumnElement[bool]]:
    """The respondents the page counts. A restarted dialog is not counted: its person
    went on in a new one (as in the export's statistics)."""
    where: list[ColumnElement[bool]] = [
        Respondent.campaign_id == campaign_id,
        Respondent.status != "restarted",
    ]
    if filters.source == NO_SOURCE:
        where.append(Respondent.source.is_(None))
    elif filters.source is not None:
        where.append(Respondent.source == filters.source)
    if filters.channel is not None:
        where.append(Respondent.channel == filters.channel)
    if filters.language is not None:
        where.append(Respondent.language == filters.language)
    if filters.date_from is not None:
        where.append(Respondent.started_at >= local_midnight(filters.date_from))
    if filters.date_to is not None:
        next_day = filters.date_to + dt.timedelta(days=1)
        where.append(Respondent.started_at < local_midnight(next_day))
    return where
