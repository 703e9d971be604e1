"""What the återkoppling page tests share: the people who asked for it, the texts, a
logged-in admin's form posts, and reading tables and the database back."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import select

from storage.models import AuditEntry, Broadcast, Contact, OutboxMessage
from tests.staff.staff_helpers import StaffClient
from trygg.service.runtime import Runtime

# (channel, address, language, asked for återkoppling). The Somali speaker has no text.
PEOPLE = [
    ("web", "web-visitor-token-aaaaaaaa", "sv", True),
    ("web", "web-visitor-token-bbbbbbbb", "ar", True),
    ("telegram", "1001", "sv", True),
    ("telegram", "1002", "so", True),
    ("sms", "+46701234567", "en", True),
    ("sms", "+46701234568", "sv", True),
    ("telegram", "1003", "sv", False),  # said no: never in the audience
]
ASKED = [person for person in PEOPLE if person[3]]
TEXTS = {
    "sv": "Tack! Belysningen vid gångtunneln byts i vår.",
    "en": "Thank you! The lights by the underpass are replaced this spring.",
    "ar": "شكراً! سيتم تغيير الإنارة قرب النفق هذا الربيع.",
}
LINK = "https://example.se/resultat"
NEW = "/staff/campaigns/karlslund/broadcasts/new"
FormData = Mapping[str, str | Sequence[str]]


def draft_form(texts: Mapping[str, str] = TEXTS, **fields: str | Sequence[str]) -> FormData:
    """The compose form as a browser posts it: one textarea per language."""
    form: dict[str, str | Sequence[str]] = {"name": "Resultat hösten", "link": LINK}
    form.update({f"text-{language}": text for language, text in texts.items()})
    form.update(fields)
    return form


async def post(
    client: StaffClient, path: str, data: FormData | None = None, *, csrf: bool = True
) -> httpx.Response:
    """A form post as the pages send it (repeated fields for checkboxes)."""
    body: dict[str, Any] = dict(data or {})
    if csrf:
        body["csrf_token"] = client.csrf
    return await client.http.post(path, data=body)


async def create(client: StaffClient, form: FormData | None = None) -> int:
    answer = await post(client, NEW, form or draft_form())
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/staff/broadcasts/(\d+)\?notice=created", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


async def add_people(
    runtime: Runtime,
    people: Sequence[tuple[str, str, str, bool]] = PEOPLE,
    campaign: str = "karlslund",
) -> None:
    async with runtime.database.sessions() as session, session.begin():
        session.add_all(
            Contact(channel=channel, address_hash=runtime.vault.lookup_hash(channel, address),
                    address_enc=runtime.vault.encrypt(address), campaign_id=campaign,
                    language=language, feedback_wanted=asked, created_at=runtime.clock())
            for channel, address, language, asked in people
        )  # fmt: skip


async def audit_log(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.database.sessions() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(entry.actor, entry.action, entry.detail) for entry in entries]


async def broadcast_actions(runtime: Runtime) -> list[tuple[str, str]]:
    return [
        (actor, action)
        for actor, action, _ in await audit_log(runtime)
        if action.startswith("broadcast.")
    ]


async def stored(runtime: Runtime, broadcast_id: int) -> Broadcast:
    async with runtime.database.sessions() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


async def all_broadcasts(runtime: Runtime) -> list[Broadcast]:
    async with runtime.database.sessions() as session:
        return list((await session.execute(select(Broadcast))).scalars())


async def copies(runtime: Runtime, broadcast_id: int | None) -> list[OutboxMessage]:
    async with runtime.database.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        return list((await session.execute(query)).scalars())


class _Tables(HTMLParser):
    """Every table of a page: its caption and its rows as cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption or ""] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data.strip()
        elif self._cell is not None:
            self._cell.append(data)


def table(page: str, caption: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(page)
    assert caption in parser.tables, f"no table {caption!r}; found {list(parser.tables)}"
    return parser.tables[caption]


def problem_of(page: str) -> str:
    found = re.search(r'<p class="problem" role="alert">(.*?)</p>', page, re.DOTALL)
    assert found, "the page shows no problem"
    return html.unescape(found.group(1))
