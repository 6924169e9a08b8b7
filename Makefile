# citycase — every target creates its own virtual environment first (Python 3.11).
PY ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install frontend test demo bench lint serve clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "citycase needs Python 3.11 (set PY=…)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Translations (.po → .mo) and Leaflet from the npm registry; built files are never committed.
frontend: $(STAMP)
	$(BIN)/python -m web.assets

test: install frontend
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# ruff everywhere; mypy on engine/, handlers/, web/, cli/ (configured in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

demo: install frontend
	$(BIN)/citycase db upgrade
	$(BIN)/citycase seed demo --if-empty
	$(BIN)/citycase deploy bpmn/
	$(BIN)/citycase demo-cases --if-empty
	@echo ""
	$(BIN)/citycase seed accounts
	@echo "  public reporting (no account): http://127.0.0.1:5000/report/public"
	@echo ""
	@echo "  admins and designers sign in with the password alone in the demo (CITYCASE_TOTP_ROLES=admin,designer"
	@echo "  turns the authenticator-app second factor on, as it is by default outside the demo)"
	CITYCASE_TOTP_ROLES= $(BIN)/citycase serve --host 127.0.0.1 --port 5000

serve: install
	$(BIN)/citycase serve

bench: install
	$(BIN)/citycase bench --json > /dev/null
	@cat bench/results.txt

clean:
	rm -rf $(VENV) instance/*.db
