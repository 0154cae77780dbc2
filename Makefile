# Two commands do all set-up on a fresh clone:
#   make lectures   execute every notebook in notebooks/ in place (the main job)
#   make test       lint (ruff, mypy), unit tests, then nbval (strict) over every notebook, on this CPU's own code path and again on
#                   a forced baseline path (see BASELINE below)
#   make site       the course as a static website in book/_build/html, from the executed notebooks (nothing re-run)
# Others: make data [DATA="name ..."], make bench, make test-site, make clean-venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]*_*.ipynb))
DATA ?=
# `make data a2c_seed_config entropy_sweep` makes just those: the extra goals are data set names, not targets.
ifeq (data,$(firstword $(MAKECMDGOALS)))
  DATA := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
  $(eval $(DATA):;@:)
endif
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0

# The forced baseline CPU path (lecture_utils.cpu_path.BASELINE_PATH; a unit test checks the two agree): the oldest
# x86-64 kernels of OpenBLAS, NumPy's SIMD dispatch, PyTorch and MKL, which compute other last bits than a modern
# CPU's own. Every compared notebook output must hold on both paths. `make test-baseline` runs just that half.
BASELINE := OPENBLAS_CORETYPE=Prescott NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2

.PHONY: all venv lectures test lint unit nbval test-native test-baseline data bench site test-site clean-site clean-venv

all: test

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

lectures: $(STAMP)
	$(PY) tools/run_notebooks.py $(NOTEBOOKS)

test: lint test-native test-baseline test-site

# ruff (pyflakes, pycodestyle, bugbear) and mypy, with the settings in pyproject.toml.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

test-native: unit nbval

# Forcing x86-64 kernels needs an x86-64 CPU; elsewhere (Apple Silicon, ARM servers) this half says so and passes.
test-baseline: $(STAMP)
ifeq ($(shell uname -m),x86_64)
	@echo "== the same suite on the forced baseline CPU path: $(BASELINE)"
	env $(BASELINE) $(MAKE) --no-print-directory unit nbval
else
	@echo "test-baseline: forcing x86-64 kernels needs an x86-64 CPU; this is $$(uname -m), so only its own path was tested"
endif

unit: $(STAMP)
	$(PY) -m pytest -q tests

nbval: $(STAMP)
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no notebooks yet in notebooks/: nothing for nbval to check"; \
	else $(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS); fi

data: $(STAMP)
	$(PY) -m lecture_utils experiments $(DATA)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

# The speed benchmark (seed script vs package), the lockstep trainer's (many seeds in one process), then the race to
# solve against Stable-Baselines3.
bench: $(BENCH_STAMP)
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/lockstep_bench.py
	$(PY) benchmarks/solve_race.py

SITE_STAMP := $(VENV)/.site-installed
# requirements-site.txt includes requirements.txt, so pip resolves both together; pip check then confirms that every
# installed package's requirements hold.
$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-site.txt
	$(PY) -m pip check --disable-pip-version-check
	touch $(SITE_STAMP)

# The course as a website (Sphinx + myst-nb): the committed notebooks' stored outputs, nothing executed.
# View it with: python -m http.server -d book/_build/html
site: $(SITE_STAMP)
	$(PY) tools/build_site.py

# The built site in headless Chromium (tests/site): every page, its requests, maths, images, links and an axe scan.
# The website does not depend on the CPU path, so this runs once, not on both paths like unit and nbval.
CHROMIUM ?= $(shell command -v chromium 2>/dev/null)
test-site: site
	@if [ -z "$(CHROMIUM)" ]; then \
	  echo "test-site: skipped, no Chromium for the browser test (install one: apt-get install chromium)"; \
	else CHROMIUM="$(CHROMIUM)" $(PY) -m pytest -q -p no:cacheprovider tests/site; fi

clean-site:
	rm -rf book/_build

clean-venv:
	rm -rf $(VENV)
