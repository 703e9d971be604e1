"""Reading the återkoppling forms: a draft (name, a text per language, link, image,
audience), the send form and the test send form.

Forms are read whole with ``request.form()`` (the CSRF check has read it already and
Starlette keeps it) because the texts and checkboxes vary with the campaign's languages
and sources. Every value is cut to a sane length here; what is *wrong* with a value is
the service's to say (``Broadcasts.check``), so the pages and the CLI refuse the same
drafts for the same reasons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from trygg.service.broadcast_spec import BroadcastSpec
from trygg.staff.broadcast_words import parse_local, swedish

TEXT_LIMIT = 20_000  # far above the service's own limit, which says so in words
SHORT_LIMIT = 500
MANY = 100  # checkboxes of one kind


def one(form: FormData, name: str, limit: int = SHORT_LIMIT) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def many(form: FormData, name: str) -> tuple[str, ...]:
    values = [value[:64] for value in form.getlist(name) if isinstance(value, str)]
    return tuple(dict.fromkeys(values))[:MANY]  # each once, in the order given


def text_field(language: str) -> str:
    """The textarea's name and id for one language's text."""
    return f"text-{language}"


def read_spec(form: FormData, campaign_id: str, languages: list[str]) -> BroadcastSpec:
    """The draft as entered. An empty textarea means no text in that language (people
    speaking it get nothing, or the Swedish text once staff confirm it)."""
    texts = {}
    for language in languages:
        # Browsers send a textarea's line breaks as CRLF; an SMS would count each \r.
        text = one(form, text_field(language), TEXT_LIMIT).replace("\r\n", "\n")
        if text.strip():
            texts[language] = text
    return BroadcastSpec(
        campaign_id,
        one(form, "name", 200),
        texts,
        one(form, "link").strip() or None,
        one(form, "image").strip() or None,
        many(form, "sources"),
        many(form, "channels"),
        many(form, "languages"),
    )


def field_of(problem: str) -> str:
    """Which form field a problem from ``check_spec`` is about ("" for the form)."""
    if problem.startswith("the broadcast needs a name"):
        return "name"
    if problem.startswith("text "):
        return text_field(problem.removeprefix("text ").split(":", 1)[0])
    for prefix, name in (("link ", "link"), ("image ", "image"),
                         ("audience source", "sources"), ("audience channel", "channels"),
                         ("audience language", "languages")):  # fmt: skip
        if problem.startswith(prefix):
            return name
    return ""


@dataclass
class Problems:
    """A draft's problems in Swedish, by the field they are about."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, problems: list[str]) -> Problems:
        found = cls()
        for problem in problems:
            found.by_field.setdefault(field_of(problem), []).append(swedish(problem))
        return found

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def at(self, name: str) -> list[str]:
        return self.by_field.get(name, [])


@dataclass
class SendForm:
    """The send form as entered, kept to show again when it is refused."""

    confirmed: bool = False
    later: bool = False
    at_text: str = ""
    fallback: tuple[str, ...] = ()

    @classmethod
    def read(cls, form: FormData) -> SendForm:
        return cls(
            confirmed=one(form, "confirm") == "yes",
            later=one(form, "when") == "later",
            at_text=one(form, "at", 40),
            fallback=many(form, "fallback"),
        )

    def when(self, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
        """(the time to send at, None for now) or (None, why the form cannot be sent).

        A time already past is refused rather than passed on: the service would send
        at once, and someone who chose "later" never meant now."""
        if not self.confirmed:
            return None, "Kryssa i att du har läst förhandsvisningen. Inget har skickats."
        if not self.later:
            return None, None
        at = parse_local(self.at_text)
        if at is None:
            return None, "Skriv datum och tid för utskicket, som 2026-12-01 18:00."
        if at <= now:
            return None, "Tiden har redan varit. Välj en tid framåt, eller skicka nu."
        return at, None


@dataclass
class TestForm:
    channel: str = ""
    to: str = ""
    language: str = ""

    @classmethod
    def read(cls, form: FormData) -> TestForm:
        return cls(one(form, "channel", 16), one(form, "to", 128), one(form, "language", 16))
