# smartcart: `make run` starts the demo store, `make test` runs the whole suite.
# Needs only python3 (3.11+) with its venv module; everything else goes into .venv/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

# mysqlclient needs the MariaDB client headers, so it is installed only when asked for.
ifneq ($(findstring mysql,$(DATABASE_URL)),)
INSTALL_DB_DRIVER := $(PY) -m pip install --quiet --disable-pip-version-check -r requirements/mysql.txt
else
INSTALL_DB_DRIVER := true
endif

.PHONY: run test lint typecheck check-deploy clean help prod-local prod-local-stop

help:
	@echo "make run   - set up .venv, migrate, load the demo store and serve it on http://$(HOST):$(PORT)/"
	@echo "make test  - set up .venv with the dev tools and run the whole test suite"
	@echo "make lint  - ruff check and format check;  make typecheck - mypy"
	@echo "make screenshots - the README's pictures of the demo store, taken in Chromium, into"
	@echo "                   docs/screenshots/ (SCREENSHOTS_DIR=... writes them elsewhere)"
	@echo "make prod-local      - the production stack on loopback (nginx, gunicorn, MariaDB, Redis, Celery)"
	@echo "                       from the distribution's packages; PROD_LOCAL_BACKGROUND=1 returns"
	@echo "                       once it is ready;  make prod-local-stop - stop a background one"

$(PY):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: $(PY) requirements/base.txt
	@echo "==> Installing runtime requirements into $(VENV)/"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-base requirements/dev.txt
	@echo "==> Installing development requirements into $(VENV)/"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

# make run stops before its set-up when something already serves on HOST:PORT (runserver
# would say so only after migrating and loading the demo store).
define PORT_FREE
import errno, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver binds
        probe.bind((host, port))
except OSError as exc:
    taken = exc.errno == errno.EADDRINUSE
    advice = "Stop what serves there, or choose another port: make run PORT=8100." if taken else "Check HOST and PORT."
    sys.exit(f"make run: cannot serve on {host}:{port} ({exc.strerror}). {advice}")
endef
export PORT_FREE

# The store's address, SITE_URL, follows HOST and PORT unless it is set (shopcart/settings.py):
# every URL printed here, in emails and by simulate_cart is the one the server listens on.
run: export HOST := $(HOST)
run: export PORT := $(PORT)
run: $(VENV)/.installed-base
	@$(PY) -c "$$PORT_FREE" "$(HOST)" "$(PORT)"
	@$(INSTALL_DB_DRIVER)
	@echo "==> Migrating the database"
	@$(PY) manage.py migrate --no-input
	@echo "==> Loading the demo store"
	@$(PY) manage.py load_demo_store
	@echo ""
	@echo "smartcart is starting on $$(DJANGO_SETTINGS_MODULE=shopcart.settings $(PY) -c \
		'from django.conf import settings; print(settings.SITE_URL.rstrip("/"))')/ (emails are written to var/mail/)."
	@echo "Press Ctrl+C to stop."
	@$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	@$(INSTALL_DB_DRIVER)
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	@$(BIN)/mypy .

# The README's pictures (docs/screenshots.py): a demo store of its own in a temporary directory
# (var/ is left alone) on a free port, walked in the machine's Chromium. CI writes them into a
# temporary SCREENSHOTS_DIR, so the clone stays clean.
.PHONY: screenshots
screenshots: $(VENV)/.installed-dev
	@$(PY) docs/screenshots.py $(if $(SCREENSHOTS_DIR),--out "$(SCREENSHOTS_DIR)")

# The production stack without containers (deploy/prod-local.sh; docs/running-a-store.md).
# nginx's HTTPS port: its own PORT, default 8443; `make run` keeps 8000. WEB_NODES=2: two web nodes.
prod-local: $(VENV)/.installed-base
	@PORT=$(if $(filter command line environment,$(origin PORT)),$(PORT),8443) deploy/prod-local.sh start

prod-local-stop:
	@deploy/prod-local.sh stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
