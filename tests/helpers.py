"""Shared test utilities: where the seed's reference code lives."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = Path(os.environ.get("SEED_DIR", REPO.parent / "shared" / "seed"))


def import_seed_policy():
    """The seed's ``seed_policy`` module, or skip the test with the reason."""
    if not (SEED_DIR / "seed_policy.py").exists():
        pytest.skip(f"the seed's reference code is not at {SEED_DIR} (set SEED_DIR to compare against it)")
    if str(SEED_DIR) not in sys.path:
        sys.path.insert(0, str(SEED_DIR))
    import seed_policy

    return seed_policy
