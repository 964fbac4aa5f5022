"""The generic tests of the knowledge base's record types (kehu/core/testing/records.py)."""

import itertools

from kehu.core.testing.records import BusinessRecordTests, RecordTypeTests
from kehu.knowledge.testing import make_article, make_article_category

_seq = itertools.count(1)


class TestArticle(BusinessRecordTests):
    key = "article"
    update = {"title": "打印机卡纸的处理办法（修订）"}
    invalid = {"audience": "everyone"}

    def make(self, org, owner):
        return make_article(owner, title=f"打印机卡纸怎么办 {next(_seq)}", body="1. 关机\n2. 打开后盖")

    def form_data(self, org):
        return {"title": "发票重开流程", "audience": "internal", "body": "## 步骤\n\n- 作废原发票\n- 重新开具"}


class TestArticleCategory(RecordTypeTests):
    key = "articlecategory"
    update = {"name": "常见问题"}
    invalid = {"name": ""}

    def make(self, org, owner):
        return make_article_category(f"分类{next(_seq)}")

    def form_data(self, org):
        return {"name": "售后", "order": 2}
