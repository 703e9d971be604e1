"""SMS encoding and segment counting (GSM 03.38 / UCS-2), as billed by Twilio.

SMS is paid per *segment*. A message that fits the GSM-7 default alphabet is sent
as 7-bit septets: 160 of them fit in a single SMS, and a concatenated (multi-part)
message carries 153 septets per segment, because the user data header takes the
rest. A single character outside that alphabet -- a curly apostrophe pasted from
a word processor, an en dash, an ``á`` -- turns the *whole* message into UCS-2
(UTF-16), where a single SMS holds only 70 code units and a segment of a longer
message 67. One stray ``’`` can therefore more than double the price of a message.

This module counts what a text actually costs (:func:`sms_cost`), tells whether it
is GSM-7 (:func:`is_gsm7`), and replaces needless UCS-2 triggers in Swedish and
English text with GSM-7 equivalents (:func:`to_gsm_friendly`).

Segments are counted by packing characters greedily, as the network does: an
extension-table character (two septets, ESC + code) is never split across two
segments, nor is a UTF-16 surrogate pair, so a segment may carry one unit less
than its capacity. Pure functions, standard library only, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsCost",
    "is_gsm7",
    "sms_cost",
    "to_gsm_friendly",
]

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in code order 0x00-0x7F, eight characters per row.
# 0x1B is the escape to the extension table, not a character; it is left out here.
_GSM7_BASIC_ROWS: Final = (
    "@£$¥èéùì",  # 0x00-0x07
    "òÇ\nØø\rÅå",  # 0x08-0x0F
    "Δ_ΦΓΛΩΠΨ",  # 0x10-0x17
    "ΣΘΞ" + "ÆæßÉ",  # 0x18-0x1F (0x1B = ESC omitted)
    " !\"#¤%&'",  # 0x20-0x27
    "()*+,-./",  # 0x28-0x2F
    "01234567",  # 0x30-0x37
    "89:;<=>?",  # 0x38-0x3F
    "¡ABCDEFG",  # 0x40-0x47
    "HIJKLMNO",  # 0x48-0x4F
    "PQRSTUVW",  # 0x50-0x57
    "XYZÄÖÑÜ§",  # 0x58-0x5F
    "¿abcdefg",  # 0x60-0x67
    "hijklmno",  # 0x68-0x6F
    "pqrstuvw",  # 0x70-0x77
    "xyzäöñüà",  # 0x78-0x7F
)

#: The 127 characters of the GSM-7 basic table (one septet each).
GSM7_BASIC: Final[frozenset[str]] = frozenset("".join(_GSM7_BASIC_ROWS))

#: Extension-table characters; each is sent as ESC + code, i.e. two septets.
GSM7_EXTENSION: Final[frozenset[str]] = frozenset("\f^{}\\[~]|€")

_GSM7_ALL: Final[frozenset[str]] = GSM7_BASIC | GSM7_EXTENSION

_GSM7_SINGLE: Final = 160
_GSM7_SEGMENT: Final = 153
_UCS2_SINGLE: Final = 70
_UCS2_SEGMENT: Final = 67

_SPACES: Final = "\u00a0" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"
_ZERO_WIDTH: Final = "\u200b\u200c\u200d\ufeff"

_REPLACEMENTS: Final[dict[str, str]] = {
    **dict.fromkeys("‘’‚‛′‹›", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑–—−•", "-"),  # hyphens, en/em dash, minus sign, bullet
    "…": "...",
    **dict.fromkeys(_SPACES, " "),
    **dict.fromkeys(_ZERO_WIDTH, ""),
}
_TRANSLATION: Final = str.maketrans(_REPLACEMENTS)


@dataclass(frozen=True)
class SmsCost:
    """What a text costs to send as one (possibly concatenated) SMS.

    ``units`` is septets for GSM-7 and UTF-16 code units for UCS-2;
    ``characters`` is the number of Unicode code points (``len(text)``).
    """

    encoding: Encoding
    units: int
    segments: int
    characters: int


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM-7 basic or extension table."""
    return all(ch in _GSM7_ALL for ch in text)


def _pack(costs: list[int], single: int, segment: int) -> int:
    """Segments needed for characters of the given unit costs, never splitting one."""
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > segment:
            segments += 1
            used = 0
        used += cost
    return segments


def sms_cost(text: str) -> SmsCost:
    """Encoding, units and number of billed segments for ``text``.

    Empty text is 0 units but still one segment: a message is sent.
    """
    encoding: Encoding
    if is_gsm7(text):
        encoding = "GSM-7"
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments = _pack(costs, _GSM7_SINGLE, _GSM7_SEGMENT)
    else:
        encoding = "UCS-2"
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        segments = _pack(costs, _UCS2_SINGLE, _UCS2_SEGMENT)
    return SmsCost(encoding=encoding, units=sum(costs), segments=segments, characters=len(text))


def _clusters(text: str) -> list[str]:
    """Split text into a base character followed by its combining marks."""
    clusters: list[str] = []
    for ch in text:
        if clusters and unicodedata.category(ch).startswith("M"):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _is_latin_diacritic(ch: str) -> bool:
    return "\u0300" <= ch <= "\u036f"


def _fold(cluster: str) -> str:
    """GSM-7 form of one cluster if it has one, else the cluster unchanged."""
    if is_gsm7(cluster):
        return cluster
    composed = unicodedata.normalize("NFC", cluster)  # e.g. "a" + U+0308 -> "ä"
    if is_gsm7(composed):
        return composed
    decomposed = unicodedata.normalize("NFD", cluster)  # e.g. "á" -> "a" + U+0301
    base = "".join(ch for ch in decomposed if not _is_latin_diacritic(ch))
    if base and is_gsm7(base):
        return base
    return cluster


def to_gsm_friendly(text: str) -> str:
    """Replace characters that needlessly force UCS-2 with GSM-7 equivalents.

    Typographic quotes, dashes, the ellipsis, bullets and Unicode spaces become
    their ASCII counterparts, zero-width characters are dropped, and accented
    letters outside GSM-7 (``á``, ``ê``, ``ç``, ...) lose their accent. Letters that
    are in GSM-7 (``å ä ö é ü ñ Ç`` ...) are kept, and decomposed forms of them
    (as macOS produces) are composed.

    All or nothing: if the result would still not be GSM-7 (Arabic, emoji, ...),
    the message is UCS-2 anyway and ``text`` is returned unchanged -- replacing
    characters then saves nothing (``…`` -> ``...`` even costs more) and could
    only damage the text, e.g. by removing the zero-width joiners of an emoji.
    """
    if is_gsm7(text):
        return text
    friendly = "".join(_fold(c) for c in _clusters(text.translate(_TRANSLATION)))
    return friendly if is_gsm7(friendly) else text
