"""Mobile numbers people give for återkoppling by SMS, parsed with libphonenumber.

Swedish numbers may be written nationally (070-123 45 67); others need their country
code. The result is E.164 (+46701234567), the form Twilio sends to.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "SE"
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def parse_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    return check_phone(text, region)[0]


def check_phone(text: str, region: str = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """(E.164 number, None), or (None, why not) in words staff can act on."""
    if not text or not text.strip():
        return None, "empty"
    if len(text) > 40:
        return None, "too long to be a phone number"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return None, "not a valid number (a digit missing or too many?)"
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        # We send SMS, so a landline number would never reach them.
        return None, "not a mobile number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
