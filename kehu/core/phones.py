"""Phone numbers as people type them, stored in one form (E.164) and shown in the local one. Used by
every app that keeps a phone (customers, contacts; suppliers and tickets later)."""

import functools
import re

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
    region = region or settings.KEHU_PHONE_REGION
    fast = _fast_mobile(raw, region)
    if fast:
        return fast
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": raw}, code="invalid_phone")
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number (check the number of digits and the area code).")
            % {"value": raw},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PLAIN_MOBILE = re.compile(r"(\+86)?(1[0-9]{10})")


@functools.cache
def _cn_patterns():
    """phonenumbers' own patterns of a Chinese mobile number and of any Chinese number."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return re.compile(meta.mobile.national_number_pattern), re.compile(meta.general_desc.national_number_pattern)


def _fast_mobile(raw: str, region: str) -> str:
    """The E.164 form of a plain Chinese mobile number (13812345678, +8613812345678) without
    phonenumbers.parse (~45 µs; an import checks millions): the same answer, read from
    phonenumbers' own CN metadata; "" for anything else, which phonenumbers then decides
    (kehu/core/tests/test_phones_fast.py compares the two on every mobile prefix)."""
    m = _PLAIN_MOBILE.fullmatch(raw)
    if m is None or (m.group(1) is None and region != "CN"):
        return ""
    national = m.group(2)
    mobile, general = _cn_patterns()
    if mobile.fullmatch(national) and general.fullmatch(national):
        return "+86" + national
    return ""


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
