"""``setup(seed)``: the one call that opens every notebook and script."""
from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["setup"]


def setup(seed: int = 0, threads: int = 1, figures: bool = True) -> None:
    """Fix every source of randomness and the thread count; set the figure defaults.

    Seeds Python's ``random``, NumPy's global generator and PyTorch (string hashing is fixed only when a process
    starts, by the ``PYTHONHASHSEED`` variable, which the Makefile exports; nothing in the package depends on it);
    limits PyTorch to ``threads`` threads (one thread makes float reductions, hence every number printed, identical
    run to run); and, if ``figures``, applies the course's one figure style
    (:func:`~lecture_utils.plotting.course_style`: 100 dpi, readable text, a colour-blind-safe cycle of colours and
    line styles, no noisy metadata). Environments and agents are seeded
    by the functions that create them, from the same seed. Returns nothing, so a notebook cell ending with it
    prints nothing.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    if figures:
        import matplotlib

        from .plotting import course_style

        matplotlib.rcParams.update(course_style())
