"""Money: one field type, one rounding rule, one way to show it.

- `MoneyField`: a DecimalField of 18 digits, 2 of them decimals (the column type every amount
  already had). Values are Decimals from the database to the screen, the API and the export;
  a float is refused (`to_money`), never converted.
- `round_money()`: half up to the cent. `line_total()` is the only place a line's amount and tax
  are computed and rounded (the rule is in docs/decisions.md): each line is rounded once, the tax
  is computed per line from the rounded net amount, and a document's totals are the sums of its
  rounded lines (`document_total()`).
- `format_money()` (the `money` template filter, list and detail columns of a MoneyField): the
  company currency's symbol (`KEHU_CURRENCY`, default CNY: ¥) and the number grouped by
  thousands in the user's language: ¥1,234,567.50.

    from kehu.core.money import MoneyField, line_total

    class OrderLine(models.Model):
        unit_price = MoneyField(_("unit price"))
        ...
    line = line_total(qty=3, unit_price=Decimal("19.99"), discount_pct=10, tax_pct=13)
    line.net, line.tax, line.gross   # Decimal('53.97'), Decimal('7.02'), Decimal('60.99')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, NamedTuple

from django.conf import settings
from django.core import exceptions
from django.db import models
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_DIGITS = 18
DECIMAL_PLACES = 2

SYMBOLS = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "TWD": "NT$",
           "SGD": "S$", "AUD": "A$", "CAD": "C$", "KRW": "₩", "INR": "₹", "RUB": "₽", "CHF": "CHF "}

# Money is grouped by thousands with a comma in both languages: Chinese invoices, bank statements and
# accounting software write ¥1,234,567.50 (千分位), although Django's zh_Hans locale groups nothing.
# Other languages use their Django locale's separators.
SEPARATORS = {"zh-hans": (".", ",", 3), "zh-hant": (".", ",", 3), "en": (".", ",", 3)}


def to_money(value) -> Decimal | None:
    """A Decimal from a Decimal, an int or a numeric string ("1234.50", "1,234.50" is not one);
    None and "" stay None. A float is a TypeError: its binary value is not the amount it shows."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"Money is never a {type(value).__name__}; pass a Decimal, an int or a string.")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"Not an amount: {value!r}") from None
        if not result.is_finite():
            raise ValueError(f"Not an amount: {value!r}")
        return result
    raise TypeError(f"Not an amount: {value!r}")


def round_money(value) -> Decimal:
    """`value` rounded half up (away from zero at .5) to the cent: 0.005 → 0.01, -0.005 → -0.01;
    -0.004 → 0.00 (never -0.00)."""
    result = to_money(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return result if result else abs(result)


class LineTotal(NamedTuple):
    net: Decimal  # quantity × unit price, less the discount: rounded once
    tax: Decimal  # net × tax rate: rounded once
    gross: Decimal  # net + tax (both already cents: exact)


def line_total(qty, unit_price, discount_pct=None, tax_pct=None) -> LineTotal:
    """A document line's amounts, the only place they are computed and rounded.

    net = round(qty × unit_price × (1 − discount_pct / 100)), computed exactly and rounded once;
    tax = round(net × tax_pct / 100); gross = net + tax. Percentages are percent (13 = 13 %),
    like the opportunity's discount (%). Quantities may have decimals (2.5 hours)."""
    qty = to_money(qty) or Decimal(0)
    exact = qty * (to_money(unit_price) or Decimal(0))
    if discount_pct not in (None, ""):
        exact = exact * (HUNDRED - to_money(discount_pct)) / HUNDRED
    net = round_money(exact)
    tax = round_money(net * to_money(tax_pct) / HUNDRED) if tax_pct not in (None, "") else Decimal("0.00")
    return LineTotal(net, tax, net + tax)


def document_total(lines) -> LineTotal:
    """The totals of a document: the sums of its lines' rounded amounts (never re-rounded)."""
    net = sum((line.net for line in lines), Decimal("0.00"))
    tax = sum((line.tax for line in lines), Decimal("0.00"))
    return LineTotal(net, tax, net + tax)


def currency() -> str:
    """The company's base currency (ISO 4217), `KEHU_CURRENCY`."""
    return (getattr(settings, "KEHU_CURRENCY", "") or "CNY").upper()


def currency_symbol(code: str | None = None) -> str:
    code = (code or currency()).upper()
    return SYMBOLS.get(code, f"{code} ")


def format_money(value, code: str | None = None, symbol: bool = True) -> str:
    """An amount as the user reads it: ¥1,234,567.50 (rounded half up to the cent, grouped by
    thousands in the user's language, a minus before the symbol); "" for None."""
    if value is None or value == "":
        return ""
    amount = round_money(value)
    lang = (get_language() or settings.LANGUAGE_CODE).lower()
    seps = SEPARATORS.get(lang) or SEPARATORS.get(lang.split("-")[0])
    if seps is None:
        seps = (formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR"),
                formats.get_format("NUMBER_GROUPING") or 3)
    decimal_sep, thousand_sep, grouping = seps
    digits = f"{abs(amount):f}"
    whole, _dot, cents = digits.partition(".")
    if thousand_sep and isinstance(grouping, int) and grouping > 0:
        groups = []
        while len(whole) > grouping:
            groups.insert(0, whole[-grouping:])
            whole = whole[:-grouping]
        whole = thousand_sep.join([whole, *groups])
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency_symbol(code) if symbol else ''}{whole}{decimal_sep}{cents}"


