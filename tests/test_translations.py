"""zh-Hans ships complete: every translatable string of the code and templates has a Chinese
translation, none of them a guess (`fuzzy`). The catalogue is extracted afresh from a copy of the
source with Django's makemessages (GNU gettext), exactly as `make messages` does, and compared."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def untranslated(po_text: str) -> list[str]:
    out = []
    for entry in po_text.split("\n\n")[1:]:  # the first entry is the header
        lines = entry.strip().splitlines()
        if not any(line.startswith("msgid") for line in lines) or all(line.startswith("#~") for line in lines):
            continue
        msgid = next(line for line in lines if line.startswith("msgid "))
        if "#, fuzzy" in entry or "fuzzy" in next((line for line in lines if line.startswith("#,")), ""):
            out.append(f"fuzzy: {msgid}")
            continue
        # msgstr "" (or msgstr[0] "") with no continuation line is empty
        for i, line in enumerate(lines):
            if re.match(r'msgstr(\[\d+\])? ""$', line) and (i + 1 == len(lines) or not lines[i + 1].startswith('"')):
                out.append(f"empty: {msgid}")
                break
    return out


def test_untranslated_detector_finds_empty_and_fuzzy_entries():
    po = 'msgid ""\nmsgstr ""\n"Language: zh\\n"\n\nmsgid "Done"\nmsgstr ""\n\n#, fuzzy\nmsgid "Run"\nmsgstr "跑"\n\n' \
         'msgid "Ok"\nmsgstr "好"\n'
    assert untranslated(po) == ['empty: msgid "Done"', 'fuzzy: msgid "Run"']


def test_every_string_has_a_chinese_translation(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed: apt-get install gettext")
    copy = tmp_path / "kehu"
    shutil.copytree(ROOT / "kehu", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    admin = Path(sys.executable).with_name("django-admin")
    subprocess.run([str(admin), "makemessages", "-l", "zh_Hans", "--no-obsolete", "-i", "tests/*", "-i", "bench/*",
                    "-i", "testing/*"], cwd=copy, check=True, capture_output=True,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "kehu.settings"})  # the product's strings only
    missing = untranslated((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text())
    assert not missing, "add zh-Hans translations to kehu/locale/zh_Hans/LC_MESSAGES/django.po:\n" + "\n".join(missing)


# The same English word in two meanings: each in its own context, each with its own Chinese word.
# (A shared msgid showed the dictionary's 字典类型 for the opportunity list view and 时间起/时间止, the
# date filter's "From"/"To", over an e-mail's sender and an article's compared versions.)
SAME_WORD = [
    (None, "List", "字典类型"), ("view", "List", "列表"),
    (None, "From", "时间起"), ("version", "From", "旧版本"), ("e-mail", "From", "发件人"),
    (None, "To", "时间止"), ("version", "To", "新版本"), ("target state", "To", "目标状态"),
    ("address", "E-mail", "邮箱"), (None, "E-mail", "邮件"),
    ("after-sales", "Return", "退货"), (None, "Return", "退货入库"),
    ("opportunity", "Open", "进行中"), ("product", "Active", "启用"), ("link", "Details", "详情"),
    ("sales order", "order", "订单"), (None, "order", "排序"),
]


@pytest.mark.parametrize("context,msgid,chinese", SAME_WORD)
def test_a_word_of_two_meanings_is_translated_in_its_context(context, msgid, chinese):
    from django.utils import translation

    with translation.override("zh-hans"):
        said = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    assert said == chinese
