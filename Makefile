# Developer and CI entry points. `make run` for a local demo on SQLite,
# `make test` for the full suite (SQLite, then a throwaway PostgreSQL).
#
# Extra pytest arguments: make test PYTEST_ARGS="-k consent -x"

# bash with -e/pipefail so a failing step in a multi-line recipe fails it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Several targets may call apt-get; dpkg allows only one at a time.
.NOTPARALLEL:
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# The suite runs in one pytest-xdist worker per CPU (files kept whole on one worker, so a module's
# browser and server are started once). PYTEST_WORKERS=0 runs it in this process, e.g. for a debugger.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

# Only true when make itself runs as root (allowed to apt-get install).
IS_ROOT := $(shell [ "$$(id -u)" -eq 0 ] && echo yes)

# apt-get update, unless the package lists were refreshed within the last
# hour (so `messages` and `browser` on a fresh machine update only once).
APT_UPDATE := [ -n "$$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null)" ] \
	|| apt-get update
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

.PHONY: help venv assets messages messages-update browser pdf-libs perl-deps run test test-sqlite test-postgres test-perl kpz fuzz lint typecheck clean

help:
	@echo "make run            migrate, seed demo data and serve on http://127.0.0.1:8000 (SQLite)"
	@echo "make test           typecheck, then the full test suite on SQLite and on a throwaway PostgreSQL 15"
	@echo "make test-sqlite    tests on SQLite only      (PYTEST_ARGS=... for pytest options)"
	@echo "make test-postgres  tests on PostgreSQL only  (PYTEST_ARGS=... for pytest options)"
	@echo "make test-perl      the Koha plugin's Perl tests (prove -r -j2 koha-plugin/t; no Koha needed)"
	@echo "make kpz            build the Koha plugin: dist/koha-plugin-patron-privacy-v<VERSION>.kpz"
	@echo "make fuzz           only the schemathesis run over /api/schema/, SQLite then PostgreSQL (FUZZ_EXAMPLES=12)"
	@echo "make lint           ruff check + ruff format --check + typecheck"
	@echo "make typecheck      mypy with the Django and DRF plugins over the apps, tests/ and bench/ (pyproject.toml)"
	@echo "make messages-update  refresh the fi/sv/en catalogs after changing user-facing text"
	@echo "make clean          remove .venv node_modules var staticfiles"

# --- Python virtualenv ----------------------------------------------------------
# The stamp file makes the venv rebuild only when requirements.txt changes.
venv: $(VENV)/.installed

# Interpreter for the venv: python3 if it is >= 3.12 (pyenv resolves it via
# .python-version), else python3.12 / python3.13, else any pyenv-installed
# 3.12+ even if it is not the selected version. An existing .venv on a
# recent enough Python is reused (pip upgrades it in place), an older one
# is recreated.
$(VENV)/.installed: requirements.txt
	@ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
	py=""; \
	for cand in python3 python3.12 python3.13; do \
		if ok "$$cand"; then py=$$cand; break; fi; \
	done; \
	if [ -z "$$py" ] && command -v pyenv >/dev/null 2>&1; then \
		for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$$)' | sort -V); do \
			cand=$$(PYENV_VERSION=$$v pyenv which python3 2>/dev/null) || continue; \
			if ok "$$cand"; then py=$$cand; break; fi; \
		done; \
	fi; \
	if [ -z "$$py" ]; then \
		echo "ERROR: Python >= 3.12 not found (tried python3, python3.12, python3.13, pyenv)." >&2; \
		exit 1; \
	fi; \
	if ok "$(PY)"; then \
		echo "Reusing $(VENV) ($$($(PY) --version))"; \
	else \
		echo "Creating $(VENV) with $$py ($$($$py --version))"; \
		"$$py" -m venv --clear $(VENV); \
	fi
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	@touch $@

# --- Front-end assets (npm) -------------------------------------------------------
# Served as static files straight from node_modules; package-lock.json is
# committed so everyone gets the same versions.
assets: node_modules/.installed

node_modules/.installed: package.json $(wildcard package-lock.json)
	npm install --no-audit --no-fund
	@touch $@

