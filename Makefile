# citycase — every target creates its own virtual environment first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench lint serve clean frontend

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH (or run: make PY=python3 …)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

frontend: $(STAMP)
	$(BIN)/python -m web.assets

test: install frontend
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .

demo: install frontend
	$(BIN)/citycase db upgrade
	$(BIN)/citycase seed demo --if-empty
	$(BIN)/citycase deploy bpmn/
	$(BIN)/citycase demo-cases --if-empty
	$(BIN)/citycase serve --host 127.0.0.1 --port 5000

bench: install
	$(BIN)/citycase bench --json > /dev/null
	@cat bench/results.txt

clean:
	rm -rf $(VENV) instance/*.db
