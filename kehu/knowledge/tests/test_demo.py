from django.core.management import call_command

from kehu.accounts.models import User
from kehu.knowledge import services
from kehu.knowledge.models import Article, ArticleCategory, ArticleVersion


def test_the_demo_has_a_knowledge_base_loaded_once(db):
    call_command("demo", customers=5)
    call_command("demo", customers=5)  # idempotent
    assert Article.objects.count() == 24 and Article.objects.published().count() == 24
    assert ArticleCategory.objects.filter(parent=None).count() == 4
    assert sum(a.title.isascii() for a in Article.objects.all()) == 3  # and 21 in Chinese
    assert ArticleVersion.objects.exists() and Article.objects.filter(helpful_count__gt=0).exists()
    service = User.objects.get(username="service")
    assert services.suggest_articles("客户说打印机卡纸了", service)[0].title == "打印机卡纸怎么办"
    assert services.suggest_articles("发票抬头写错了，需要重开", service)[0].title in (
        "客户要求修改发票抬头", "增值税专用发票开错了怎么重开")
