# Every target installs the project into .venv first if it is not there yet.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint train tensorboard bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Without ARGS: the fast DCGAN preset, good digits within 10 minutes on 2 CPU cores.
train: $(STAMP)
	$(BIN)/python -m ganzoo.train $(or $(ARGS),experiment=dcgan_mnist_fast)

tensorboard: $(STAMP)
	$(BIN)/tensorboard --logdir outputs

bench: $(STAMP)
	$(BIN)/python benchmarks/step_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
