"""The browser test's report: one row per page, written to book/_build/browser-report.json and printed as a table."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[2] / "book" / "_build" / "browser-report.json"
ROWS = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def site_report(request) -> list[dict]:
    """The rows of this run's report; each page test appends its own."""
    return request.config.stash.setdefault(ROWS, [])


def pytest_sessionfinish(session):
    rows = session.config.stash.get(ROWS, [])
    if rows:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(sorted(rows, key=lambda row: row["page"]), indent=1) + "\n")


def pytest_terminal_summary(terminalreporter, config):
    rows = sorted(config.stash.get(ROWS, []), key=lambda row: row["page"])
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("course website in Chromium")
    write(f"{'page':<40} {'load ms':>7} {'ready ms':>8} {'requests':>8} {'all local':>9} {'images':>7} "
          f"{'axe serious':>11} {'axe critical':>12}")
    for row in rows:
        write(f"{row['page']:<40} {row['load_ms']:>7} {row['ready_ms']:>8} {row['requests']:>8} "
              f"{'yes' if row['all_local'] else 'NO':>9} {row['images_loaded']:>3}/{row['images']:<3} "
              f"{row['axe_serious']:>11} {row['axe_critical']:>12}")
    write(f"load ms: the load event; ready ms: MathJax done and fonts loaded. Report: {REPORT}; "
          f"screenshots: {REPORT.parent / 'screenshots'}/")
