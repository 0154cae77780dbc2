"""The course website in a real browser (``make test-site``; ``pytest tests`` leaves it out, see ../../conftest.py).

The built site (``make site``, book/_build/html) is served by Python's http.server on 127.0.0.1 and every page is
opened in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright). Each page must

- answer 200 and log no console error, no failed or 4xx/5xx request;
- load nothing from anywhere but this server: every request is recorded, and one to another host fails the test
  (and is aborted, so nothing leaves the machine even then);
- show its mathematics typeset: once MathJax is done, no visible text outside code holds TeX source (\\(, $$, \\frac,
  ...), no formula is a MathJax error, every math element was typeset; the solutions (<details>) are folded when
  the page opens, and are unfolded for this check and for the accessibility scan;
- have every <img> loaded (naturalWidth > 0) and described by alt text;
- pass axe-core (4.12.1, injected from the copy axe-playwright-python ships) with no serious or critical violation.

Lecture pages also link their own notebook file (which must be served, as a notebook) and the lectures before and
after them. A separate test crawls every page's links and anchors without the browser. Each page's full-page
screenshot goes to book/_build/screenshots/, and a per-page report to book/_build/browser-report.json; the table
is printed at the end of the run.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "book" / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root in a container, without a GPU and without any network: no sandbox, and none of Chromium's own background
# connections (update checks, sync, QUIC probes), which would otherwise count as requests leaving the machine.
# Playwright adds --headless itself.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Schemes that never reach a network.
INLINE_SCHEMES = {"data", "blob", "about"}
# TeX source that must not be visible once MathJax has typeset the page.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\begin\{|\$[^$\s][^$]*\$")
AXE_BLOCKING = ("serious", "critical")


def site_pages() -> list[str]:
    """Every HTML page of the built site, as paths relative to its root (theme templates in _static/ excluded)."""
    if not (HTML / "index.html").exists():
        return ["index.html"]  # the server fixture then fails with what to run
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if p.relative_to(HTML).parts[0] != "_static")


def lecture_pages() -> list[str]:
    return [page for page in site_pages() if page.startswith("lectures/")]


# ------------------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def site_url():
    """The built site served on 127.0.0.1 at a free port, from a thread; its base URL."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"the site is not built ({HTML.relative_to(REPO)}/index.html is missing): run `make site`")

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # one line per request would bury pytest's output
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium for the browser test: apt-get install chromium (or set CHROMIUM to its path)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="run `make test-site`, which installs "
                                                                       "requirements-site.txt")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in INLINE_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


class PageVisit:
    """One page opened in a fresh browser context, with every request, failure and console error recorded."""

    def __init__(self, browser, url: str):
        self.requests: list[str] = []
        self.external: list[str] = []
        self.failures: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failures.append(
            f"{request.url}: {request.failure}"))
        self.page.on("response", lambda response: response.status >= 400 and self.failures.append(
            f"{response.url}: HTTP {response.status}"))
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(
            f"{message.text} ({message.location.get('url', '')})"))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.url = url

    def _route(self, route):
        """Let requests to this server through; record and abort every other one, so nothing leaves."""
        if is_local(route.request.url):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


# ---------------------------------------------------------------------------------------------- in-page scripts

WAIT_FOR_MATHJAX = """async () => {
    // MathJax loads deferred; its startup promise resolves once the first typeset is done.
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    await document.fonts.ready;
    return performance.now();
}"""

DETAILS_STATE = """() => [...document.querySelectorAll('details')].map(d => ({
    open: d.open,
    summary: (d.querySelector('summary') || {}).textContent || '',
    // Inside a folded <details> nothing but the summary is rendered.
    contentVisible: [...d.children].some(c => c.tagName !== 'SUMMARY' && c.checkVisibility()),
}))"""

OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"
#: The theme fades unfolded content in; axe measuring colour contrast halfway through a fade sees the text's colour
#: blended towards the background and reports a violation that no reader sees. Unfold without motion.
NO_MOTION = "*, *::before, *::after { animation: none !important; transition: none !important; }"

