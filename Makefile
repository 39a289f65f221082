# The two commands of the quick start: `make demo` and `make test`.
# Each creates (or reuses) a local virtual environment in .venv and installs the package into it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench clean help

help:
	@echo "make demo   - synthetic brokerage -> features -> train -> score -> ranked list"
	@echo "make test   - lint and run the whole test suite (notebooks and Spark included)"
	@echo "make bench  - run the benchmarks (slow: minutes) and print their tables"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/valuemodel demo

# pytest exits 5 when it collected no test: say so plainly and fail, a suite that ran nothing
# proves nothing.
test: $(STAMP)
	$(BIN)/ruff check .
	@$(BIN)/python -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Each script times the real work in fresh subprocesses (median of 3, peak RSS). The generator,
# training and quality benchmarks rewrite their own section of BENCHMARKS.md; the feature and scoring
# ones print their tables, which go into BENCHMARKS.md with the conditions of the run (load,
# what changed). Slow: tens of minutes in all on 2 cores.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_features.py --repeats 3 --scaling
	$(BIN)/python benchmarks/bench_train.py --write
	$(BIN)/python benchmarks/bench_score.py core
	$(BIN)/python benchmarks/bench_score.py e2e
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/bench_quality.py --write

clean:
	rm -rf $(VENV) valuemodel-demo .pytest_cache .ruff_cache
