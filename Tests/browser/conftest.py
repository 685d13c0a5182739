"""Fixtures of the browser tests (the harness is harness.py): browsers that are always quit, with
what a failed test leaves behind; the REST API; the budgets printed in the run's summary.

  BROWSER_ARTIFACT_DIR   where a failed test leaves each browser's screenshot, page, console log and socket events
                         (a new temporary directory)
"""
import json
import os
import tempfile

import pytest

from harness import Api, new_page


@pytest.fixture
def api():
    return Api()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_failed] = report.failed
    return report


_failed = pytest.StashKey[bool]()
_artifact_dir = os.environ.get("BROWSER_ARTIFACT_DIR")


def artifact_dir():
    global _artifact_dir
    if not _artifact_dir:
        _artifact_dir = tempfile.mkdtemp(prefix="voiceflow-browser-")
    os.makedirs(_artifact_dir, exist_ok=True)
    return _artifact_dir


@pytest.fixture
def browsers(request):
    """Opens browsers for one test (`browsers("alice", gateway=1)`) and always quits them; a failed
    test leaves each one's screenshot, page, console log and socket events in BROWSER_ARTIFACT_DIR."""
    pages = []

    def open_page(label, **options):
        page = new_page(label, **options)
        pages.append(page)
        return page

    yield open_page
    try:
        # Every browser's state as the test left it, before any quits (the others would see it go).
        if request.node.stash.get(_failed, True):
            for page in pages:
                _keep_artifacts(request.node.name, page)
    finally:
        for page in pages:
            page.quit()


def _keep_artifacts(test, page):
    base = os.path.join(artifact_dir(), f"{test}-{page.label}")
    try:
        page.driver.save_screenshot(base + ".png")
        with open(base + ".html", "w") as html:
            html.write(page.driver.page_source)
        with open(base + ".console.json", "w") as console:
            json.dump(page.driver.get_log("browser"), console, indent=1)
        with open(base + ".socket.json", "w") as socket_log:
            json.dump(page.js("return window.__socketLog || []"), socket_log, indent=1)
        print(f"{page.label}: screenshot, page and console in {base}.*")
    except Exception as error:  # a browser that crashed leaves nothing to keep
        print(f"{page.label}: nothing kept ({error})")


# ---------------------------------------------------------------- budgets, printed at the end

_budgets = []


@pytest.fixture
def budget():
    """Records a measured budget line; every line is printed in the run's summary."""
    return _budgets.append


def pytest_terminal_summary(terminalreporter):
    if _budgets:
        terminalreporter.section("browser budgets")
        for line in _budgets:
            terminalreporter.write_line(line)


