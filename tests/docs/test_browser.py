"""Every built page in a real headless Chromium, served from a local HTTP server.

Each page is loaded and screenshotted (into ``docs-screenshots/``, git-ignored, or
``$SFBULK_DOCS_SCREENSHOTS``). The test fails on a raw Sphinx role in the rendered
text, a JavaScript error, an asset that fails or answers 4xx/5xx, or any request to
another host: the site must work with no network. The home page's example must be
visible, and the search (a local web worker) must find a class.

Chromium is Debian's ``chromium`` (``make test`` installs it when run as root); the
test skips, saying so, where it is not installed.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.docs.conftest import ROOT, BuiltSite

playwright_api = pytest.importorskip("playwright.sync_api")

RAW_ROLE_TEXT = re.compile(r":(?:py:)?(?:meth|class|func|attr|mod|exc|data|obj|const):\S")
SCREENSHOTS = Path(os.environ.get("SFBULK_DOCS_SCREENSHOTS", ROOT / "docs-screenshots"))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")


class _QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves a page's assets

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(built_site: BuiltSite) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_site.path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Watch:
    """What one page did in the browser: errors, failed assets, foreign requests."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self.requests = 0

    def attach(self, page: playwright_api.Page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"console error: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda response: (
                self.problems.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 400
                else None
            ),
        )

    def _failed(self, request: playwright_api.Request) -> None:
        # a request cut short because the test moved on to the next page is no fault
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def request(self, request: playwright_api.Request) -> None:
        url = request.url
        self.requests += 1
        if not (url.startswith(self.origin) or urlsplit(url).scheme in ("data", "blob")):
            self.problems.append(f"left the machine: {url}")


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    executable = _chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def _page_urls(built_site: BuiltSite) -> list[str]:
    urls = []
    for path in built_site.pages():
        relative = path.relative_to(built_site.path).as_posix()
        if relative == "404.html":
            continue
        urls.append("/" + relative.removesuffix("index.html"))
    return urls


@pytest.mark.slow
def test_every_page_renders_in_chromium_without_errors(
    built_site: BuiltSite, served_site: str, browser: playwright_api.Browser
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watch = _Watch(served_site)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.on("request", watch.request)
    page = context.new_page()
    watch.attach(page)
    failures: dict[str, list[str]] = {}
    urls = _page_urls(built_site)
    assert len(urls) > 60  # the guides and one reference page per public module
    started = time.perf_counter()
    for url in urls:
        watch.problems = []
        page.goto(served_site + url, wait_until="load")
        text = page.inner_text("article")
        raw = RAW_ROLE_TEXT.findall(text)
        if raw:
            watch.problems.append(f"raw Sphinx roles: {raw[:3]}")
        name = url.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=url == "/")
        if watch.problems:
            failures[url] = watch.problems
    context.close()
    print(f"{len(urls)} pages in {time.perf_counter() - started:.1f} s")
    assert failures == {}
    assert watch.requests >= len(urls)  # every request was seen


def test_the_home_example_is_visible_and_search_works_offline(
    served_site: str, browser: playwright_api.Browser
) -> None:
    watch = _Watch(served_site)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.on("request", watch.request)
    page = context.new_page()
    watch.attach(page)
    page.goto(served_site + "/", wait_until="load")
    example = page.locator("article pre").first
    assert example.is_visible()
    assert "FakeOrg()" in example.inner_text()
    assert "bulk.insert(" in example.inner_text()
    # the search runs in a local web worker: no request leaves the machine
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").fill("FakeOrgTransport")
    first_hit = page.locator(".md-search-result__item").first
    first_hit.wait_for(state="visible", timeout=90_000)  # the index builds in a worker
    assert "FakeOrgTransport" in page.inner_text(".md-search-result")
    page.screenshot(path=str(SCREENSHOTS / "search.png"))
    # an API reference page shows typed signatures as code, not raw roles
    page.goto(served_site + "/reference/sfbulk_sdk.client/", wait_until="load")
    assert page.locator(".doc-signature").first.is_visible()
    signatures = page.locator(".doc-signature").all_inner_texts()
    create_job = [text for text in signatures if text.startswith("create_job(")]
    assert create_job and "operation:" in create_job[0] and "-> JobInfo" in create_job[0]
    page.screenshot(path=str(SCREENSHOTS / "reference_client_full.png"), full_page=True)
    assert watch.problems == []
    # the watch does see a request leaving the machine (the check above can fail)
    page.set_content('<img src="http://assets.invalid/logo.png">')
    context.close()
    assert any("left the machine: http://assets.invalid/" in p for p in watch.problems)
