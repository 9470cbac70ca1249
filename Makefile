# Newswire: `make run` and `make test` set up their own virtual environment.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint format bench clean i18n

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup  ## the bot and the scheduler (and the sandbox when no TELEGRAM_BOT_TOKEN)
	$(BIN)/newswire run

test: setup  ## unit and end-to-end tests
	$(BIN)/pytest

lint: setup  ## ruff and mypy, as CI runs them
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup  ## benchmarks that print their figures
	$(BIN)/python bench/summaries.py

LOCALES := bot/locales
i18n: setup  ## extract reader-facing strings, update each language's .po, compile the .mo files
	$(BIN)/pybabel extract --project=Newswire --no-wrap --add-location=file --sort-by-file \
		-k N_ -o $(LOCALES)/newswire.pot bot
	$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching -i $(LOCALES)/newswire.pot -d $(LOCALES) -D newswire
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D newswire

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
