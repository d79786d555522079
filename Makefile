# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch==2.13.0 is a CPU build; any torch>=2.1 (CUDA builds too) works.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow docs bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,operon,gplearn,dask,parquet,plots,sindy]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/discover demo

test: $(STAMP)
	$(BIN)/ruff check basis_library discovery benchmarks tests
	$(BIN)/mypy basis_library discovery benchmarks --ignore-missing-imports
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not slow"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The long accuracy checks (recovery under noise, interval coverage); CI runs them too.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal -m slow

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m benchmarks.library_scaling

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .ruff_cache
