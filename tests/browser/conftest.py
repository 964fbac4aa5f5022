"""Browser tests: Playwright drives Debian's chromium against a live Kehu server."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("KEHU_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("KEHU_SCREENSHOTS")  # a folder: save screenshots of each screen visited


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # a live server needs committed data; migrations seed roles and the dictionary,
            # which a flush would remove for the next test
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture
def shot(page):
    """shot("name") saves a desktop and a phone-width screenshot when KEHU_SCREENSHOTS is set."""

    def take(name):
        if not SHOTS:
            return
        os.makedirs(SHOTS, exist_ok=True)
        size = page.viewport_size
        page.screenshot(path=os.path.join(SHOTS, f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(SHOTS, f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(size)

    return take


@pytest.fixture
def browser_org(db):
    from kehu.core.testing.factories import make_org

    return make_org()
