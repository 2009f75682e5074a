"""The built website in a real browser: headless Chromium opens pages from a local server and checks them.

Build the site first with the README's docs command (``docs/_build/html``; ``RNNSCRATCH_DOCS_SITE`` points
elsewhere). Three pages are opened: the home page, the first page of the course and the API page of
``rnnscratch.functional``. On each: math is typeset (no raw TeX left in the text outside code, MathJax's
output present where the page has math, no TeX error), every image loads, the console has no error, and
every same-site link answers HTTP 200 and reaches its #anchor. Screenshots are saved to
``docs/_build/screenshots`` (``RNNSCRATCH_SCREENSHOTS`` points elsewhere).

Skipped when the site, Chromium, chromedriver or selenium is missing, unless ``RNNSCRATCH_REQUIRE_BROWSER=1``
(CI sets it), which turns each skip into a failure. Debian: ``apt-get install chromium chromium-driver``;
selenium comes with the ``docs`` extra and is given the driver's path, so it never downloads a browser.
"""
import functools
import html.parser
import http.server
import os
import pathlib
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = pathlib.Path(os.environ.get("RNNSCRATCH_DOCS_SITE", ROOT / "docs" / "_build" / "html"))
SCREENSHOTS = pathlib.Path(os.environ.get("RNNSCRATCH_SCREENSHOTS", ROOT / "docs" / "_build" / "screenshots"))
REQUIRED = os.environ.get("RNNSCRATCH_REQUIRE_BROWSER") == "1"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900"]
# TeX that MathJax should have replaced: display and inline delimiters, environments, and $...$ holding TeX
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")


def first_course_page():
    pages = sorted((SITE / "course").glob("*.html"))
    return pages[0].relative_to(SITE).as_posix() if pages else "course/01_vanilla_rnn.html"


PAGES = {"home": "index.html", "course": first_course_page(), "api": "api/functional.html"}


def unavailable():
    """Why the check cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[docs]')"
    for program in ("chromium", "chromedriver"):
        if not shutil.which(program):
            return f"{program} is not installed (Debian: apt-get install chromium chromium-driver)"
    if not (SITE / "index.html").is_file():
        return f"no built site at {SITE} (build it with the README's docs command)"
    return None


@pytest.fixture(scope="module")
def server():
    reason = unavailable()
    if reason:
        (pytest.fail if REQUIRED else pytest.skip)(reason)

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


# What a page holds once MathJax (if the page loads it) has typeset it, read in the browser.
READ_PAGE = """
const done = arguments[arguments.length - 1];
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = Array.from(document.images);
  for (const img of images) { img.loading = "eager"; }
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const text = document.body.cloneNode(true);
  text.querySelectorAll("pre, code, script, style, mjx-container, mjx-assistive-mml").forEach(n => n.remove());
  return {
    text: text.textContent,
    mathjax: !!document.querySelector("script[src*='mathjax']"),
    typeset: document.querySelectorAll("mjx-container").length,
    tex_errors: Array.from(document.querySelectorAll("mjx-merror"))
                     .map(n => n.getAttribute("data-mjx-error") || n.textContent),
    images: images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth})),
    links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
    resources: Array.from(document.querySelectorAll("link[href], script[src]")).map(n => n.href || n.src),
    height: document.documentElement.scrollHeight,
  };
})().then(done, error => done({error: String(error)}));
"""


def screenshot(driver, name, element=None):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # behavior 'instant': the theme scrolls smoothly, and a screenshot taken mid-scroll shows the wrong place
    driver.execute_script("""
        const element = arguments[0];
        const top = element ? element.getBoundingClientRect().top + window.scrollY - window.innerHeight / 3 : 0;
        window.scrollTo({top: Math.max(0, top), behavior: 'instant'});""", element)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def opened(server, browser):
    """Open each page once: ``{page: (url, what READ_PAGE found, SEVERE console entries)}``; saves screenshots."""
    from selenium.webdriver.common.by import By

    found = {}
    for name, path in PAGES.items():
        url = server + path
        browser.get_log("browser")                              # drop what an earlier page logged
        browser.get(url)
        state = browser.execute_async_script(READ_PAGE)
        assert "error" not in state, f"{path}: {state.get('error')}"
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        screenshot(browser, name)
        for label, selector in (("math", "mjx-container[display='true']"), ("figure", ".cell_output img")):
            elements = [e for e in browser.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]
            if elements:
                screenshot(browser, f"{name}-{label}", elements[0])
        found[name] = (url, state, errors)
    return found


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(opened, page):
    url, state, _ = opened[page]
    raw = sorted(set(m.group(0)[:40] for m in RAW_TEX.finditer(state["text"])))
    assert not raw, f"{url}: raw TeX left in the text: {raw}"
    assert not state["tex_errors"], f"{url}: MathJax could not typeset: {state['tex_errors']}"
    if state["mathjax"]:
        assert state["typeset"] > 0, f"{url}: MathJax is loaded but typeset nothing"


def test_the_course_page_has_math_and_figures(opened):
    url, state, _ = opened["course"]
    assert state["typeset"] > 0, f"{url}: no typeset math"
    assert state["images"], f"{url}: no figure"


def test_every_course_page_typesets_its_math_and_shows_its_figures(server, browser):
    """The other notebooks, more briefly: a TeX typo in any of them shows as raw TeX or a MathJax error."""
    problems = []
    for page in sorted((SITE / "course").glob("*.html")):
        url = server + page.relative_to(SITE).as_posix()
        browser.get(url)
        state = browser.execute_async_script(READ_PAGE)
        raw = sorted(set(m.group(0)[:40] for m in RAW_TEX.finditer(state.get("text", ""))))
        broken = [image["src"] for image in state.get("images", []) if image["width"] <= 0]
        if "error" in state or raw or state["tex_errors"] or broken:
            problems.append(f"{url}: {state.get('error') or ''} raw TeX {raw}, TeX errors {state.get('tex_errors')}, "
                            f"images not loaded {broken}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads(opened, page):
    url, state, _ = opened[page]
    broken = [image["src"] for image in state["images"] if image["width"] <= 0]
    assert not broken, f"{url}: images that did not load: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_console_has_no_errors(opened, page):
    url, _, errors = opened[page]
    assert not errors, f"{url}: console errors: {[entry['message'] for entry in errors]}"


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for key, value in attrs if key in ("id", "name") and value)


@functools.lru_cache(maxsize=None)
def fetch(url):
    """``(HTTP status, ids in the page)`` of a same-site URL."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        return error.code, frozenset()
    parser = _Ids()
    if url.endswith((".html", "/")):
        parser.feed(body.decode("utf-8", "replace"))
    return status, frozenset(parser.ids)


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(opened, server, page):
    url, state, _ = opened[page]
    links = {link for link in state["links"] + state["resources"] if link.startswith(server)}
    assert links, f"{url}: no same-site link found"
    broken = []
    for link in sorted(links):
        target, _, anchor = link.partition("#")
        status, ids = fetch(target.split("?")[0])
        if status != 200:
            broken.append(f"{link}: HTTP {status}")
        elif anchor and urllib.parse.unquote(anchor) not in ids:
            broken.append(f"{link}: no #{anchor} on that page")
    assert not broken, f"{url}: broken links:\n" + "\n".join(broken)
