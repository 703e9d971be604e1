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
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None  # we send SMS, so a landline number would never reach them
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
