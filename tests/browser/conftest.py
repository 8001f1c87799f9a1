"""Fixtures: a site checked in headless Chromium (Debian's chromium and chromedriver, started by the test itself): every page
reachable from the index loads without console errors, every image is present and decodes, every internal link
resolves to a file."""
from __future__ import annotations

import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1600")
"""Without the background-networking flags Chromium's own connections are refused by the machine's closed network."""


def available() -> str | None:
    """None when the browser can run here, else why not."""
    import importlib.util

    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is missing (apt-get install chromium chromium-driver; .ci/run installs them)"
    return None


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@dataclass
class Crawl:
    pages: list[Path] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    images: int = 0


IMAGES = "return Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])"
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
STYLESHEETS = "return Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => [l.href, !!l.sheet])"


def crawl(driver, index: Path, screenshots: dict[str, Path] | None = None, served: str | None = None) -> Crawl:
    """Visit every page reachable from `index` through internal links; `screenshots`: page name -> PNG path.
    `served`: the URL at which the folder of `index` is served over HTTP (a site whose scripts fetch files, which
    browsers refuse from the file system); without it pages open from the file system."""
    root = index.resolve().parent

    def url_of(page: Path) -> str:
        return served.rstrip("/") + "/" + page.relative_to(root).as_posix() if served else page.as_uri()

    def file_of(href: str) -> Path | None:
        url = urlparse(href)
        if served and href.startswith(served.rstrip("/") + "/"):
            target = root / unquote(url.path).lstrip("/")
        elif not served and url.scheme == "file":
            target = Path(unquote(url.path))
        else:
            return None  # external (arXiv, the theme's home): not fetched on a closed network
        return target / "index.html" if target.is_dir() else target

    out, seen, todo = Crawl(), {index.resolve()}, deque([index.resolve()])
    while todo:
        page = todo.popleft()
        out.pages.append(page)
        driver.get(url_of(page))
        out.console_errors += [f"{page.name}: {e['message']}" for e in driver.get_log("browser")
                               if e["level"] in ("SEVERE", "ERROR")]
        for src, ok in driver.execute_script(IMAGES):
            out.images += 1
            if not ok:
                out.broken_images.append(f"{page.name}: {src}")
        for href, ok in driver.execute_script(STYLESHEETS):
            if not ok:
                out.broken_links.append(f"{page.name}: stylesheet {href}")
        for href in driver.execute_script(LINKS):
            target = file_of(href)
            if target is None:
                continue
            if not target.is_file():
                out.broken_links.append(f"{page.name}: {href}")
            elif target.suffix == ".html" and target.resolve() not in seen:
                seen.add(target.resolve())
                todo.append(target.resolve())
        for name, path in (screenshots or {}).items():
            if page.name == name:
                driver.save_screenshot(str(path))
    return out


@pytest.fixture
def serve():
    """`serve(folder) -> URL`: the folder served over HTTP on localhost for the test, stopped after it."""
    import functools
    import http.server
    import threading

    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"
    yield start
    for server in servers:
        server.shutdown()


class _QuietHandler(__import__("http.server").server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def driver(tmp_path):
    """A headless Chromium, started for the test and quit after it; the test is skipped where none can run."""
    why_not = available()
    if why_not is not None:
        pytest.skip(why_not)
    d = browser(tmp_path / "chromium-profile")
    yield d
    d.quit()


@pytest.fixture(name="crawl")
def crawl_fixture():
    return crawl
