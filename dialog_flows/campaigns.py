"""Campaign files, and how an entry keyword or link finds its campaign and source.

A campaign ties flows to the activities that bring people in (the brief's activity
plan). A source id travels in a Telegram deep link (``/start badet``), an m.me ref and
an SMS keyword (``TRYGG BADET``), so it obeys Telegram's payload rules: at most 64
characters of A-Z a-z 0-9 _ -.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from dialog_flows.field_reader import FieldReader
from dialog_flows.loader import FLOW_ID
from dialog_flows.matching import normalise
from dialog_flows.model import Campaign, Source
from dialog_flows.problems import FlowError, Problem
from dialog_flows.yaml_source import YamlSourceError, parse_yaml

SOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEYWORD = re.compile(r"^[A-Za-zÅÄÖåäö0-9]{2,20}$")
_CAMPAIGN_KEYS = {
    "campaign",
    "title",
    "keyword",
    "flow",
    "default_language",
    "ends",
    "sources",
    "note",
}
_SOURCE_KEYS = {"id", "name", "flow", "note"}


def load_campaign_text(text: str | bytes, file: str) -> Campaign:
    try:
        document = parse_yaml(text)
    except YamlSourceError as exc:
        raise FlowError([Problem(file, exc.line, exc.message)]) from None
    return _CampaignReader(document, file).read()


class _CampaignReader(FieldReader):
    def problem(self, path: Any, message: str, **where: Any) -> None:
        where.pop("step", None)
        choice = where.pop("choice", None)
        if choice:
            message = f"source '{choice}': {message}"
        self.problems.append(
            Problem(self.file, self.document.line_of(path), message, campaign=self.flow_id, **where)
        )

    def read(self) -> Campaign:
        data = self.document.data
        if not isinstance(data, dict):
            raise FlowError([Problem(self.file, 1, "a campaign file must be a mapping of keys")])
        campaign_id = data.get("campaign")
        if isinstance(campaign_id, str) and FLOW_ID.match(campaign_id):
            self.flow_id = campaign_id
        else:
            self.problem(("campaign",), "'campaign' must be an id like karlslund", field="campaign")
        self.check_keys(data, _CAMPAIGN_KEYS, (), "a campaign")
        title = self.text(data, "title", ()) or ""
        keyword = self.text(data, "keyword", ()) or ""
        if keyword and not KEYWORD.match(keyword):
            self.problem(
                ("keyword",),
                "'keyword' must be one word of 2-20 letters or digits, like TRYGG",
                field="keyword",
            )
        flow = self.text(data, "flow", ()) or ""
        language = self.text(data, "default_language", (), required=False) or "sv"
        ends = data.get("ends")
        if ends is not None:
            try:
                ends = dt.date.fromisoformat(str(ends)).isoformat()
            except ValueError:
                self.problem(("ends",), "'ends' must be a date like 2027-03-31", field="ends")
        sources = self.sources(data.get("sources", []))
        if self.problems:
            raise FlowError(self.problems)
        return Campaign(
            id=self.flow_id or "",
            title=title,
            keyword=keyword.upper(),
            flow=flow,
            default_language=language,
            sources=tuple(sources),
            ends=ends,
            source_file=self.file,
        )

    def sources(self, value: Any) -> list[Source]:
        if not isinstance(value, list):
            self.problem(("sources",), "'sources' must be a list", field="sources")
            return []
        sources: list[Source] = []
        for index, raw in enumerate(value):
            path = ("sources", index)
            if not isinstance(raw, dict):
                self.problem(path, "each source needs an id and a name", field="sources")
                continue
            source_id = raw.get("id")
            if not isinstance(source_id, str) or not SOURCE_ID.match(source_id):
                self.problem(
                    (*path, "id"),
                    f"source id {source_id!r} must be 1-64 characters of A-Z, a-z, 0-9, _ or - "
                    "(it goes into Telegram deep links)",
                    field="id",
                )
                continue
            self.check_keys(raw, _SOURCE_KEYS, path, "a source", choice=source_id)
            if any(source.id.casefold() == source_id.casefold() for source in sources):
                self.problem(
                    (*path, "id"), "this source id is used twice", field="id", choice=source_id
                )
                continue
            name = self.text(raw, "name", path, choice=source_id) or source_id
            flow = self.text(raw, "flow", path, required=False, choice=source_id)
            sources.append(Source(source_id, name, flow))
        return sources


@dataclass(frozen=True)
class Entry:
    campaign: Campaign
    source: Source | None
    unknown_source: str | None = None  # kept out of the data, but worth a log line


def parse_keyword_entry(text: str, campaigns: tuple[Campaign, ...]) -> Entry | None:
    """``TRYGG``, ``trygg badet``, ``Trygg Badet!`` -> the campaign and source."""
    raw_words = text.strip().split()
    words = [word for word in (_key(raw) for raw in raw_words) if word]
    if not words or len(words) > 2 or len(text) > 100:
        return None
    for campaign in campaigns:
        if words[0] != _key(campaign.keyword):
            continue
        if len(words) == 1:
            return Entry(campaign, None)
        source = next((s for s in campaign.sources if _key(s.id) == words[1]), None)
        return Entry(campaign, source, None if source else raw_words[-1][:64])
    return None


def resolve_source(payload: str | None, campaigns: tuple[Campaign, ...]) -> Entry | None:
    """A deep-link payload or m.me ref: the source id, in any campaign. None if unknown."""
    if not payload:
        return None
    for campaign in campaigns:
        source = campaign.source(payload.strip())
        if source is not None:
            return Entry(campaign, source)
    return None


def _key(word: str) -> str:
    """Case, accents, punctuation and the _ or - inside source ids do not matter."""
    return normalise(word).replace(" ", "")
