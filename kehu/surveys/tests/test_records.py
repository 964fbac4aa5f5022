"""The generic tests of the survey record type (read-only: written by kehu/surveys/services.py):
list, detail, export, rights and scope (kehu/core/testing/records.py)."""

from kehu.core.testing.records import ReadOnlyRecordTests
from kehu.surveys.testing import make_survey


class TestSurvey(ReadOnlyRecordTests):
    key = "survey"

    def make(self, org, owner):
        return make_survey(owner)
