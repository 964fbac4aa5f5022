"""Phone numbers as people type them, stored in one form (E.164) and shown in the local one. Used by
every app that keeps a phone (customers, contacts; suppliers and tickets later)."""

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(value: str, region: str | None = None) -> str:
    """'138 1234 5678' -> '+8613812345678'. Raises ValidationError for a number that cannot exist."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if isinstance(value, float):  # spreadsheets store phones as floats
        raw = str(int(value))
    try:
        number = phonenumbers.parse(raw, region or settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": raw}, code="invalid_phone")
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number (check the number of digits and the area code).")
            % {"value": raw},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=20000)
def display_phone(value: str) -> str:
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.KEHU_PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
