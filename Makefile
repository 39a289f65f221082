# The two commands of the quick start: `make demo` and `make test`.
# Each creates (or reuses) a local virtual environment in .venv and installs the package into
# it: `make demo` the runtime dependencies only, `make test` also the test tools and Spark.
#
# uv makes the environment and installs when it can be had: from the PATH, else installed with
# pip into .uv/ (once). Otherwise pip does it all. uv reads none of pip's configuration (its
# constraints, local wheel mirrors): it installs from the package index.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_DIR := .uv
UV      = $(shell command -v uv || { test -x $(UV_DIR)/bin/uv && echo $(UV_DIR)/bin/uv; })
# Both write each module's bytecode at install time (pip by default; uv when asked): where
# PYTHONDONTWRITEBYTECODE is set, as on CI runners, Python would otherwise compile every
# imported module from source in every process (about 7 s of the 11 s it takes to import
# MLflow, LightGBM, Ibis and SHAP here), and the tests start hundreds of processes.
UV_PIP  = $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python
PIP     = $(BIN)/python -m pip install --quiet
INSTALL = $(if $(UV),$(UV_PIP),$(PIP))
WHEELS ?= $(HOME)/.cache/valuemodel/wheels
WORKERS = $(shell $(PYTHON) -c "import os; print(len(os.sched_getaffinity(0)))" 2>/dev/null || echo 2)

.PHONY: demo test test-fast lint format docs bench clean help _venv _spark_wheel

help:
	@echo "make demo       - synthetic brokerage -> features -> train -> score -> ranked list"
	@echo "make test       - lint, layer contracts and the whole test suite (notebooks, Spark)"
	@echo "make test-fast  - the same without notebooks, Spark and slow tests (under 2 minutes)"
	@echo "make docs       - regenerate docs/features.md from the feature registry"
	@echo "make bench      - run the benchmarks (slow: minutes) and print their tables"

$(BIN)/python:
	@test -n "$(UV)" || $(PYTHON) -m pip install --quiet --target $(UV_DIR) uv \
		|| echo "uv could not be installed; pip sets up $(VENV)" >&2
	@$(MAKE) --no-print-directory _venv

# Run by a sub-make, which finds a uv installed just now. The environment keeps pip (--seed)
# for installs by hand.
_venv:
ifneq ($(UV),)
	$(UV) venv --quiet --seed --python $(PYTHON) $(VENV)
else
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
endif

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(INSTALL) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	@mkdir -p $(WHEELS)
	$(INSTALL) $(if $(UV),--find-links $(WHEELS)) -e ".[dev,spark]"
	@$(MAKE) --no-print-directory _spark_wheel
	@touch $@

# PyPI has PySpark as source only, and uv (0.13) was seen to download and build it again for
# every new environment: about 25 s and 1.4 GB more in uv's cache each time. Its wheel is
# built once into WHEELS, where the next environment's install finds it (`rm -r` the folder
# to build it again).
_spark_wheel:
ifneq ($(UV),)
	@v=$$($(BIN)/python -c "from importlib.metadata import version; print(version('pyspark'))"); \
	ls $(WHEELS)/pyspark-$$v-*.whl > /dev/null 2>&1 || { \
	  echo "keeping a wheel of pyspark $$v in $(WHEELS) for the next environment"; \
	  $(BIN)/python -m pip wheel -qq --no-deps --wheel-dir $(WHEELS) "pyspark==$$v" \
	  || echo "could not build it: the next environment builds pyspark again" >&2; }
endif

demo: $(VENV)/.runtime
	$(BIN)/valuemodel demo

# pytest exits 5 when it collected no test: say so plainly and fail, a suite that ran nothing
# proves nothing. Test order is random (pytest-randomly; the seed is printed at the top, and
# `-p randomly -p "randomly_seed=N"` repeats an order).
PYTEST = rc=0; $(BIN)/python -m pytest --durations=15 $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# One pytest-xdist worker per usable core; a module's tests stay on one worker (loadscope), so
# its module-scoped fixtures (trained models) are built once.
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(BIN)/python -m compileall -q src  # the package's own bytecode, as the installs write theirs
	@$(call PYTEST,-n $(WORKERS) --dist loadscope)

test-fast: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(call PYTEST,tests -m "not spark and not slow" -n 2 -p no:nbmake -o addopts="-ra --strict-markers")

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(VENV)/.runtime
	$(BIN)/python -c "from pathlib import Path; from valuemodel.features import load_registry, \
	render_feature_docs as r; Path('docs/features.md').write_text(r(load_registry()), 'utf-8')"

# Each script times the real work in fresh subprocesses (median of 3, peak RSS). The generator,
# training and quality benchmarks rewrite their own section of BENCHMARKS.md; the feature and
# scoring ones print their tables, which go into BENCHMARKS.md with the conditions of the run
# (load, what changed). Slow: tens of minutes in all on 2 cores.
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_features.py --repeats 3 --scaling
	$(BIN)/python benchmarks/bench_train.py --write
	$(BIN)/python benchmarks/bench_score.py core
	$(BIN)/python benchmarks/bench_score.py e2e
	$(INSTALL) -e ".[bench]"
	$(BIN)/python benchmarks/bench_quality.py --write
	$(BIN)/python benchmarks/bench_ceiling.py

clean:
	rm -rf $(VENV) $(UV_DIR) valuemodel-demo .pytest_cache .ruff_cache
