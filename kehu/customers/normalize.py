"""Normalisation of what people type: e-mail, names, pinyin, search words (phone numbers:
kehu/core/phones.py)."""

import functools
import re

from django.core.validators import validate_email
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS
from rapidfuzz import fuzz

from kehu.core.imports.cleaners import email_check

SPACES = re.compile(r"\s+")


def clean_name(value: str) -> str:
    return SPACES.sub(" ", (value or "").replace("\u3000", " ")).strip()


def normalize_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not _valid_email(value):  # validate_email's verdict without its layers; the validator itself on a no
        validate_email(value)  # (its error, or nothing where the test is stricter)
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


# True exactly when validate_email lets the value pass (its regexes read directly, the domain's verdict kept
# per domain: kehu/core/tests/test_import_fast_paths.py compares normalize_email with and without it)
_valid_email = email_check(validate_email)


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
    r"(股份有限公司|有限责任公司|有限公司|股份公司|集团公司|集团|公司|有限合伙|"
    r"co\.?,?\s*ltd\.?|ltd\.?|inc\.?|corp\.?|llc|gmbh|limited|company|co\.?)$",
    re.IGNORECASE,
)

# Provinces, the cities of prefecture level and the largest others: the place a Chinese company name
# starts with (北京华为技术有限公司) or holds in brackets (华为技术（北京）有限公司). A name's key
# (name_key) moves it to one position, so the two forms of a name meet.
PROVINCES = ("北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 "
             "海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门").split()
CITIES = (
    "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 "
    "临汾 吕梁 呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 沈阳 大连 鞍山 抚顺 本溪 丹东 "
    "锦州 营口 阜新 辽阳 盘锦 铁岭 葫芦岛 长春 四平 辽源 通化 白山 松原 白城 哈尔滨 齐齐哈尔 鸡西 "
    "鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 "
    "镇江 泰州 宿迁 昆山 江阴 张家港 常熟 义乌 杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 合肥 芜湖 蚌埠 "
    "淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城 福州 厦门 莆田 三明 泉州 漳州 南平 "
    "龙岩 宁德 晋江 南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶 济南 青岛 淄博 枣庄 东营 烟台 潍坊 "
    "济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 "
    "三门峡 南阳 商丘 信阳 周口 驻马店 武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 长沙 株洲 "
    "湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 "
    "肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮 南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 "
    "玉林 百色 贺州 河池 来宾 崇左 海口 三亚 儋州 成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 "
    "眉山 宜宾 广安 达州 雅安 巴中 资阳 贵阳 六盘水 遵义 安顺 毕节 铜仁 昆明 曲靖 玉溪 保山 昭通 丽江 普洱 "
    "临沧 大理 西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛 兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 "
    "酒泉 庆阳 定西 陇南 西宁 银川 石嘴山 吴忠 固原 中卫 乌鲁木齐 克拉玛依 吐鲁番 哈密 拉萨 日喀则 台北 高雄"
).split()
_PROVINCE_SET = frozenset(PROVINCES) - {"北京", "天津", "上海", "重庆", "香港", "澳门"}  # provinces that hold cities
_PLACE_SUFFIX = "(?:维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|省|市)?"
_PLACES = "|".join(sorted(set(PROVINCES + CITIES), key=len, reverse=True))
_LEADING_PLACE = re.compile(f"^({_PLACES}){_PLACE_SUFFIX}")
_BRACKETED = re.compile(r"[(（]([^()（）]*)[)）]")
_PLACE = re.compile(f"^({_PLACES}){_PLACE_SUFFIX}$")
_LEGAL_FORM = re.compile(r"^(集团|股份|控股|有限|有限公司|中国|group|holdings?)$", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) | (?=[\u3400-\u9fff])")


@functools.lru_cache(maxsize=1)
def _pinyin_places() -> dict[str, str]:
    """'shanghai' -> '上海': the places of English names (Huawei Technologies (Shanghai) Co., Ltd.)."""
    return {"".join(lazy_pinyin(p)): p for p in PROVINCES + CITIES} | {"hong kong": "香港", "macau": "澳门",
                                                                      "macao": "澳门", "taipei": "台北"}


def _place(text: str) -> str | None:
    """The place `text` names (上海, 上海市, Shanghai), else None."""
    m = _PLACE.match(text)
    if m:
        return m.group(1)
    return _pinyin_places().get(text.strip().lower().replace(" ", "")) or _pinyin_places().get(text.strip().lower())


