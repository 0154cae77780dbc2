"""pytest configuration shared by the unit tests and nbval.

nbval compares every stored notebook output with a fresh execution (strict mode). Two kinds of output are not
compared: stderr (tqdm progress bars write there, with timings) and raster images (PNG/GIF bytes; their text repr
still is, sanitised by tests/nbval_sanitize.cfg).
"""
from __future__ import annotations


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "image/gif")
