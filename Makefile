PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test eval fit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## Start the bot: connects to Discord when DISCORD_TOKEN is set, otherwise opens the terminal chat.
run: $(VENV)/.installed
	$(BIN)/python -m bot

## Lint, check formatting, run every test.
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

## The CLI and in-process, against bm25s and tantivy, from the statement to 100,000 paragraphs
## (a table with ratios; every figure in bench/results/bench.json). Options: bench/run.py --help.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Answer quality per kind of question, 10-fold cross-validated with 5 seeds and with each file left out, ours beside the naive baseline.
eval: $(VENV)/.installed
	$(BIN)/python -m tools.evaluate --repeats 5 tests/dev_qa.jsonl tests/train_qa.jsonl tests/extra_qa.jsonl

## Fit the examples weight and the answerability model on the examples; writes data/answerability.json.
fit: $(VENV)/.installed
	$(BIN)/python -m tools.fit
