"""Reading invitation lists: CSV as Excel and other tools write it, numbers normalised to
E.164, bad lines reported with their reason, repeats skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.invitation_list import (
    InvitationListError,
    Invitee,
    Rejected,
    find_language,
    read_invitation_list,
)

LANGUAGES = ("sv", "en", "ar", "so", "fa", "pl", "tr", "uk", "bs")


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "panel.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_swedish_excel_list_with_header_language_and_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Namn;Telefon;Språk\r\n"
        "Anna;070-123 45 67;svenska\r\n"
        "Ali;+46 70 234 56 78;arabiska\r\n"
        "Bo;046-12 34 56;\r\n"
        "Cim;0701234567;\r\n"
        "Dee;12345;en\r\n"
        "Eve;+46 73 345 67 89;klingon\r\n"
        "Fay;073-456 78 90;English\r\n"
        ";;\r\n",
        encoding="utf-8-sig",
    )
    listed = read_invitation_list(path, LANGUAGES)
    assert listed.invitees == [
        Invitee(2, "+46701234567", "sv"),
        Invitee(3, "+46702345678", "ar"),
        Invitee(8, "+46734567890", "en"),
    ]
    assert [(r.line, r.value, r.reason) for r in listed.rejected] == [
        (4, "046-12 34 56", "not a mobile number"),
        (6, "12345", "not a valid number (a digit missing or too many?)"),
        (7, "klingon", "not one of the flow's languages (sv, en, ar, so, fa, pl, tr, uk, bs)"),
    ]
    assert listed.duplicates == [Rejected(5, "0701234567", "same number as line 2")]


def test_a_bare_column_of_numbers_without_header(tmp_path: Path) -> None:
    path = write(tmp_path, "0701234567\n+4917612345678\nnot a number\n")
    listed = read_invitation_list(path, LANGUAGES)
    assert [i.number for i in listed.invitees] == ["+46701234567", "+4917612345678"]
    assert [(r.line, r.reason) for r in listed.rejected] == [(3, "not a phone number")]
    assert all(i.language is None for i in listed.invitees)


def test_comma_separated_windows_1252_from_an_old_excel(tmp_path: Path) -> None:
    path = write(tmp_path, "namn,mobil\nÅsa Öberg,070-123 45 67\n", encoding="cp1252")
    listed = read_invitation_list(path, LANGUAGES)
    assert listed.invitees == [Invitee(2, "+46701234567", None)]


def test_tab_separated_with_phone_in_a_later_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id\tlanguage\tphone\n7\tfa\t0731234567\n8\tuk\t\n")
    listed = read_invitation_list(path, LANGUAGES)
    assert listed.invitees == [Invitee(2, "+46731234567", "fa")]
    assert listed.rejected == [Rejected(3, "", "empty")]


def test_a_header_without_a_phone_column_is_refused_clearly(tmp_path: Path) -> None:
    path = write(tmp_path, "name;language\nAnna;sv\n")
    with pytest.raises(InvitationListError, match="no phone column"):
        read_invitation_list(path, LANGUAGES)


def test_a_spreadsheet_saved_as_xlsx_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "panel.xlsx"
    path.write_bytes(b"PK\x03\x04\x00\x00\x08\x00" + bytes(100))
    with pytest.raises(InvitationListError, match="save the list as CSV"):
        read_invitation_list(path, LANGUAGES)


def test_a_missing_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(InvitationListError, match="cannot read the file"):
        read_invitation_list(tmp_path / "nowhere.csv", LANGUAGES)


@pytest.mark.parametrize(
    ("written", "code"),
    [("ar", "ar"), ("AR", "ar"), ("sv-SE", "sv"), ("Arabiska", "ar"), ("Arabic", "ar"),
     ("العربية", "ar"), ("somaliska", "so"), ("Persian", "fa"), ("polska", "pl"),
     ("українська", "uk"), ("xx", None), ("", None)],
)  # fmt: skip
def test_find_language_by_code_or_name(written: str, code: str | None) -> None:
    assert find_language(written, LANGUAGES) == code