# --- Translations --------------------------------------------------------------------
# .mo files are build output (gitignored). compilemessages needs GNU gettext's
# msgfmt, which fresh CI machines may lack; as root we install it.
messages: venv
	@if ! command -v msgfmt >/dev/null 2>&1; then \
		if [ "$(IS_ROOT)" = yes ]; then \
			echo "msgfmt missing: installing gettext"; \
			$(APT_UPDATE); \
			$(APT_INSTALL) gettext; \
		else \
			echo "ERROR: msgfmt not found. Install gettext (sudo apt-get install gettext) and retry." >&2; \
			exit 1; \
		fi; \
	fi
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=node_modules

# After changing user-facing text: refresh the catalogs (file names only, no line numbers, so an
# edit elsewhere in a file does not touch the catalogs), translate what is new, then `make messages`.
messages-update: venv
	$(PY) manage.py makemessages -l fi -l sv -l en --add-location=file \
		--ignore=$(VENV) --ignore=node_modules --ignore=bench --ignore=tests

# --- Browser for end-to-end tests ------------------------------------------------------
# The Playwright tests drive Debian's chromium (/usr/bin/chromium). We never
# run `playwright install`: it downloads unpinned browser builds from a CDN.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$(IS_ROOT)" = yes ]; then \
			echo "chromium missing: installing the Debian package"; \
			$(APT_UPDATE); \
			$(APT_INSTALL) chromium; \
		else \
			echo "ERROR: /usr/bin/chromium not found. Install it (sudo apt-get install chromium) and retry." >&2; \
			exit 1; \
		fi; \
	fi

# --- Libraries for PDFs -----------------------------------------------------------------------
# WeasyPrint (printable ban decisions) needs Pango and a font; Debian ships them with chromium,
# but a machine without them gets them here.
pdf-libs:
	@if ! ldconfig -p | grep 'libpango-1.0.so.0' >/dev/null || ! ldconfig -p | grep 'libpangoft2-1.0.so.0' >/dev/null; then \
		if [ "$(IS_ROOT)" = yes ]; then \
			echo "Pango missing: installing the Debian packages"; \
			$(APT_UPDATE); \
			$(APT_INSTALL) libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
		else \
			echo "ERROR: Pango not found. Install it (sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0) and retry." >&2; \
			exit 1; \
		fi; \
	fi

# --- Perl for the Koha plugin's tests ----------------------------------------------------------
# The plugin's tests (koha-plugin/t) run on Debian's Perl modules; no Koha, no CPAN.
PERL_DEBS := libmojolicious-perl libmojolicious-plugin-openapi-perl libjson-validator-perl libdbd-sqlite3-perl zip unzip
perl-deps:
	@if ! perl -MMojolicious::Plugin::OpenAPI -MJSON::Validator -MDBD::SQLite -MTest::Mojo -e1 >/dev/null 2>&1 \
		|| ! command -v zip >/dev/null 2>&1 || ! command -v unzip >/dev/null 2>&1; then \
		if [ "$(IS_ROOT)" = yes ]; then \
			echo "Perl modules for the Koha plugin's tests missing: installing the Debian packages"; \
			$(APT_UPDATE); \
			$(APT_INSTALL) $(PERL_DEBS); \
		else \
			echo "ERROR: Perl modules for the Koha plugin's tests not found. Install them (sudo apt-get install $(PERL_DEBS)) and retry." >&2; \
			exit 1; \
		fi; \
	fi

# --- The Koha plugin (.kpz) ------------------------------------------------------------------
# A .kpz is a zip rooted at Koha/ (the plugin's .pm and its bundle directory); the version is read
# from the .pm. DIST=... builds elsewhere (the plugin's kpz test does).
DIST ?= dist
KPZ_VERSION = $(shell sed -n "s/^our \$$VERSION = '\([0-9.]*\)';/\1/p" koha-plugin/Koha/Plugin/Fi/PatronPrivacy.pm)
kpz:
	@test -n "$(KPZ_VERSION)" || { echo "ERROR: no version in koha-plugin/Koha/Plugin/Fi/PatronPrivacy.pm" >&2; exit 1; }
	@command -v zip >/dev/null 2>&1 || { echo "ERROR: zip not found (make perl-deps)" >&2; exit 1; }
	rm -rf "$(DIST)/kpz-build" "$(DIST)/koha-plugin-patron-privacy-v$(KPZ_VERSION).kpz"
	mkdir -p "$(DIST)/kpz-build"
	cp -r koha-plugin/Koha "$(DIST)/kpz-build/"
	cd "$(DIST)/kpz-build" && zip -q -r -X ../koha-plugin-patron-privacy-v$(KPZ_VERSION).kpz Koha
	rm -rf "$(DIST)/kpz-build"
	@echo "$(DIST)/koha-plugin-patron-privacy-v$(KPZ_VERSION).kpz"