def _strip_legal_form(core: str) -> str:
    for _i in range(2):
        core = COMPANY_SUFFIXES.sub("", core).strip(" ,.()（）&-")
    return core


def name_parts(name: str) -> tuple[str, str]:
    """(core, place) of a company name: the name lower-cased without its legal form (有限公司, Co.,
    Ltd.) and without the place it starts with or holds in brackets, and that place (上海 for
    上海宏达贸易有限公司 and 宏达贸易（上海）有限公司 alike; "" when it names none). A place is only
    taken off when something of at least two characters is left."""
    text = clean_name(name).lower()
    place = ""

    def bracket(m):
        nonlocal place
        inner = m.group(1).strip()
        found = _place(inner)
        if found and not place:
            place = found
            return " "
        if _LEGAL_FORM.match(inner):
            return " "
        return f" {inner} "

    core = _strip_legal_form(_BRACKETED.sub(bracket, text))
    for _i in range(0 if place else 2):  # 广东省深圳市…: the city, the more precise
        m = _LEADING_PLACE.match(core)
        if not m or len(core) - m.end() < 2 or (place and place not in _PROVINCE_SET):
            break  # after a city the next place-like word is the name's own (厦门金昌…: 金昌 is a brand)
        place, core = m.group(1), core[m.end():]
    if not place:
        first, _sep, rest = core.partition(" ")
        found = _place(first) if rest else None
        if found and len(rest) >= 2:
            place, core = found, rest
    core = _strip_legal_form(_NOT_WORD.sub(" ", core).strip())
    core = _CJK_SPACE.sub("", SPACES.sub(" ", core)).strip()
    if len(core) < 2 and place:  # 上海有限公司: the place is the name
        core, place = place + core, ""
    return core, place


def name_core(name: str) -> str:
    """The distinctive part of a company name, for duplicate detection: without legal form and place."""
    return name_parts(name)[0]


KEY_PLACE = "|"  # between the core and the place in a name key


def name_key(name: str) -> str:
    """What two names of one company share: the core, then the place it names wherever the name has it
    ("华为技术|北京" for 北京华为技术有限公司 and 华为技术(北京)有限公司). Stored per customer
    (Customer.name_key) and compared by the duplicate check and the data-quality scan: equal keys are
    the same name, keys with a fuzzy ratio of SIMILAR_NAME_SCORE or more similar names. Two places
    (上海 / 北京) keep two branches apart."""
    core, place = name_parts(name)
    return (f"{core}{KEY_PLACE}{place}" if place else core)[:200]


_DIGITS = re.compile(r"\d+")
WORD_SCORE = 80  # each word of a name of several words against its counterpart (a typo: Tradings)


def same_numbers(a: str, b: str) -> bool:
    """Whether two names (or keys) hold the same numbers: 华信1号仓储 and 华信2号仓储 score high as
    text but are two companies, so names with other numbers are never similar."""
    return _DIGITS.findall(a) == _DIGITS.findall(b)


def words_agree(a: str, b: str) -> bool:
    """Whether two cores of several words (Latin names) have as many words, each close to its
    counterpart: "evergreen bay manufacturing" and "evergreen light manufacturing" share most of their
    letters, not their name. A core of one word (Chinese names have no spaces) agrees."""
    wa, wb = a.split(" "), b.split(" ")
    if len(wa) == 1 and len(wb) == 1:
        return True
    return len(wa) == len(wb) and all(x == y or fuzz.ratio(x, y) >= WORD_SCORE for x, y in zip(wa, wb, strict=True))


def similarity(a: str, b: str) -> float:
    """How alike two name keys are (0-100): the ratio of their cores, 0 when they name different places
    (or only one names one: a branch is another customer), hold other numbers or other words."""
    core_a, _s, place_a = a.partition(KEY_PLACE)
    core_b, _s, place_b = b.partition(KEY_PLACE)
    if place_a != place_b or not same_numbers(core_a, core_b) or not words_agree(core_a, core_b):
        return 0.0
    return fuzz.ratio(core_a, core_b)


def key_label(key: str) -> str:
    """A name key as the page shows it: 华为技术（北京）."""
    core, _sep, place = key.partition(KEY_PLACE)
    return f"{core}（{place}）" if place else core


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
