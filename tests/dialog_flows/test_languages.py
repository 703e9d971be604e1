"""Tests for dialog_flows.languages: names from CLDR, text direction, platform hints."""

from __future__ import annotations

import pytest

from dialog_flows.languages import (
    autonym,
    direction,
    english_name,
    is_known_language,
    match_language,
)

OFFERED = ("sv", "en", "ar", "so", "fa", "pl", "tr", "uk", "bs")


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("sv", "Svenska"),
        ("en", "English"),
        ("ar", "العربية"),
        ("so", "Soomaali"),
        ("fa", "فارسی"),
        ("pl", "Polski"),
        ("tr", "Türkçe"),
        ("uk", "Українська"),
        ("bs", "Bosanski"),
    ],
)
def test_autonyms_are_the_cldr_names_as_menus_show_them(code: str, name: str) -> None:
    assert autonym(code) == name


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert not is_known_language("qq-not-a-language")
    assert autonym("qq-not-a-language") == "qq-not-a-language"
    assert english_name("qq-not-a-language") == "qq-not-a-language"
    assert is_known_language("ar")
    assert english_name("ar") == "Arabic"
    assert english_name("sv") == "Swedish"


@pytest.mark.parametrize(("code", "expected"), [("ar", "rtl"), ("fa", "rtl")])
def test_arabic_script_languages_are_right_to_left(code: str, expected: str) -> None:
    assert direction(code) == expected


@pytest.mark.parametrize("code", ["sv", "en", "so", "pl", "uk", "qq-not-a-language"])
def test_other_languages_are_left_to_right(code: str) -> None:
    assert direction(code) == "ltr"


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("ar", "ar"),  # Telegram's language_code
        ("ar_AR", "ar"),  # Messenger's locale
        ("ar-SA", "ar"),
        ("sv-SE", "sv"),
        ("sv_SE", "sv"),
        ("EN", "en"),
        (" en-GB ", "en"),
        ("de", None),  # not offered
        ("de-DE", None),
        ("", None),
        (None, None),
    ],
)
def test_match_language(hint: str | None, expected: str | None) -> None:
    assert match_language(hint, OFFERED) == expected


def test_match_language_prefers_an_exact_regional_match() -> None:
    offered = ("sv", "fa-AF", "fa")  # a regional variant listed first
    assert match_language("fa-AF", offered) == "fa-AF"
    assert match_language("fa_af", offered) == "fa-AF"
    assert match_language("fa-IR", offered) == "fa"
    assert match_language("fa", offered) == "fa"
    # Without plain Persian on offer, the regional variant is the best there is.
    assert match_language("fa-IR", ("sv", "fa-AF")) == "fa-AF"
