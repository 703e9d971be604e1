"""Reading a list of people who agreed to be contacted (a citizens' panel, say) from CSV.

Lists come from Excel as often as from anywhere, so: the separator is guessed (Swedish
Excel writes ``;``), UTF-8 with or without a BOM is read and Windows-1252 is the
fallback, and a header row is optional. With a header, the number is in the column
called phone, telefon, mobil, nummer (or similar), and an optional language column
(language, språk) chooses the language of the invitation. Without one, the first column
is the number.

Every number is normalised to E.164 with libphonenumber (national Swedish numbers are
understood); a bad one is reported with its line and the reason, and a repeated one
is skipped, naming the line it first appeared on. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale, UnknownLocaleError

from dialog_flows.languages import match_language
from dialog_flows.phone import DEFAULT_REGION, check_phone

MAX_FILE_BYTES = 20 * 1024 * 1024
PHONE_HEADERS = {"phone", "phone number", "mobile", "mobile number", "number", "telefon",
                 "telefonnummer", "tel", "mobil", "mobilnummer", "nummer", "e164"}  # fmt: skip
LANGUAGE_HEADERS = {"language", "lang", "språk", "sprak", "language code"}


class InvitationListError(ValueError):
    """The file cannot be read as a list at all (as opposed to single bad lines)."""


@dataclass(frozen=True)
class Invitee:
    line: int
    number: str  # E.164
    language: str | None  # one of the flow's languages, or None for the default


@dataclass(frozen=True)
class Rejected:
    line: int
    value: str
    reason: str


@dataclass
class InvitationList:
    invitees: list[Invitee] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Rejected] = field(default_factory=list)


def read_invitation_list(
    path: Path, languages: tuple[str, ...], region: str = DEFAULT_REGION
) -> InvitationList:
    text = _read_text(path)
    rows = list(csv.reader(io.StringIO(text), _dialect(text)))
    result = InvitationList()
    if not rows:
        return result
    phone_column, language_column, first = _columns(rows[0])
    seen: dict[str, int] = {}
    for index, row in enumerate(rows[first:], start=first + 1):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are common at the end of exported lists
        raw = row[phone_column].strip() if phone_column < len(row) else ""
        number, problem = check_phone(raw, region)
        if number is None:
            result.rejected.append(Rejected(index, raw, problem or "not a phone number"))
            continue
        if number in seen:
            result.duplicates.append(Rejected(index, raw, f"same number as line {seen[number]}"))
            continue
        seen[number] = index
        language = None
        if language_column is not None and language_column < len(row):
            wanted = row[language_column].strip()
            language = find_language(wanted, languages) if wanted else None
            if wanted and language is None:
                reason = f"not one of the flow's languages ({', '.join(languages)})"
                result.rejected.append(Rejected(index, wanted, reason))
                continue
        result.invitees.append(Invitee(index, number, language))
    return result


def find_language(wanted: str, languages: tuple[str, ...]) -> str | None:
    """A code (ar, sv-SE) or a name in Swedish, English or the language itself
    (arabiska, Arabic, العربية), as staff and panels write them."""
    code = match_language(wanted, languages)
    if code is not None:
        return code
    name = wanted.strip().casefold()
    for code in languages:
        try:
            locale = Locale.parse(code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        names = {locale.get_display_name(lang) for lang in ("sv", "en", code.replace("-", "_"))}
        names.add(locale.get_language_name("sv"))
        if name in {str(n).casefold() for n in names if n}:
            return code
    return None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvitationListError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvitationListError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    if b"\x00" in data[:4096]:
        raise InvitationListError(f"{path}: not a text file (save the list as CSV)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Swedish Windows


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=";,\t")
    except csv.Error:  # one column, no separator to find
        return csv.excel


def _columns(header: list[str]) -> tuple[int, int | None, int]:
    """(phone column, language column, index of the first data row)."""
    names = [cell.strip().lower() for cell in header]
    if any(name in PHONE_HEADERS for name in names):
        phone = next(i for i, name in enumerate(names) if name in PHONE_HEADERS)
        language = next((i for i, name in enumerate(names) if name in LANGUAGE_HEADERS), None)
        return phone, language, 1
    if any(name in LANGUAGE_HEADERS for name in names):
        raise InvitationListError(
            "the header names a language column but no phone column "
            f"(call it one of: {', '.join(sorted(PHONE_HEADERS))})"
        )
    return 0, None, 0
