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
