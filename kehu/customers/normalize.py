"""Normalisation of what people type: e-mail, names, pinyin, search words (phone numbers:
kehu/core/phones.py)."""

import functools
import re

from django.core.validators import validate_email
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS

SPACES = re.compile(r"\s+")


def clean_name(value: str) -> str:
    return SPACES.sub(" ", (value or "").replace("\u3000", " ")).strip()


def normalize_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    validate_email(value)
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def pinyin_forms(text: str) -> tuple[str, str]:
    """('beijingkejiyouxiangongsi', 'bjkjyxgs') for 北京科技有限公司; other text is kept, lower-cased.

    pypinyin first cuts a text into runs of Chinese characters and the rest, and reads each run
    alone; so does this, keeping each run's reading (a run recurs: 有限公司, 科技, a surname), which
    spares ~0.1 ms a name in an import (kehu/customers/tests/test_normalize_pinyin.py compares it
    with lazy_pinyin of the whole text)."""
    if not text:
        return "", ""
    full, short = [], []
    for i, part in enumerate(_HANS_SPLIT.split(text)):
        if i % 2:  # a run of characters pypinyin reads
            syllables, initials = _run_pinyin(part)
            full.append(syllables)
            short.append(initials)
        elif part:
            full.append(part)
            short.append(part)
    return "".join(full).replace(" ", "").lower(), "".join(short).replace(" ", "").lower()


# pypinyin's own class of characters with a reading (RE_HANS is `^(?:[...])+$`), to cut the runs
_HANS_SPLIT = re.compile("(" + RE_HANS.pattern[1:-1] + ")")


@functools.lru_cache(maxsize=50000)
def _run_pinyin(run: str) -> tuple[str, str]:
    return ("".join(lazy_pinyin(run, errors="default")),
            "".join(lazy_pinyin(run, style=Style.FIRST_LETTER, errors="default")))


COMPANY_SUFFIXES = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|公司|co\.?,?\s*ltd\.?|ltd\.?|inc\.?|corp\.?|llc|gmbh|limited)$",
    re.IGNORECASE,
)


def name_core(name: str) -> str:
    """The distinctive part of a company name, for duplicate detection."""
    core = clean_name(name).lower()
    for _i in range(2):
        core = COMPANY_SUFFIXES.sub("", core).strip(" ,.()（）")
    return core


CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def is_cjk(text: str) -> bool:
    return bool(text) and CJK_RUN.fullmatch(text) is not None


def cjk_bigrams(text: str) -> list[str]:
    """Every pair of adjacent Chinese characters: 北京科技 -> 北京 京科 科技. Stored as separate words,
    they let a two-character search use the trigram indexes (" 韩刚 " has trigrams; "韩刚" has none)."""
    seen: dict[str, None] = {}
    for run in CJK_RUN.findall(text or ""):
        for i in range(len(run) - 1):
            seen.setdefault(run[i:i + 2], None)
    return list(seen)


def cjk_unigrams(text: str) -> list[str]:
    """Every distinct Chinese character of `text`, in order: 北京北 -> 北 京."""
    seen: dict[str, None] = {}
    for run in CJK_RUN.findall(text or ""):
        for ch in run:
            seen.setdefault(ch, None)
    return list(seen)


def with_unigrams(text: str) -> str:
    """` base ` -> ` base 北 京 ... `: each Chinese character of the text also as a word of its own, so
    a one-character search (" 王 ") has a trigram the indexes serve (FTS5 trigram, pg_trgm)."""
    words = cjk_unigrams(text)
    return f"{text}{' '.join(words)} " if words else text


def search_text(number, name, phone, email, contacts, pinyin=pinyin_forms) -> str:
    """The one searchable column of a customer: number, name, pinyin (full and initials), Chinese
    bigrams, phone digits, e-mail, and the same of each contact (name, mobile, phone, email), then
    every Chinese character once as a word (`with_unigrams`).
    Wrapped in spaces so every word, first and last included, is bounded."""
    parts = [number, name, *pinyin(name), *cjk_bigrams(name), (phone or "").lstrip("+"), email]
    for c_name, c_mobile, c_phone, c_email in contacts:
        parts += [c_name, *pinyin(c_name), *cjk_bigrams(c_name), (c_mobile or "").lstrip("+"),
                  (c_phone or "").lstrip("+"), c_email]
    return with_unigrams(" " + " ".join(p for p in parts if p).lower()[:4000] + " ")


def contact_search_text(name, mobile, phone, email, wechat, pinyin=pinyin_forms) -> str:
    """A contact's own searchable column, built like the customer's: name, pinyin, Chinese bigrams
    and characters, phone digits, e-mail and WeChat id."""
    parts = [name, *pinyin(name), *cjk_bigrams(name), (mobile or "").lstrip("+"), (phone or "").lstrip("+"),
             email, wechat]
    return with_unigrams(" " + " ".join(p for p in parts if p).lower()[:2000] + " ")


NUMBER_PREFIX = re.compile(r"kh\d{4,18}")


def number_prefix(term: str) -> str | None:
    """'kh2024' -> 'KH2024': a term that is the start of a customer number (KH + date + sequence),
    searched through the number column instead of the text."""
    return term.upper() if NUMBER_PREFIX.fullmatch(term or "") else None


def search_terms(value: str) -> list[str]:
    """What a typed search looks for in `search_text` (any of the terms)."""
    value = clean_name(value).lower()
    if not value:
        return []
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits and len(digits) >= 5 and len(digits) >= len(value.replace(" ", "").replace("-", "")) - 1:
        return [digits]  # a phone number typed with spaces or dashes
    if len(value) <= 2 and is_cjk(value):
        # one or two Chinese characters have no trigram: match the stored word (bigram or character)
        return [f" {value} "]
    if len(value) == 2 and value.isascii() and value.isalnum():
        # two letters or digits have no trigram: find the words that start with them (pinyin
        # initials "bj", a name, an e-mail), which " bj" gives the indexes
        return [f" {value}"]
    compact = value.replace(" ", "")
    if compact == value:
        return [value]
    if value.isascii():
        # "bei jing" finds the pinyin "beijing"; every name is also stored without its spaces (its
        # pinyin form), so the compact term alone finds "mary turner" too, at half the cost
        return [compact]
    return [value, compact]