VISIBLE_PROSE = """() => {
    // The visible text of the article outside code blocks, inline code and typeset formulas: what innerText shows
    // a reader, less the places where TeX-like text is legitimate.
    const root = document.querySelector('main') || document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) {
        const element = walker.currentNode.parentElement;
        if (!element || element.closest('pre, code, script, style, mjx-container, .highlight')) continue;
        if (!element.checkVisibility()) continue;
        texts.push(walker.currentNode.data);
    }
    return texts.join('');
}"""

MATH_STATE = """() => ({
    math: document.querySelectorAll('.math').length,
    untypeset: [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'))
        .map(m => m.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
})"""

IMAGES = """() => [...document.images].map(img => ({
    src: img.getAttribute('src'), alt: (img.getAttribute('alt') || '').trim(),
    loaded: img.complete && img.naturalWidth > 0,
}))"""

# axe's default preload also re-fetches every stylesheet and resolves its @import against the page instead of the
# stylesheet (the theme's `@import "../basic.css"` then 404s). No rule axe runs by default reads those (only the
# experimental css-orientation-lock does), so only media is preloaded, for no-autoplay-audio.
RUN_AXE = """async () => {
    const results = await axe.run(document, {resultTypes: ['violations'], preload: {assets: ['media']}});
    return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')), count: v.nodes.length}));
}"""


def axe_script() -> Path:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


# ---------------------------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize("page_name", site_pages())
def test_page_in_browser(page_name, site_url, browser, site_report):
    problems: list[str] = []
    visit = PageVisit(browser, urljoin(site_url, page_name))
    page = visit.page
    try:
        start = time.perf_counter()
        response = page.goto(visit.url, wait_until="load")
        ready_ms = page.evaluate(WAIT_FOR_MATHJAX)
        # MathJax fetches its fonts and extensions after the typeset: wait until the network is quiet.
        page.wait_for_load_state("networkidle")
        wall_ms = (time.perf_counter() - start) * 1000
        load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")

        if response is None or response.status != 200:
            problems.append(f"HTTP {response.status if response else 'no response'}")

        details = page.evaluate(DETAILS_STATE)
        for d in details:
            if d["open"] or d["contentVisible"]:
                problems.append(f"solution not folded when the page opens: <details> '{d['summary']}'")

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screenshot = SCREENSHOTS / (page_name.replace("/", "__").removesuffix(".html") + ".png")
        shot_start = time.perf_counter()
        page.screenshot(path=str(screenshot), full_page=True)
        screenshot_ms = (time.perf_counter() - shot_start) * 1000

        # Unfold the solutions: their mathematics must be typeset too, and axe should see them.
        page.add_style_tag(content=NO_MOTION)
        page.evaluate(OPEN_DETAILS)
        math = page.evaluate(MATH_STATE)
        problems += [f"formula not typeset: {text!r}" for text in math["untypeset"]]
        problems += [f"MathJax error: {text!r}" for text in math["errors"]]
        raw = sorted({m.group(0) for m in RAW_TEX.finditer(page.evaluate(VISIBLE_PROSE))})
        if raw:
            problems.append(f"TeX source visible as text: {raw[:5]}")

        images = page.evaluate(IMAGES)
        problems += [f"image not loaded: {img['src']}" for img in images if not img["loaded"]]
        problems += [f"image without alt text: {img['src']}" for img in images if not img["alt"]]

        if page_name.startswith("lectures/"):
            problems += lecture_navigation_problems(page, page_name)

        axe_start = time.perf_counter()
        page.add_script_tag(path=str(axe_script()))  # inlined from the local file: no request
        violations = page.evaluate(RUN_AXE)
        axe_ms = (time.perf_counter() - axe_start) * 1000
        blocking = [v for v in violations if v["impact"] in AXE_BLOCKING]
        problems += [f"axe {v['impact']} {v['id']} ({v['help']}) x{v['count']}: {v['targets']}" for v in blocking]

        problems += [f"request to another host: {url}" for url in visit.external]
        problems += [f"failed request: {failure}" for failure in visit.failures]
        problems += [f"console error: {error}" for error in visit.console_errors]

        site_report.append({
            "page": page_name,
            "status": response.status if response else None,
            "load_ms": round(load_ms),
            "ready_ms": round(ready_ms),
            "wall_ms": round(wall_ms),
            "screenshot_ms": round(screenshot_ms),
            "axe_ms": round(axe_ms),
            "requests": len(visit.requests),
            "all_local": not visit.external,
            "images": len(images),
            "images_loaded": sum(img["loaded"] for img in images),
            "solutions_folded": sum(not d["open"] for d in details),
            "formulas": math["math"],
            "axe_serious": sum(v["impact"] == "serious" for v in violations),
            "axe_critical": sum(v["impact"] == "critical" for v in violations),
            "axe_other": sorted(f"{v['impact']}:{v['id']}" for v in violations if v["impact"] not in AXE_BLOCKING),
            "console_errors": len(visit.console_errors),
            "screenshot": screenshot.relative_to(REPO).as_posix(),
            "problems": problems,
        })
    finally:
        visit.close()
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)


