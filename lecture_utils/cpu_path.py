"""Which numerical code paths this process runs on: the facts that decide a float's last bits.

The same seed gives the same numbers, bit for bit, on one machine. Across machines the *kernels* differ:

* OpenBLAS (NumPy's matrix products) picks a kernel per CPU (``OPENBLAS_CORETYPE``: Prescott, Sandybridge,
  Haswell, Zen, SkylakeX, ...);
* NumPy dispatches ``exp``, ``log``, ``tanh``, ... to AVX-512, AVX2 or baseline loops (``NPY_DISABLE_CPU_FEATURES``);
* PyTorch picks its own kernels by CPU capability (``ATEN_CPU_CAPABILITY``) and calls MKL, which picks its own
  (``MKL_ENABLE_INSTRUCTIONS``).

Each environment variable above forces a path, which is how ``make test`` checks the lectures on a path other than
the machine's own (see :data:`BASELINE_PATH`). :func:`cpu_path` reports the path in use; data-set sidecars record
it, so a reader can tell where a table was made.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from typing import Mapping

__all__ = ["BASELINE_PATH", "CPU_PATH_VARIABLES", "cpu_path", "cpu_path_key"]

#: The environment variables that force a numerical code path (a value here overrides the CPU's own choice).
CPU_PATH_VARIABLES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")

#: The forced baseline path that ``make test`` runs the suite on a second time: the oldest x86-64 kernels of each
#: library (no AVX2, no AVX-512), which every x86-64 CPU can run. The Makefile repeats these values; a unit test
#: checks the two agree.
BASELINE_PATH: Mapping[str, str] = {
    "OPENBLAS_CORETYPE": "Prescott",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _openblas_core() -> str:
    import numpy  # noqa: F401  (loads NumPy's OpenBLAS, which threadpoolctl can only see once it is loaded)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    cores = sorted({lib.get("architecture") or "unknown" for lib in threadpool_info()
                    if lib.get("internal_api") == "openblas"})
    return ", ".join(cores) if cores else "none loaded"


def _numpy_simd() -> str:
    try:
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
    except ImportError:  # another NumPy layout: say so rather than guess
        return "unknown"
    enabled = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    return f"baseline {' '.join(__cpu_baseline__) or '-'}; dispatch {' '.join(enabled) or 'none'}"


def _torch_capability() -> str:
    import torch

    return str(torch.backends.cpu.get_cpu_capability())


def cpu_path() -> dict[str, str]:
    """The code path of this process: CPU model, OpenBLAS kernel, NumPy SIMD dispatch, PyTorch capability.

    Returns a flat ``{name: description}`` dict of strings (JSON-ready), with the forcing variables that are set.
    Imports NumPy, threadpoolctl and PyTorch (already loaded wherever the package is).
    """
    forced = {name: os.environ[name] for name in CPU_PATH_VARIABLES if os.environ.get(name)}
    return {
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "openblas_core": _openblas_core(),
        "numpy_simd": _numpy_simd(),
        "torch_cpu_capability": _torch_capability(),
        "mkl_instructions": os.environ.get("MKL_ENABLE_INSTRUCTIONS", "auto"),
        "forced_by": ", ".join(f"{k}={v}" for k, v in forced.items()) or "nothing (the CPU's own choice)",
    }


def cpu_path_key(path: Mapping[str, str] | None = None) -> str:
    """A short key (16 hex digits) for the kernels of a path: equal keys compute equal last bits.

    Built from the kernel choices only (OpenBLAS core, NumPy dispatch, PyTorch capability, MKL instructions), not
    from the CPU's name, so two CPUs that take the same kernels share a key.
    """
    path = cpu_path() if path is None else path
    kernels = {k: path.get(k) for k in ("machine", "openblas_core", "numpy_simd", "torch_cpu_capability",
                                        "mkl_instructions")}
    return hashlib.sha256(json.dumps(kernels, sort_keys=True).encode()).hexdigest()[:16]
