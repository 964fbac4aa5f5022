"""The knowledge base 知识库 (issue 12): a service agent searches in Chinese, opens an article and
votes it helpful; an editor edits it with the Markdown preview and compares the two versions. An
article full of XSS payloads opens without any of them running."""

from playwright.sync_api import expect

from kehu.core.testing.factories import PASSWORD
from kehu.knowledge.models import Article, ArticleVote
from kehu.knowledge.testing import make_article, make_article_category
from kehu.ui.testing import xss

HOOK = "window.__xss = function (n) { window.__xssReport(String(n)); };"


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("a[href='/kb/articles/']").first).to_be_attached()  # in the Service section


def logout(page, base):
    page.context.clear_cookies()


def make_kb(org):
    hardware = make_article_category("打印与外设")
    printers = make_article_category("打印机", parent=hardware)
    finance = make_article_category("订单与财务")
    make_article_category("网络与账号")
    jam = make_article(org.service, title="打印机卡纸怎么办", category=printers, tags=["打印机", "卡纸"],
                       audience="shareable",
                       body="激光打印机卡纸是最常见的报修原因。\n\n## 处理步骤\n\n1. 关闭电源，等待 **10 分钟**\n"
                            "2. 打开后盖，取出卡住的纸张\n3. 检查纸盒\n\n> 仍未解决时，在工单中附上照片。\n\n"
                            "| 型号 | 后盖位置 |\n|---|---|\n| M2000 | 背面 |\n| C450 | 右侧 |")
    make_article(org.service, title="更换硒鼓", category=printers, tags=["耗材"],
                 body="硒鼓用完时，打印机卡纸的情况也会增多。")
    make_article(org.service, title="增值税专用发票开错了怎么重开", category=finance, tags=["发票"],
                 body="作废原发票后重新开具。")
    make_article(org.service, title="VPN connection drops", tags=["network"], body="Allow UDP 4500.")
    return jam


def test_search_open_vote_edit_and_diff(page, live_server, browser_org, shot):
    base = live_server.url
    jam = make_kb(browser_org)

    # a service agent searches in Chinese and opens the best match
    login(page, base, "service")
    page.goto(f"{base}/kb/articles/")
    expect(page.locator("[data-testid=category-tree]")).to_contain_text("打印机")
    page.fill("[data-testid=list-search]", "打印机卡纸")
    page.keyboard.press("Enter")
    rows = page.locator("[data-testid=record-table] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("打印机卡纸怎么办")  # the title hit first, the body hit after
    expect(rows.nth(1)).to_contain_text("更换硒鼓")
    shot("kb-list")
    rows.first.locator("a").first.click()
    expect(page.locator("h2.page-title")).to_contain_text("打印机卡纸怎么办")
    body = page.locator("[data-testid=article-body]")
    expect(body.locator("h2")).to_have_text("处理步骤")
    expect(body.locator("table td").first).to_have_text("M2000")
    expect(page.locator("[data-testid=view-count]")).to_have_text("1")

    # helpful, through HTMX (the page stays), then changed and changed back: one vote
    page.click("[data-testid=vote-helpful]")
    expect(page.locator("[data-testid=vote-thanks]")).to_be_visible()
    expect(page.locator("[data-testid=helpful-count]")).to_have_text("1")
    page.click("[data-testid=vote-not-helpful]")
    expect(page.locator("[data-testid=not-helpful-count]")).to_have_text("1")
    expect(page.locator("[data-testid=helpful-count]")).to_have_text("0")
    page.click("[data-testid=vote-helpful]")
    expect(page.locator("[data-testid=helpful-count]")).to_have_text("1")
    assert ArticleVote.objects.filter(article=jam).count() == 1
    shot("kb-article")

    # an editor edits it: the preview follows the Markdown
    logout(page, base)
    login(page, base, "supervisor")
    page.goto(f"{base}/kb/articles/{jam.pk}/")
    page.click("[data-testid=edit-record]")
    expect(page.locator("[data-testid=markdown-preview] h2")).to_have_text("处理步骤")
    textarea = page.locator("[data-testid=markdown-body]")
    textarea.fill(textarea.input_value().replace("3. 检查纸盒", "3. 检查纸盒：纸张不超过最高线\n4. 使用 70g 以上复印纸")
                  + "\n\n**注意**：处理前先确认设备在保修期内。")
    expect(page.locator("[data-testid=markdown-preview]")).to_contain_text("使用 70g 以上复印纸")
    expect(page.locator("[data-testid=markdown-preview] strong").last).to_have_text("注意")
    shot("kb-edit")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=article-body]")).to_contain_text("处理前先确认设备在保修期内")

    # the versions and the diff between them
    page.click("[data-testid=tab-versions]")
    expect(page.locator("[data-testid=version-row]")).to_have_count(1)
    page.click("[data-testid=show-diff]")
    expect(page.locator("h2.page-title")).to_contain_text("Compare versions")
    changed = page.locator("[data-testid=diff-changed]")
    expect(changed.first).to_contain_text("3. 检查纸盒")
    expect(page.locator("[data-testid=diff-added]").last).to_contain_text("处理前先确认设备在保修期内")
    shot("kb-diff")
    assert Article.objects.get(pk=jam.pk).versions.get().body.count("检查纸盒") == 1


def test_an_article_full_of_payloads_runs_none(page, live_server, browser_org, shot):
    base = live_server.url
    from kehu.core.testing.markdown import MD_PAYLOADS

    body = "\n\n".join([*xss.PAYLOADS, *(p.replace("alert(1)", "__xss(900)") for p in MD_PAYLOADS)])
    article = make_article(browser_org.service, title="XSS 测试文章", body=body)
    executed: list[str] = []
    page.expose_function("__xssReport", lambda n: executed.append(n))
    page.add_init_script(HOOK + " window.alert = function (m) { window.__xssReport('alert ' + m); };")

    def on_dialog(dialog):
        executed.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, base, "supervisor")
    page.goto(f"{base}/kb/articles/{article.pk}/")
    expect(page.locator("[data-testid=article-body]")).to_contain_text("__xss(")  # shown as text
    page.locator("[data-testid=article-body] a").evaluate_all("els => els.forEach(e => e.dispatchEvent(new MouseEvent('mouseover')))")
    page.wait_for_timeout(300)
    page.goto(f"{base}/kb/articles/{article.pk}/edit/")  # the preview renders the same body
    expect(page.locator("[data-testid=markdown-preview]")).to_contain_text("__xss(")
    page.wait_for_timeout(300)
    assert executed == []
