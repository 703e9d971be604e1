"""Understanding what a person typed: normalised words, numbers in any script, lists.

People answer "2", "٢", "Otryggt!", "otryggt", "1, 3" or "/stopp". Matching is forgiving
about case, accents, Arabic letter variants, punctuation and spacing, and strict about
meaning: a text matches a choice only when it equals the whole label.
"""

from __future__ import annotations

import re
import unicodedata

MAX_MATCH_LENGTH = 200  # nothing we match against is longer; skip work on huge inputs

# Arabic letters people type interchangeably. Alef forms with hamza lose their mark in
# the NFKD step below; these are the variants that are separate letters.
# Persian keyboards type ی and ک where Arabic ones type ي and ك: the same letters to a reader.
# Turkish ı is what "I" casefolds to on a Turkish keyboard, so YARDIM and yardım match.
_LETTER_FOLD = str.maketrans(
    {"ى": "ي", "ی": "ي", "ک": "ك", "ة": "ه", "ـ": None, "ؤ": "و", "ئ": "ي", "ı": "i"}
)
_SEPARATORS = re.compile(r"[\s,;/+&،؛]+|\b(?:och|and|و)\b")
_PUNCTUATION_CATEGORIES = ("P", "S", "C", "Z")


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a short text."""
    text = text[: MAX_MATCH_LENGTH * 2]
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # accents, Arabic harakat and hamza marks
            continue
        if category[0] in _PUNCTUATION_CATEGORIES:
            kept.append(" ")
        else:
            kept.append(char)
    folded = "".join(kept).translate(_LETTER_FOLD)
    return " ".join(folded.split())


def parse_integer(text: str) -> int | None:
    """A whole number written in any script's digits (1, ١, ۱), with optional sign."""
    stripped = text.strip()
    if not stripped or len(stripped) > 12:
        return None
    sign = 1
    if stripped[0] in "-−":
        sign, stripped = -1, stripped[1:].strip()
    value = 0
    for char in stripped:
        digit = unicodedata.decimal(char, None)
        if digit is None:
            return None
        value = value * 10 + digit
    return sign * value if stripped else None


def parse_integer_list(text: str) -> list[int] | None:
    """ "1,3", "1 3", "1 och 3" -> [1, 3]; None when any part is not a number."""
    parts = [part for part in _SEPARATORS.split(text.strip()) if part]
    if not parts or len(parts) > 30:
        return None
    numbers: list[int] = []
    for part in parts:
        number = parse_integer(part)
        if number is None:
            return None
        numbers.append(number)
    return numbers


def keyword_forms(listing: str) -> list[str]:
    """ "STOPP, AVSLUTA" -> ["stopp", "avsluta"] in normalised form."""
    return [form for form in (normalise(word) for word in listing.split(",")) if form]


def first_keyword(listing: str) -> str:
    return listing.split(",", maxsplit=1)[0].strip() or listing
