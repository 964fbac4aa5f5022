"""大写金额 (kehu.core.money.amount_in_words_zh): the PBOC's rules, table-driven, and a round trip
through an independent reader for amounts up to 16 digits."""

import random
import re
from decimal import Decimal

import pytest
from django.template import Context, Template

from kehu.core.money import amount_in_words_zh

D = Decimal

CASES = [
    # (amount, words): the brief's cases, then the regulation's own examples, then the edges
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("10", "壹拾元整"),
    ("100.50", "壹佰元伍角"),  # "到角为止的，在角之后可以不写整字": no 整 after 角
    ("1004.07", "壹仟零肆元零柒分"),
    ("100000", "壹拾万元整"),
    ("100000001", "壹亿零壹元整"),
    ("12345678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角"),
    ("-5", "负伍元整"),
    ("0.05", "伍分"),
    ("0.5", "伍角"),
    ("0.55", "伍角伍分"),
    # 《正确填写票据和结算凭证的基本规定》 第(六)条 examples
    ("1409.50", "壹仟肆佰零玖元伍角"),  # rule 1: a 0 between digits is 零
    ("6007.14", "陆仟零柒元壹角肆分"),  # rule 2: one 零 for a run of zeros
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),  # rule 3: 元位 0, 角 not: 零 may be left out (it is)
    ("107000.53", "壹拾万柒仟元伍角叁分"),  # rule 3: 万位 0, 仟位 not: left out too
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),  # rule 4: 角 0, 分 not: 零 after 元 (required)
    ("325.04", "叁佰贰拾伍元零肆分"),  # rule 4
    # 零 inside and between groups
    ("1", "壹元整"),
    ("11", "壹拾壹元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1100", "壹仟壹佰元整"),
    ("10000", "壹万元整"),
    ("10001", "壹万零壹元整"),
    ("10010", "壹万零壹拾元整"),
    ("10100", "壹万零壹佰元整"),
    ("11000", "壹万壹仟元整"),  # 万 then 仟: nothing skipped
    ("100010", "壹拾万零壹拾元整"),  # zeros run from 万位 into 仟位 and 佰位: 零 required
    ("1000000", "壹佰万元整"),
    ("10000000", "壹仟万元整"),
    ("100000000", "壹亿元整"),
    ("100001000", "壹亿壹仟元整"),  # 万 group empty: no 万, run ends at 万位 before 仟: no 零
    ("100100000", "壹亿零壹拾万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1000000000", "壹拾亿元整"),
    ("1000010000", "壹拾亿零壹万元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("1000000000000", "壹万亿元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("1000000000001", "壹万亿零壹元整"),
    ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # the fraction
    ("1000.05", "壹仟元零伍分"),  # 元位 and 角 0, 分 not: rule 4's 零
    ("1000.50", "壹仟元伍角"),
    ("1.01", "壹元零壹分"),
    ("1.10", "壹元壹角"),
    ("20.20", "贰拾元贰角"),
    # rounding: half up to the cent (round_money), then written
    ("1.005", "壹元零壹分"),
    ("1.004", "壹元整"),
    ("0.004", "零元整"),
    ("-0.004", "零元整"),  # never 负零元整
    ("-0.005", "负壹分"),
    ("-1004.07", "负壹仟零肆元零柒分"),
    ("99.995", "壹佰元整"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_amount_in_words(amount, words):
    assert amount_in_words_zh(D(amount)) == words


def test_int_and_string_are_amounts_a_float_is_not():
    assert amount_in_words_zh(10) == "壹拾元整"
    assert amount_in_words_zh("100.50") == "壹佰元伍角"
    with pytest.raises(TypeError):
        amount_in_words_zh(0.1)
    with pytest.raises(TypeError):
        amount_in_words_zh(None)
    with pytest.raises(TypeError):
        amount_in_words_zh(True)
    with pytest.raises(ValueError):
        amount_in_words_zh("abc")
    for not_finite in (D("NaN"), D("Infinity"), D("-Infinity"), "NaN"):
        with pytest.raises(ValueError):
            amount_in_words_zh(not_finite)
    with pytest.raises(ValueError):
        amount_in_words_zh(D("10000000000000000"))  # 17 digits: more than a MoneyField holds


DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def _read_group(text):
    """拾/佰/仟 digits (零 ignored) → int, for the 1..9999 part under one 万 or 亿."""
    total = digit = 0
    for char in text:
        if char in DIGIT:
            digit = DIGIT[char]
        elif char in PLACE:
            total += digit * PLACE[char]
            digit = 0
    return total + digit


def _read_integer(text):
    if "亿" in text:
        high, _, low = text.rpartition("亿")
        return _read_integer(high) * 10**8 + _read_integer(low)
    if "万" in text:
        high, _, low = text.partition("万")
        return _read_group(high) * 10**4 + _read_group(low)
    return _read_group(text)


def read_words(words):
    """An independent reader of 大写金额 (the inverse, not the same algorithm)."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负").removesuffix("整")
    yuan, _, fraction = words.rpartition("元") if "元" in words else ("", "", words)
    jiao = re.search(r"(.)角", fraction)
    fen = re.search(r"(.)分", fraction)
    cents = _read_integer(yuan) * 100 + (DIGIT[jiao[1]] * 10 if jiao else 0) + (DIGIT[fen[1]] if fen else 0)
    return sign * D(cents) / 100


def test_round_trip_through_an_independent_reader():
    rng = random.Random(11)
    amounts = [D(rng.randrange(10 ** rng.randint(1, 18))) / 100 for _ in range(3000)]
    # zero-rich amounts: where the 零 rules are
    amounts += [D("".join(rng.choice("0000001") for _ in range(rng.randint(1, 18))) or "0") / 100
                for _ in range(3000)]
    for amount in amounts:
        words = amount_in_words_zh(amount)
        assert read_words(words) == amount, (amount, words)
        assert "零零" not in words and not words.startswith("零") or words == "零元整", (amount, words)
        assert not words.endswith("零元整") or words == "零元整", (amount, words)
        assert words.endswith("整") == (amount == amount.to_integral_value()), (amount, words)
        assert "万万" not in words and "亿万" not in words, (amount, words)


def test_template_filter():
    out = Template("{% load kehu %}{{ a|money_zh_words }}|{{ b|money_zh_words }}|{{ c|money_zh_words }}").render(
        Context({"a": D("1004.07"), "b": None, "c": 0.5}))
    assert out == "壹仟零肆元零柒分||0.5"
