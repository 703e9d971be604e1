"""Languages as CLDR (through Babel) describes them: names, text direction, hints.

Codes are BCP 47 (``sv``, ``ar``, ``fa-AF``); Babel spells them with an underscore.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError

Direction = Literal["ltr", "rtl"]


@lru_cache(maxsize=256)
def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def is_known_language(code: str) -> bool:
    return _locale(code) is not None


def autonym(code: str) -> str:
    """The language's name in itself, as menus show it: Svenska, English, العربية."""
    locale = _locale(code)
    if locale is None:
        return code
    name = locale.get_display_name(locale) or code
    # CLDR writes many autonyms in lower case (svenska, polski); a menu entry starts
    # with a capital where the script has one.
    return name[:1].upper() + name[1:]


def english_name(code: str) -> str:
    locale = _locale(code)
    return (locale.get_display_name("en") if locale else None) or code


def direction(code: str) -> Direction:
    locale = _locale(code)
    if locale is not None and locale.character_order == "right-to-left":
        return "rtl"
    return "ltr"


def match_language(hint: str | None, offered: tuple[str, ...]) -> str | None:
    """Map a platform's hint (Telegram ``ar``, Messenger ``ar_AR``, ``sv-SE``) to an offered
    language: an exact match first, then the same base language."""
    if not hint:
        return None
    wanted = hint.replace("_", "-").strip().lower()
    by_lower = {code.lower(): code for code in offered}
    if wanted in by_lower:
        return by_lower[wanted]
    base = wanted.split("-")[0]
    if base in by_lower:  # fa-IR: plain Persian before another region's variant
        return by_lower[base]
    for code in offered:
        if code.lower().split("-")[0] == base:
            return code
    return None
