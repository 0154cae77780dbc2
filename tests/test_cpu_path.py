"""The CPU path: what it reports, that the Makefile's forced baseline really forces it, and that sidecars record it."""
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lecture_utils.cpu_path import BASELINE_PATH, CPU_PATH_VARIABLES, cpu_path, cpu_path_key

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_path_names_every_kernel_choice():
    path = cpu_path()
    for key in ("machine", "cpu_model", "openblas_core", "numpy_simd", "torch_cpu_capability", "mkl_instructions",
                "forced_by"):
        assert isinstance(path[key], str) and path[key], key
    assert re.fullmatch(r"[0-9a-f]{16}", cpu_path_key(path))
    assert cpu_path_key(path) == cpu_path_key()  # the same process, the same path
    other = dict(path, openblas_core="Prescott" if path["openblas_core"] != "Prescott" else "Haswell")
    assert cpu_path_key(other) != cpu_path_key(path)
    assert cpu_path_key(dict(path, cpu_model="another name")) == cpu_path_key(path)  # kernels, not names, decide


def test_makefile_forces_the_baseline_the_package_names():
    makefile = (ROOT / "Makefile").read_text()
    line = next(row for row in makefile.splitlines() if row.startswith("BASELINE :="))
    assignments = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line.split(":=", 1)[1]))
    assert {k: v.strip('"') for k, v in assignments.items()} == dict(BASELINE_PATH)
    assert set(BASELINE_PATH) == set(CPU_PATH_VARIABLES)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the forced baseline path is made of x86-64 kernels")
def test_the_forced_baseline_is_really_taken():
    """If a library ignored its variable, `make test-baseline` would silently test the machine's own path again."""
    env = {k: v for k, v in os.environ.items() if k not in CPU_PATH_VARIABLES}
    env.update(BASELINE_PATH)
    code = "import json; from lecture_utils.cpu_path import cpu_path; print(json.dumps(cpu_path()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    forced = json.loads(out.stdout.strip().splitlines()[-1])
    # OpenBLAS's dynamic build serves Prescott with its oldest SSE kernels, which it reports as "Katmai".
    assert forced["openblas_core"] in ("Prescott", "Katmai")
    assert forced["numpy_simd"].endswith("dispatch none")
    assert forced["torch_cpu_capability"] == "DEFAULT"
    assert forced["mkl_instructions"] == "SSE4_2"
    assert "OPENBLAS_CORETYPE=Prescott" in forced["forced_by"]


def test_forced_path_experiment_runs_in_a_child_process_with_its_variables(tmp_path, monkeypatch):
    from lecture_utils import experiments
    from lecture_utils.errors import ConfigError

    for key in CPU_PATH_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(experiments.platform, "machine", lambda: "x86_64")
    calls = []

    class Done:
        returncode = 0

    def fake_run(command, env):
        calls.append((command, env))
        return Done()

    monkeypatch.setattr(experiments.subprocess, "run", fake_run)
    path = experiments.run_experiment("a2c_seed_config_baseline_cpu", n_jobs=1, data_dir=tmp_path)
    (command, env), = calls
    assert command[1:] == ["-m", "lecture_utils", "experiments", "a2c_seed_config_baseline_cpu", "--jobs", "1"]
    assert {k: env[k] for k in BASELINE_PATH} == dict(BASELINE_PATH) and env["LECTURE_DATA_DIR"] == str(tmp_path)
    assert path == tmp_path / "a2c_seed_config_baseline_cpu.csv.gz"
    Done.returncode = 1
    with pytest.raises(ConfigError, match="forced CPU path failed"):
        experiments.run_experiment("a2c_seed_config_baseline_cpu", data_dir=tmp_path)
    monkeypatch.setattr(experiments.platform, "machine", lambda: "arm64")
    with pytest.raises(ConfigError, match="x86-64"):
        experiments.run_experiment("a2c_seed_config_baseline_cpu", data_dir=tmp_path)


def test_the_baseline_data_set_was_made_on_the_baseline_path():
    from lecture_utils.datasets import read_sidecar

    recorded = read_sidecar("a2c_seed_config_baseline_cpu")["cpu_path"]
    assert recorded["openblas_core"] in ("Prescott", "Katmai") and recorded["numpy_simd"].endswith("dispatch none")
    assert recorded["torch_cpu_capability"] == "DEFAULT"
    assert cpu_path_key(recorded) != cpu_path_key(read_sidecar("a2c_seed_config")["cpu_path"])