class MoneyField(models.DecimalField):
    """An amount of money in the base currency: numeric(18, 2), a Decimal in Python, a string in
    JSON ("1234.50"), a `#,##0.00` number in XLSX, shown with the currency symbol."""

    description = _("Amount of money")

    def __init__(self, verbose_name=None, name=None, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(verbose_name, name, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == MAX_DIGITS:
            del kwargs["max_digits"]
        if kwargs.get("decimal_places") == DECIMAL_PLACES:
            del kwargs["decimal_places"]
        return name, path, args, kwargs

    def to_python(self, value):
        if isinstance(value, float):
            raise exceptions.ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value})
        return super().to_python(value)

    def get_db_prep_save(self, value, connection):
        if isinstance(value, float):
            raise TypeError(f"{self.name}: money is never a float; pass a Decimal, an int or a string.")
        return super().get_db_prep_save(value, connection)


def _json_text(value: Decimal) -> str:
    return f"{value:f}"


# The API's output type of a MoneyField: a JSON string with the cents ("1234.50"), never a number
# (a JSON number is a float to most clients). Input takes a string or a number, parsed as a
# Decimal (kehu.core.api_input.loads).
def _money_out():
    from pydantic import PlainSerializer, WithJsonSchema

    return Annotated[Decimal, PlainSerializer(_json_text, return_type=str, when_used="json"),
                     WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$",
                                     "description": "An amount in the base currency, as a string: 1234.50",
                                     "examples": ["1234.50"]})]


MoneyOut = _money_out()


def _money_in():
    from pydantic import WithJsonSchema

    return Annotated[Decimal, WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"^-?\d{1,16}(\.\d{1,2})?$", "examples": ["1234.50"]}, {"type": "number"}],
        "description": "An amount in the base currency: a string (\"1234.50\") or a number, read as a "
                       "decimal (never a binary float); at most two decimals."})]


MoneyIn = _money_in()


def is_money(field) -> bool:
    return isinstance(field, MoneyField)


# 大写金额 (amount_in_words_zh): the capital numerals of the PBOC's 《正确填写票据和结算凭证的基本规定》.
ZH_DIGITS = "零壹贰叁肆伍陆柒捌玖"
ZH_PLACES = ("", "拾", "佰", "仟")  # within a group of four digits
ZH_MAX_INTEGER_DIGITS = MAX_DIGITS - DECIMAL_PLACES  # 16: 玖仟玖佰玖拾玖万…亿, all a MoneyField holds


def _integer_in_words_zh(digits: str) -> str:
    """The integer part (no leading zeros, not "0") in capital numerals, groups of four digits under
    万 and 亿 (10^12 is 壹万亿). One 零 for a run of zeros between two non-zero digits (rules 1
    and 2), except a run that ends at a group's last digit (万位, 亿位) before a non-zero 仟位:
    rule 3 leaves that 零 out or in, and it is left out (壹拾万柒仟, as the amount is read)."""
    out: list[str] = []
    zeros = False  # a run of zeros after a written digit, not yet closed
    for index, char in enumerate(digits):
        place = len(digits) - 1 - index
        if char == "0":
            zeros = bool(out)
        else:
            if zeros and place % 4 != 3:
                out.append("零")
            zeros = False
            out.append(ZH_DIGITS[int(char)] + ZH_PLACES[place % 4])
        if place and place % 8 == 0:
            out.append("亿")  # the leading digit is above it: 亿 is always written (壹万亿)
        elif place % 8 == 4 and digits[max(0, index - 3):index + 1].strip("0"):
            out.append("万")  # 万 only for a group that has a digit (壹亿零壹元, not 壹亿万零壹元)
    return "".join(out)


def amount_in_words_zh(amount: Decimal) -> str:
    """An amount in Chinese capital numerals (大写金额), as invoices, quotations and contracts write
    it: 壹仟零肆元零柒分, 壹拾万元整, 负伍元整. Rounded half up to the cent first (`round_money`).

    The rules are those of the PBOC's 《正确填写票据和结算凭证的基本规定》 (docs/decisions.md):
    元 (not 圆); 整 after 元, none after 角 (伍角) nor 分; 零 where rules 1, 2 and 4 require it
    (壹仟零肆元, 壹亿零壹元, 叁佰贰拾伍元零肆分), none where rule 3 lets it be left out (壹拾万柒仟元,
    壹仟陆佰捌拾元叁角贰分); 0 is 零元整; less than a yuan has no 元 (伍分); negative: 负 before it.
    A Decimal, an int or a numeric string; a float is a TypeError (as `to_money`). At most 16
    digits before the decimal point (a MoneyField's range), else ValueError."""
    if amount is None or amount == "":
        raise TypeError("No amount to write in words.")
    value = to_money(amount)
    if not value.is_finite():
        raise ValueError(f"Not an amount: {amount!r}")
    value = round_money(value)
    cents = int(abs(value) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if len(str(yuan)) > ZH_MAX_INTEGER_DIGITS:
        raise ValueError(f"Too large to write in words: {value}")
    words = _integer_in_words_zh(str(yuan)) + "元" if yuan else ""
    if not jiao and not fen:
        words = (words or "零元") + "整"
    else:
        if jiao:
            words += ZH_DIGITS[jiao] + "角"
        if fen:
            words += ("零" if words and not jiao else "") + ZH_DIGITS[fen] + "分"
    return ("负" if value < 0 else "") + words
