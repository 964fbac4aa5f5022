"""The fast path of `normalize_phone` for plain Chinese mobile numbers gives phonenumbers' answer
(issue 15: imports check millions of numbers): every 4-digit prefix of an 11-digit number starting
with 1, with and without +86, under the CN region and another one."""

import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from kehu.core import phones


def slow(raw: str, region: str):
    """What normalize_phone answered before the fast path: phonenumbers alone."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def numbers():
    rng = random.Random(15)
    for prefix in range(1000, 2000):
        for _i in range(12):
            yield f"{prefix}{rng.randrange(10**7):07d}"
    yield from ("10000000000", "19999999999", "17400000000", "17406000000", "16100000000")


@pytest.mark.parametrize("region", ["CN", "US"])
def test_fast_path_agrees_with_phonenumbers(settings, region):
    settings.KEHU_PHONE_REGION = region
    fast_hits = checked = 0
    for n in numbers():
        for raw in (n, "+86" + n):
            checked += 1
            expected = slow(raw, region)
            if phones._fast_mobile(raw, region):
                fast_hits += 1
                assert phones._fast_mobile(raw, region) == expected, raw
            try:
                got = phones.normalize_phone(raw)
            except ValidationError:
                got = None
            assert got == expected, raw
    assert checked > 24000
    assert fast_hits > checked / 4  # the fast path is taken for the valid mobiles (most prefixes of 13-19)


def test_other_numbers_still_go_through_phonenumbers():
    assert phones._fast_mobile("021-62345678", "CN") == ""
    assert phones.normalize_phone("021-62345678") == "+862162345678"
    assert phones._fast_mobile("138 1234 5678", "CN") == ""  # spaced: phonenumbers reads it
    assert phones.normalize_phone("138 1234 5678") == "+8613812345678"
    assert phones._fast_mobile("12345678901", "CN") == ""
    with pytest.raises(ValidationError):
        phones.normalize_phone("12345678901")
