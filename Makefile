# The README's two commands: `make demo` (set up + main job) and `make test` (set up + tests).
PY := $(if $(VIRTUAL_ENV),python,$(if $(CONDA_PREFIX),python,$(CURDIR)/.venv/bin/python))
# the environment's scripts (lint-imports): the active environment's PATH, else .venv/bin
BIN := $(if $(VIRTUAL_ENV),,$(if $(CONDA_PREFIX),,$(CURDIR)/.venv/bin/))

.PHONY: setup demo showcase test bench lint lock

setup:
	bash tools/setup_env.sh

demo: setup
	$(PY) demo/toy_detection.py --work-dir work_dirs/toy_kld

showcase: setup
	$(PY) demo/loss_showcase.py --out-dir work_dirs/loss_showcase

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) benchmarks/bench_losses.py

# ruff with the checks chosen in ruff.toml (pyflakes errors, syntax errors, lines over 120); the import
# layers of setup.cfg's [importlinter]; the docstring rule (.dev_scripts/check_docstrings.py)
lint: setup
	$(PY) -m ruff check --quiet .
	$(BIN)lint-imports --no-cache
	$(PY) .dev_scripts/check_docstrings.py visiondiv

# Pin the current .venv's versions into requirements/constraints.txt (after an upgrade that passed `make test`)
lock:
	PY=$(PY) bash tools/lock_requirements.sh
