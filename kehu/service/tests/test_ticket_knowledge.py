"""The knowledge base beside a ticket (kehu/service/knowledge.py): suggested articles from the
ticket's text, linking one in a click, the article listing the tickets it solved."""

import pytest
from django.test import Client

from kehu.knowledge.links import ArticleLink
from kehu.knowledge.testing import make_article
from kehu.service.testing import make_ticket

pytestmark = pytest.mark.django_db


def ui(user):
    c = Client()
    c.force_login(user)
    return c


def test_suggested_link_and_solved(org):
    article = make_article(org.supervisor, "打印机无法连接网络的处理办法", body="检查打印机的网络设置，重启路由器。")
    other = make_article(org.supervisor, "发票开具流程", body="财务开票说明。")
    ticket = make_ticket(org.manager, summary="打印机无法连接", request="客户反映打印机无法连接网络",
                         status="assigned", handler=org.service)
    agent = ui(org.service)
    page = agent.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="kb-suggestions"' in page and article.title in page
    assert other.title not in page
    r = agent.post(f"/tickets/{ticket.pk}/articles/{article.pk}/link/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-testid="kb-linked-article"' in r.content.decode()
    assert ArticleLink.objects.filter(article=article, object_id=ticket.pk).count() == 1
    agent.post(f"/tickets/{ticket.pk}/articles/{article.pk}/link/")  # twice: one link
    assert ArticleLink.objects.filter(article=article, object_id=ticket.pk).count() == 1
    # the article lists the ticket it solved, linked to the ticket's page
    art = agent.get(f"/kb/articles/{article.pk}/").content.decode()
    assert f'href="/tickets/{ticket.pk}/"' in art and ticket.number in art
    # unlinking
    r = agent.post(f"/tickets/{ticket.pk}/articles/{article.pk}/unlink/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and not ArticleLink.objects.exists()


def test_only_those_who_work_on_an_open_ticket_link(org):
    article = make_article(org.supervisor, "网络故障排查")
    ticket = make_ticket(org.manager, status="assigned", handler=org.service)
    # the account manager who created it does not handle it
    assert ui(org.manager).post(f"/tickets/{ticket.pk}/articles/{article.pk}/link/").status_code == 403
    archived = make_ticket(org.manager, status="archived", handler=org.service)
    assert ui(org.service).post(f"/tickets/{archived.pk}/articles/{article.pk}/link/").status_code == 403
    draft = make_article(org.supervisor, "草稿", published=False)
    # an article the handler may not read is not found (a service agent may edit drafts: use a reader)
    assert ui(org.executive).post(f"/tickets/{ticket.pk}/articles/{draft.pk}/link/").status_code in (403, 404)
    assert not ArticleLink.objects.exists()
