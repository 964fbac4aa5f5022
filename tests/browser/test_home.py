"""My day in Chromium (issue 17): the page shows at once with a placeholder of fixed height per
panel, each panel replaces its placeholder when it arrives, and a panel that never answers leaves
the others working."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from kehu.activities.testing import make_task
from kehu.core.testing.factories import PASSWORD


def test_home_panels_load_after_the_page(page, live_server, browser_org, shot):
    base = live_server.url
    from kehu.activities.home import day_bounds

    # due later today in the user's zone (Asia/Shanghai): "now + 30 minutes" was tomorrow after
    # 23:30 there, and the panel of today's tasks was empty (a CI run at 23:47)
    due = min(timezone.now() + datetime.timedelta(minutes=30), day_bounds()[1] - datetime.timedelta(minutes=1))
    make_task(browser_org.manager, title="今天要打的电话", due_at=due)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", PASSWORD)

    # hold the panels back: the page is complete without them, showing placeholders
    held, state = [], {"hold": True}
    page.route("**/?panel=*", lambda route: held.append(route) if state["hold"] else route.continue_())
    page.click("[data-testid=login-submit]")
    placeholders = page.locator("[data-home-placeholder]")
    expect(placeholders.first).to_be_visible()
    assert placeholders.count() >= 5
    heights = [placeholders.nth(i).bounding_box()["height"] for i in range(placeholders.count())]
    assert all(h >= 120 for h in heights), heights  # a card with skeleton rows, not a collapsed line
    shot("home-loading")

    # release all but the pool panel: each panel fills its place, the stuck one does not block them
    state["hold"] = False
    for route in held:
        if "panel=pool" in route.request.url:
            route.abort()
        else:
            route.continue_()
    expect(page.locator("[data-testid=home-tasks]")).to_contain_text("今天要打的电话")
    expect(page.locator("[data-testid=home-next-actions]")).to_be_visible()
    expect(page.locator("[data-testid=home-notifications]")).to_be_visible()
    expect(page.locator("[data-testid=home-customers]")).to_be_visible()
    expect(page.locator(".home-panel-loading")).to_have_count(0)

    page.reload()
    expect(page.locator("[data-testid=home-tasks]")).to_contain_text("今天要打的电话")
    expect(page.locator("[data-home-placeholder]")).to_have_count(0)
    shot("home")