def lecture_navigation_problems(page, page_name: str) -> list[str]:
    """The lecture's notebook link must serve that notebook; previous/next must lead to the neighbouring pages."""
    problems = []
    notebook = Path(page_name).stem + ".ipynb"
    links = page.eval_on_selector_all("main a[href$='.ipynb']", "links => links.map(a => a.href)")
    own = [href for href in links if href.endswith("/notebooks/" + notebook)]
    if not own:
        problems.append(f"no link to its notebook file {notebook}")
    else:
        reply = page.request.get(own[0])
        try:
            ok = reply.status == 200 and json.loads(reply.body()).get("nbformat") == 4
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"notebook link {own[0]} does not serve the notebook (HTTP {reply.status})")

    lectures = lecture_pages()
    index = lectures.index(page_name)
    expected = {"prev": "index.html" if index == 0 else lectures[index - 1],
                "next": lectures[index + 1] if index + 1 < len(lectures) else None}
    for rel, selector in (("prev", "a.left-prev"), ("next", "a.right-next")):
        hrefs = page.eval_on_selector_all(selector, "links => links.map(a => a.href)")
        if expected[rel] is None:
            continue
        if not any(urlsplit(href).path.endswith("/" + expected[rel]) for href in hrefs):
            problems.append(f"no visible '{rel}' link to {expected[rel]} (found {hrefs})")
    return problems


class LinkCollector(HTMLParser):
    """The ids a page defines and the URLs it refers to (links, scripts, styles, images, media)."""

    RESOURCE_ATTRS = {("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"), ("source", "src"),
                      ("iframe", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if (tag, name) in self.RESOURCE_ATTRS and value:
                self.refs.append((tag, value))


@functools.lru_cache(maxsize=None)
def parse_page(path: Path) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_internal_links_and_resources():
    """Every internal link and resource resolves to a file of the site, every #anchor exists in its page, and no
    script, style, font, image or frame comes from another host (hyperlinks to other sites are fine)."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"the site is not built ({HTML.relative_to(REPO)}/index.html is missing): run `make site`")
    problems = []
    for page_name in site_pages():
        page_path = HTML / page_name
        for tag, ref in parse_page(page_path).refs:
            parts = urlsplit(ref)
            if parts.scheme in ("mailto", "javascript") or parts.scheme in INLINE_SCHEMES:
                continue
            if parts.scheme or parts.netloc:
                if tag != "a":
                    problems.append(f"{page_name}: <{tag}> loads {ref} from another host")
                continue
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or not target.is_relative_to(HTML.resolve()):
                problems.append(f"{page_name}: <{tag}> {ref} -> no such file in the site")
                continue
            if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse_page(target).ids:
                problems.append(f"{page_name}: {ref} -> no element with id '{parts.fragment}'")
    # A stylesheet could still pull a font or another stylesheet from elsewhere.
    for css in HTML.rglob("*.css"):
        for match in re.finditer(r"(?:url\(\s*['\"]?|@import\s+['\"])(https?:)?//[^)'\"\s]+", css.read_text("utf-8")):
            problems.append(f"{css.relative_to(HTML)}: {match.group(0)}")
    assert not problems, "\n".join(problems)
