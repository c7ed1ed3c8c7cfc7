# Kinfolk: `make demo` runs the site with demo data, `make test` runs the test suite.
# Both create ./.venv on first use; scripts/bootstrap.sh keeps it in step with pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
# Extra arguments, e.g. make test PYTEST_ARGS="-k cart -x"
PYTEST_ARGS ?=
DEMO_ARGS ?=
SERVE_ARGS ?=

export PYTHON VENV

.PHONY: help demo serve test messages venv venv-test system-deps clean

help:
	@echo "make demo    build demo shops and serve them at http://127.0.0.1:8000"
	@echo "make serve   serve without rebuilding the demo data"
	@echo "make test    run the test suite (installs Debian's chromium if missing)"
	@echo "make clean   remove .venv (the data in ./var stays)"

demo: venv
	$(VENV)/bin/kinfolk demo $(DEMO_ARGS)
	$(VENV)/bin/kinfolk serve $(SERVE_ARGS)

serve: venv
	$(VENV)/bin/kinfolk serve $(SERVE_ARGS)

test: venv-test system-deps
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

venv:
	@bash scripts/bootstrap.sh

venv-test:
	@bash scripts/bootstrap.sh test

system-deps:
	@bash scripts/system-deps.sh chromium fonts

# Refresh the Korean catalogue after changing strings (needs GNU gettext); the .mo files are
# committed so that users need no gettext. -e takes the plain-text e-mail templates too.
messages: venv
	cd src/kinfolk && ../../$(VENV)/bin/python -m django makemessages -l ko -e html,txt,py -i "migrations/*" --settings=kinfolk.settings
	cd src/kinfolk && ../../$(VENV)/bin/python -m django compilemessages -l ko --settings=kinfolk.settings

clean:
	rm -rf $(VENV) .pytest_cache src/kinfolk.egg-info
