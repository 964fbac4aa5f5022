"""Turning spreadsheet cells into what a form accepts. Every function takes the raw cell (str,
int, float, date, datetime, bool or None) and returns a string for the form's data, or raises
ValueError with a message for the user."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space


_SPACES = re.compile(r"[ \t]+")
# what text() changes in a string besides its ends: full-width forms, no-break and tab characters, runs of spaces
_NOT_PLAIN = re.compile(r"[\t\u00a0\u3000\uff01-\uff5e]| {2}")


def text(value) -> str:
    """Full-width digits, letters and spaces to half-width; whitespace trimmed and collapsed."""
    if value.__class__ is str and _NOT_PLAIN.search(value) is None:
        # the common cell: nothing to translate or collapse, only its ends to trim (the same result
        # as the full path below: kehu/core/tests/test_import_fast_paths.py compares them)
        s = value.strip()
    else:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, datetime.datetime) and value.time() == datetime.time():
            value = value.date()
        s = str(value).translate(_FULLWIDTH).replace("\u00a0", " ")
        s = _SPACES.sub(" ", s).strip()
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":  # a Kehu export's guard against formulas
        s = s[1:]
    return s


def long_text(value) -> str:
    """Like text, but line breaks kept."""
    if value is None:
        return ""
    return "\n".join(text(line) for line in str(value).splitlines()).strip()


_FLOAT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+")
_POINT_ZERO = re.compile(r"[0-9]+\.0")


def phone(value) -> str:
    """A phone as typed; a number Excel stored as a float (1.38123456789E10) back to its digits."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    s = text(value)
    if _FLOAT_TEXT.fullmatch(s):  # a float printed as text
        try:
            return str(int(Decimal(s)))
        except InvalidOperation:
            return s
    if _POINT_ZERO.fullmatch(s):
        return s[:-2]
    return s


_CURRENCY = re.compile(r"^[¥￥$€£]|^(RMB|CNY|USD|EUR)\s*|\s*(元|RMB|CNY|USD|EUR)$", re.IGNORECASE)


def number(value) -> str:
    """12,345.60 / ¥1,234 / 1 234,5 € / （1.5）... to a plain decimal string."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    s = text(value)
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    s = _CURRENCY.sub("", s).strip()
    s = _CURRENCY.sub("", s).strip()
    s = s.replace(" ", "").replace("'", "")
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):  # 1.234,56
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        parts = s.split(",")
        if len(parts) == 2 and len(parts[1]) != 3:  # 12,5: a decimal comma
            s = s.replace(",", ".")
        else:
            s = s.replace(",", "")
    if s.endswith("%"):
        s = s[:-1]
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": text(value)}) from None
    if not d.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": text(value)})
    return format(-d if negative else d, "f")


def integer(value) -> str:
    s = number(value)
    if not s:
        return ""
    d = Decimal(s)
    if d != d.to_integral_value():
        raise ValueError(_("“%(value)s” is not a whole number.") % {"value": text(value)})
    return str(int(d))


EXCEL_EPOCH = datetime.date(1899, 12, 30)

_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})"), ("d", "m", "y")),  # 05.01.2026 (European)
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})"), ("m", "d", "y")),  # 1/5/2026 (US, as Excel writes it)
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),  # 20260105
]


_SERIAL_TEXT = re.compile(r"\d{5}(\.\d+)?")


def date(value) -> str:
    """An ISO date string from a date cell, an Excel serial number (46027 = 2026-01-05) or a
    typed date: 2026/1/5, 2026-01-05, 2026年1月5日, 05.01.2026, 1/5/2026, 20260105."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _serial(value, value)
    s = text(value)
    if _SERIAL_TEXT.fullmatch(s):  # an Excel serial as text
        return _serial(float(s), value)
    for pattern, order in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            parts = dict(zip(order, map(int, m.groups()), strict=True))
            try:
                return datetime.date(parts["y"], parts["m"], parts["d"]).isoformat()
            except ValueError:
                break
    raise ValueError(_("“%(value)s” is not a date (write it as 2026-01-05).") % {"value": s})


_TIME = re.compile(r"(?:[T\s]+|(?<=[日号])\s*)(上午|下午)?\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?(?:\.\d+)?"
                   r"\s*([AaPp]\.?[Mm]\.?)?$")


def date_time(value) -> str:
    """A date and time of day as the form reads it in the current time zone ("2026-01-05 14:30"),
    from a date-time cell (rounded to the second), an Excel serial with its fraction of a day, or a
    date typed as `date()` reads it followed by a time (14:30, 14:30:15); a date alone is midnight."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return _clock(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) or (
            isinstance(value, str) and _SERIAL_TEXT.fullmatch(text(value))):
        n = float(value) if not isinstance(value, str) else float(text(value))
        day = _serial(n, value)
        seconds = round((n - int(n)) * 86400)
        return _clock(datetime.datetime.fromisoformat(day) + datetime.timedelta(seconds=seconds))
    s = text(value)
    m = _TIME.search(s)
    if m is None:
        return date(s)
    half, hour, minute, second = m.group(1) or m.group(5) or "", int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
    if half:  # 2:30 PM, 下午2:30
        if not 1 <= hour <= 12:
            raise ValueError(_("“%(value)s” is not a time of day (write it as 2026-01-05 14:30).") % {"value": s})
        hour = hour % 12 + (12 if half[0] in "Pp下" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(_("“%(value)s” is not a time of day (write it as 2026-01-05 14:30).") % {"value": s})
    day = date(s[:m.start()])
    return _clock(datetime.datetime.fromisoformat(day).replace(hour=hour, minute=minute, second=second))


def _clock(moment: datetime.datetime) -> str:
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + datetime.timedelta(seconds=moment.microsecond >= 500_000)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


def _serial(n: float, raw) -> str:
    if not 1 <= n < 2958466:
        raise ValueError(_("“%(value)s” is not a date (write it as 2026-01-05).") % {"value": raw})
    return (EXCEL_EPOCH + datetime.timedelta(days=int(n))).isoformat()


_TRUE = {"1", "true", "yes", "y", "是", "对", "√", "✓", "x", "t", "on", "真", "有"}
_FALSE = {"0", "false", "no", "n", "否", "不是", "错", "×", "f", "off", "", "假", "无"}


def boolean(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "false"
    s = text(value).lower()
    if s in _TRUE:
        return "true"
    if s in _FALSE:
        return "false"
    raise ValueError(_("“%(value)s” is not yes or no (是/否).") % {"value": text(value)})


_KEY_DROPS = re.compile(r"[\s_\-:：()（）]+")


def key(value) -> str:
    """How a dictionary label, a user name or a header is compared: case, spaces and full-width
    forms ignored."""
    return _KEY_DROPS.sub("", text(value).lower())
