"""The återkoppling as people receive it: checked, framed and in their language.

Pure, like the engine: the broadcast service, its preview and the RESULTAT keyword all
build the words here, so a person sees the same thing whichever way it reaches them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from dialog_flows import texts
from dialog_flows.languages import direction
from dialog_flows.session import Outgoing
from dialog_flows.translations import Translations

# Words and marks that mean "not written yet". A text that is only, or still holds,
# one of these never goes out: a resident who gets "TODO" learns we did not care.
_PLACEHOLDERS = re.compile(
    r"\b(todo|tbd|fixme|xxx+|lorem ipsum|placeholder|översätt|translate me)\b"
    r"|\{\{.*?\}\}|<<.*?>>|\[\s*(text|translation|översättning|\.\.\.)\s*\]",
    re.IGNORECASE,
)
MAX_CHARACTERS = 1500  # Messenger takes 2000 and Telegram 4096; SMS cost grows per 67-153


@dataclass(frozen=True)
class Chosen:
    """Which staff text a person in ``language`` gets: their own, or a confirmed fallback."""

    language: str  # the language of the text they get
    fallback: bool


def text_problem(text: str) -> str | None:
    """Why this text must not be sent, or None."""
    stripped = text.strip()
    if not stripped:
        return "the text is empty"
    found = _PLACEHOLDERS.search(stripped)
    if found:
        return f"the text still holds a placeholder ({found.group(0)!r})"
    if len(stripped) > MAX_CHARACTERS:
        return f"the text has {len(stripped)} characters; at most {MAX_CHARACTERS}"
    return None


def choose(
    language: str,
    available: Collection[str],
    fallback_confirmed: Collection[str],
    fallback_language: str,
) -> Chosen | None:
    """Their own language's text; the fallback language's only where staff confirmed it
    for this language; otherwise None (they cannot be sent to yet)."""
    if language in available:
        return Chosen(language, fallback=False)
    if language in fallback_confirmed and fallback_language in available:
        return Chosen(fallback_language, fallback=True)
    return None


def with_link(text: str, link: str | None) -> str:
    return f"{text.strip()}\n{link}" if link else text.strip()


def compose(tr: Translations, language: str, text: str, link: str | None = None) -> str:
    """The message: a line that says what this is (in the reader's language), the
    staff's text, and the link."""
    return f"{tr.system(language, texts.RESULTS_INTRO)}\n\n{with_link(text, link)}"


def outgoing(
    tr: Translations, language: str, text: str, link: str | None, image: str | None
) -> Outgoing:
    return Outgoing(
        text=compose(tr, language, text, link),
        language=language,
        direction=direction(language),
        image=image,
    )


def published(texts_by_language: Mapping[str, str], link: str | None) -> dict[str, str]:
    """What RESULTAT answers with, per language (the engine adds the framing line)."""
    return {language: with_link(text, link) for language, text in texts_by_language.items()}
