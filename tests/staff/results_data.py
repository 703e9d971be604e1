"""Respondents in bulk for the results page's tests, and its tables read back from HTML.

``add_group`` writes respondents and answers straight into the tables, as the service
stores them (``{"v": value}``), so a test can set exact counts, statuses and start times.
``tables`` reads every ``<table>`` of a page by its caption, so a test checks the
numbers a screen reader would hear.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from storage.models import Answer, Respondent
from trygg.service.runtime import Runtime


async def add_group(
    runtime: Runtime,
    count: int,
    *,
    started: dt.datetime,
    source: str | None = "badet",
    channel: str = "telegram",
    language: str = "sv",
    status: str = "completed",
    last_step: str | None = None,
    flow: str = "karlslund",
    answers: dict[str, Any] | None = None,
    campaign: str = "karlslund",
) -> None:
    """``count`` respondents alike: same source, channel, language, status and answers."""
    async with runtime.database.sessions() as session, session.begin():
        for _ in range(count):
            respondent_id = uuid.uuid4().hex
            session.add(
                Respondent(
                    id=respondent_id,
                    campaign_id=campaign,
                    flow_id=flow,
                    flow_version=1,
                    channel=channel,
                    language=language,
                    source=source,
                    started_at=started,
                    completed_at=started + dt.timedelta(minutes=5)
                    if status == "completed"
                    else None,
                    ended_at=None if status == "active" else started + dt.timedelta(minutes=5),
                    status=status,
                    last_step=last_step,
                )
            )
            for question, value in (answers or {}).items():
                session.add(
                    Answer(
                        respondent_id=respondent_id,
                        question_id=question,
                        value={"v": value},
                        answered_at=started,
                    )
                )


@dataclass
class _Tables(HTMLParser):
    found: dict[str, list[list[str]]] = field(default_factory=dict)
    caption: str | None = None
    row: list[str] | None = None
    text: list[str] | None = None
    in_caption: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "caption":
            self.in_caption, self.text = True, []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self.text is not None:
            self.caption = " ".join("".join(self.text).split())
            self.found[self.caption] = []
            self.in_caption, self.text = False, None
        elif tag in ("td", "th") and self.row is not None and self.text is not None:
            self.row.append(" ".join("".join(self.text).split()))
            self.text = None
        elif tag == "tr" and self.row is not None:
            if self.caption is not None:
                self.found[self.caption].append(self.row)
            self.row = None
        elif tag == "table":
            self.caption = None

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """Caption -> rows (header row included), each row its cells' text, spaces squeezed
    (a non-breaking space counts as one)."""
    parser = _Tables()
    parser.feed(html)
    return parser.found


def rows_by_label(table: list[list[str]]) -> dict[str, list[str]]:
    """The body rows by their first cell (the row header)."""
    return {row[0]: row[1:] for row in table[1:]}
