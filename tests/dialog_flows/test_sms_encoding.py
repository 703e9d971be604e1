"""Tests for dialog_flows.sms_encoding (GSM-7 / UCS-2 segment counting)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialog_flows.sms_encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsCost,
    is_gsm7,
    sms_cost,
    to_gsm_friendly,
)

# GSM 03.38 default alphabet as Unicode code points (unicode.org GSM0338.TXT),
# written independently of the module's table; 0x1B (escape) is not a character.
_BASIC_CODE_POINTS = [
    *(0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D),
    *(0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398),
    *(0x39E, 0xC6, 0xE6, 0xDF, 0xC9, 0x20, 0x21, 0x22, 0x23, 0xA4),
    *range(0x25, 0x40),
    0xA1,
    *range(0x41, 0x5B),
    *(0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF),
    *range(0x61, 0x7B),
    *(0xE4, 0xF6, 0xF1, 0xFC, 0xE0),
]
_EXTENSION_CODE_POINTS = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]

GSM_BASIC = "".join(map(chr, _BASIC_CODE_POINTS))
GSM_EXTENSION = "".join(map(chr, _EXTENSION_CODE_POINTS))
PUNCTUATION = (
    "‘’‚′“”„″«»–—−…•"
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
    "\u200b\u200c\u200d\ufeff"
)
FOLDABLE = "áíóúâêëïôûçÁÍÓÚÂÊËÏÔÛÀÈÌÒÙ"

gsm_text = st.text(alphabet=GSM_BASIC + GSM_EXTENSION)
arabic_text = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF))


# --- the tables --------------------------------------------------------------


def test_basic_table_is_exactly_gsm_03_38() -> None:
    assert len(_BASIC_CODE_POINTS) == 127
    assert set(GSM_BASIC) == GSM7_BASIC


def test_extension_table_is_exactly_gsm_03_38() -> None:
    assert set(GSM_EXTENSION) == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    "char",
    ["ç", "À", "`", "¢", "\t", "\x1b", "\u0391", "\u2126", "á", "’", "–", "…", "\u00a0"],
)
def test_look_alikes_are_not_gsm7(char: str) -> None:
    assert not is_gsm7(char)
    assert sms_cost(char).encoding == "UCS-2"


def test_swedish_letters_are_gsm7() -> None:
    text = "Åsa och Östen åt räksmörgås på Ängö. Émile, Ümit, Ñ, Ç, Ø, Æ, ß."
    assert is_gsm7(text)
    assert sms_cost(text) == SmsCost("GSM-7", len(text), 1, len(text))


# --- segment boundaries ------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    cost = sms_cost("a" * length)
    assert cost == SmsCost("GSM-7", length, segments, length)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    text = "á" + "a" * (length - 1)
    assert sms_cost(text) == SmsCost("UCS-2", length, segments, length)


def test_empty_text_is_one_segment() -> None:
    assert sms_cost("") == SmsCost("GSM-7", 0, 1, 0)


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_extension_characters_cost_two_septets(char: str) -> None:
    assert sms_cost(char * 80) == SmsCost("GSM-7", 160, 1, 80)
    assert sms_cost(char * 81) == SmsCost("GSM-7", 162, 2, 81)


def test_escape_pair_is_not_split_across_segments() -> None:
    # 152 + 2 + 152 = 306 septets: 2 segments by division, but "€" does not fit
    # in the single septet left in segment one, so it starts segment two.
    text = "a" * 152 + "€" + "a" * 152
    cost = sms_cost(text)
    assert cost.units == 306
    assert math.ceil(cost.units / 153) == 2
    assert cost.segments == 3


def test_escape_pair_exactly_filling_a_segment() -> None:
    assert sms_cost("a" * 151 + "€" + "a" * 153).segments == 2


def test_surrogate_pair_counts_two_units() -> None:
    assert sms_cost("😀") == SmsCost("UCS-2", 2, 1, 1)
    assert sms_cost("😀" * 35) == SmsCost("UCS-2", 70, 1, 35)
    assert sms_cost("😀" * 36).segments == 2


def test_surrogate_pair_is_not_split_across_segments() -> None:
    text = "a" * 66 + "😀" + "a" * 66
    cost = sms_cost(text)
    assert cost.units == 134
    assert math.ceil(cost.units / 67) == 2
    assert cost.segments == 3


@pytest.mark.parametrize("char", ["á", "’", "–", "…", "😀", "م", "\u200b"])
def test_one_trigger_makes_the_whole_message_ucs2(char: str) -> None:
    text = "Hej " + char + " " + "a" * 100
    assert not is_gsm7(text)
    cost = sms_cost(text)
    assert cost.encoding == "UCS-2"
    assert cost.segments == 2


def test_arabic_is_ucs2() -> None:
    text = "مرحبا، كيف حالك؟"
    assert sms_cost(text) == SmsCost("UCS-2", len(text), 1, len(text))


# --- to_gsm_friendly ---------------------------------------------------------


def test_swedish_sentence_becomes_gsm7() -> None:
    text = "Det är ’bra’ – eller…"
    friendly = to_gsm_friendly(text)
    assert friendly == "Det är 'bra' - eller..."
    assert sms_cost(friendly).encoding == "GSM-7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Hej” „då” «ja» 5″", '"Hej" "då" "ja" 5"'),
        ("5′ ‚x‘ ’", "5' 'x' '"),
        ("a—b−c • d", "a-b-c - d"),
        ("10\u00a0000\u202fkr\u2009!\u3000?", "10 000 kr ! ?"),
        ("z\u200bw\u200cn\u200dj\ufeff", "zwnj"),
        ("Café, façade, naïve, rôle, Ángel", "Café, facade, naive, role, Angel"),
        ("áíóúâêëïôûç ÁÍÓÚÂÊËÏÔÛ", "aiouaeeiouc AIOUAEEIOU"),
        ("Ç ç", "Ç c"),
        ("Åå Ää Öö Éé Üü Øø Ææ è ù ì ò à Ññ ß", "Åå Ää Öö Éé Üü Øø Ææ è ù ì ò à Ññ ß"),
        ("Ma\u0308rta a\u030as", "Märta ås"),  # decomposed (macOS) input
        ("", ""),
    ],
)
def test_to_gsm_friendly_examples(text: str, expected: str) -> None:
    assert to_gsm_friendly(text) == expected
    assert is_gsm7(expected)


@pytest.mark.parametrize("text", ["Hej 😀 – ’ok’…", "Familj 👨\u200d👩\u200d👧", "سلام – ’x’"])
def test_to_gsm_friendly_leaves_text_that_stays_ucs2_alone(text: str) -> None:
    assert to_gsm_friendly(text) == text


@given(arabic_text)
def test_to_gsm_friendly_never_changes_arabic(text: str) -> None:
    assert to_gsm_friendly(text) == text


# --- properties --------------------------------------------------------------


@given(st.text())
def test_at_least_one_segment_and_enough_capacity(text: str) -> None:
    cost = sms_cost(text)
    assert cost.segments >= 1
    assert cost.characters == len(text)
    single, per_segment = (160, 153) if cost.encoding == "GSM-7" else (70, 67)
    if cost.units <= single:
        assert cost.segments == 1
    else:
        assert cost.segments >= math.ceil(cost.units / per_segment)
        # Packing wastes at most one unit per segment.
        assert cost.segments <= math.ceil(cost.units / (per_segment - 1))


@given(st.text())
def test_ucs2_units_are_utf16_code_units(text: str) -> None:
    cost = sms_cost(text)
    if cost.encoding == "UCS-2":
        assert cost.units == len(text.encode("utf-16-le")) // 2


@given(gsm_text)
def test_gsm7_units_count_extension_characters_twice(text: str) -> None:
    cost = sms_cost(text)
    assert cost.encoding == "GSM-7"
    assert cost.units == len(text) + sum(ch in GSM_EXTENSION for ch in text)


@given(st.text())
def test_to_gsm_friendly_is_idempotent(text: str) -> None:
    once = to_gsm_friendly(text)
    assert to_gsm_friendly(once) == once


@given(gsm_text)
def test_to_gsm_friendly_keeps_gsm7_text(text: str) -> None:
    assert to_gsm_friendly(text) == text


@given(st.text(alphabet=GSM_BASIC + GSM_EXTENSION + PUNCTUATION + FOLDABLE))
def test_to_gsm_friendly_yields_gsm7(text: str) -> None:
    friendly = to_gsm_friendly(text)
    assert is_gsm7(friendly)
    assert sms_cost(friendly).encoding == "GSM-7"
