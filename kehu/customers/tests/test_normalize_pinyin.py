"""`normalize.pinyin_forms` reads each run of Chinese characters alone and keeps its reading
(issue 15: the import's pinyin per name); it must give exactly what lazy_pinyin of the whole text
gives, on names mixing Chinese runs, polyphones, digits, Latin text, spaces, full-width forms and
characters outside the basic block."""

import random

from pypinyin import Style, lazy_pinyin

from kehu.customers import normalize

PIECES = ["北京", "重庆", "长沙", "银行", "行长", "有限公司", "科技", "贸易", "单于", "曾", "乐", "觉得", "都", "〇",
          "基准测试", "0000123", "abc", " ", "Co., Ltd.", "ｆｕｌｌ", "（", "）", "-", "Σ", "ΟΣ", "ǹg", "😀",
          "\U00020000", "\u3400", "王", "李娜", "欧阳", "Mary Turner", "1号", "第2车间"]


def reference(text):
    if not text:
        return "", ""
    full = "".join(lazy_pinyin(text, errors="default")).replace(" ", "").lower()
    short = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).replace(" ", "").lower()
    return full, short


def test_pinyin_forms_equal_lazy_pinyin_of_the_whole_text():
    rng = random.Random(15)
    texts = ["", "北京科技有限公司", "重庆银行长沙分行行长", "ΟΣ北京Σ"] + [
        "".join(rng.choice(PIECES) for _i in range(rng.randrange(1, 7))) for _n in range(3000)]
    for text in texts:
        assert normalize.pinyin_forms(text) == reference(text), text
