"""pytest configuration shared by the unit tests, nbval and the website's browser test.

nbval compares every stored notebook output with a fresh execution (strict mode). Two kinds of output are not
compared: stderr (tqdm progress bars write there, with timings) and raster images (PNG/GIF bytes; their text repr
still is, sanitised by tests/nbval_sanitize.cfg).
"""
from __future__ import annotations

from pathlib import Path


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "image/gif")


SITE_TESTS = Path(__file__).resolve().parent / "tests" / "site"


def pytest_ignore_collect(collection_path, config):
    """Collect tests/site, the browser test of the built website, only when it is named (``make test-site``).

    ``make unit`` runs ``pytest tests`` twice, once per CPU path; the website does not depend on the CPU path and
    needs ``make site`` and a Chromium first, so it is its own step.
    """
    if Path(collection_path) != SITE_TESTS:
        return None
    named = any(Path(arg.split("::")[0]).resolve().is_relative_to(SITE_TESTS) for arg in config.args)
    return None if named else True
