# Two commands on a fresh machine: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Debian packages the tests drive for real: Chromium (browser tests), Xvfb and Tk (the X11
# source and the customer's window), Redis and PostgreSQL (scale-out), coturn (TURN), fonts,
# PortAudio and PulseAudio (the desktop's voice, tested against a null sink).
SYSTEM_PACKAGES := chromium xvfb python3-tk fonts-dejavu-core fonts-dejavu-extra redis-server \
	postgresql coturn \
	libportaudio2 pulseaudio pulseaudio-utils

.PHONY: run test lint bench schema clean system-deps

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	npm ci --silent --no-audit --no-fund
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The customer's web widget, bundled from customer_web/ with its gettext catalogues compiled in
# (customer_web/locales/build.mjs; built, never committed).
WIDGET := customer_web/dist/widget.js
$(WIDGET): $(STAMP) $(wildcard customer_web/*.js) customer_web/locales/build.mjs \
		$(wildcard customer_web/locales/*/LC_MESSAGES/*.po)
	npm run build --silent

run: $(STAMP) $(WIDGET)
	$(BIN)/mayday demo

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: $(STAMP) $(WIDGET) system-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/signaling.py
	$(BIN)/python bench/device.py
	$(BIN)/python bench/console.py

schema: $(STAMP)
	$(BIN)/python -m signaling.schema

clean:
	rm -rf $(VENV) .mayday .pytest_cache .mypy_cache .ruff_cache