# --- Local demo ----------------------------------------------------------------------------
# Always SQLite (var/db.sqlite3): a DATABASE_URL left in the shell must not point the demo elsewhere.
run: venv assets messages pdf-libs
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(PY) manage.py migrate --noinput
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(PY) manage.py migrate --noinput --database=sotu
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(PY) manage.py seed_demo
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(PY) manage.py runserver 127.0.0.1:8000

# --- Tests -------------------------------------------------------------------------------------
# The type check first, so that a type error fails CI in a minute; then both databases even if the
# first fails, so one CI run shows everything; fail if either failed.
test: venv assets messages browser pdf-libs perl-deps
	$(MAKE) --no-print-directory typecheck
	@status=0; \
	$(MAKE) --no-print-directory test-perl || { status=1; echo "*** test-perl FAILED" >&2; }; \
	$(MAKE) --no-print-directory test-sqlite || { status=1; echo "*** test-sqlite FAILED" >&2; }; \
	$(MAKE) --no-print-directory test-postgres || { status=1; echo "*** test-postgres FAILED" >&2; }; \
	exit $$status

# The settings fall back to SQLite without DATABASE_URL; unset it explicitly
# so a value left in the shell cannot redirect this run.
test-sqlite: venv assets
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The Koha plugin's Perl tests (stubs of Koha in koha-plugin/t/lib; seconds).
test-perl: perl-deps
	prove -r -j2 koha-plugin/t

# Throwaway PostgreSQL 15; the script sets DATABASE_URL and friends.
test-postgres: venv assets
	scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The schemathesis run over /api/schema/ alone (tests/test_api_fuzz.py, marker `fuzz`; `make test` runs it
# too): every operation as every demo role, on SQLite and then PostgreSQL. A longer run: make fuzz FUZZ_EXAMPLES=50
FUZZ_EXAMPLES ?= 12
fuzz: venv assets
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(PY) -m pytest -m fuzz $(PYTEST_ARGS)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) scripts/with-postgres.sh $(PY) -m pytest -m fuzz $(PYTEST_ARGS)

# --- Lint ----------------------------------------------------------------------------------------
lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# mypy reads the settings (django-stubs loads Django), so the same environment as the tests; its
# cache is .mypy_cache (gitignored): a second run checks only what changed.
typecheck: venv
	env -u DATABASE_URL -u DATABASE_APP_ROLE -u SOTU_DATABASE_URL $(VENV)/bin/mypy

clean:
	rm -rf $(VENV) node_modules var staticfiles

# --- Benchmarks (see bench/README.md) ---------------------------------------------------------
# The allow-list on SQLite, then in one throwaway PostgreSQL: both databases migrated (the silo's
# first: generate.py migrates only "default" and its seed_demo needs the silo), scale data, the
# detail benchmark, and the sotu-silo with one identity code per generated patron.
# Smaller runs: make bench BENCH_PATRONS=100000 BENCH_EVENTS=500000 BENCH_SECONDS=6
BENCH_PATRONS ?= 1000000
BENCH_EVENTS ?= 10000000
BENCH_SECONDS ?= 20
.PHONY: bench
bench: venv
	$(PY) -m pip install --quiet -r bench/requirements.txt
	env -u DATABASE_URL -u DATABASE_APP_ROLE $(PY) bench/allowlist.py
	scripts/with-postgres.sh bash -c '$(PY) bench/silo.py --migrate-only \
		&& $(PY) bench/generate.py --patrons $(BENCH_PATRONS) --events $(BENCH_EVENTS) \
		&& $(PY) bench/detail_rps.py --seconds $(BENCH_SECONDS) \
		&& $(PY) bench/silo.py --codes $(BENCH_PATRONS) \
		&& $(PY) bench/koha_views.py --seconds $(BENCH_SECONDS) \
		&& $(PY) bench/dpo.py'
