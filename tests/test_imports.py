"""Importing the package stays cheap: the heavy optional libraries load when first used, not at import."""
import json
import subprocess
import sys


def test_import_does_not_load_scipy_stats_or_pyplot():
    code = ("import json, sys, lecture_utils; "
            "print(json.dumps([m for m in ('scipy.stats', 'matplotlib.pyplot') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_has_no_side_effects_on_the_environment():
    # The libraries it builds on come first (Gymnasium sets PYGAME_HIDE_SUPPORT_PROMPT itself when imported).
    code = ("import json, os, gymnasium, numpy, pandas, torch, tqdm; before = dict(os.environ); import lecture_utils; "
            "print(json.dumps(dict(os.environ) == before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         env={k: v for k, v in __import__("os").environ.items() if not k.startswith(("SDL_", "PYGAME"))})
    assert json.loads(out.stdout.strip().splitlines()[-1]) is True
