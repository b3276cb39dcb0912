# Two entry points: `make run` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STUDY := data/study.duckdb
PORT ?= 8501

.PHONY: run test install system-deps study bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Debian's Chromium (browser tests, static figure export), CJK fonts, LibreOffice Impress with
# poppler (the deck-rendering test: PPTX -> PDF -> slide images), and strace + unshare (the
# network test); needs root and apt.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-impress poppler-utils strace util-linux
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' \
	    || ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null \
	    || ! command -v strace >/dev/null || ! command -v unshare >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "note: $(SYSTEM_PACKAGES) missing and cannot apt-get; browser, deck-rendering and network tests will skip"; fi; \
	fi

$(STUDY): install
	@test -f $(STUDY) || $(PY) -m analytics build-default --out $(STUDY)

study: $(STUDY)

# The launcher sets every server option (127.0.0.1 unless ADDRESS or MSC_RA_ADDRESS says otherwise;
# another address needs login configured, or ALLOW_OPEN=1 on a trusted network).
run: install $(STUDY)
	$(PY) -m dashboard.launcher --port $(PORT) $(if $(ADDRESS),--address $(ADDRESS)) $(if $(ALLOW_OPEN),--allow-open)

test: install system-deps
	$(PY) -m pytest -n 2 -q

# Issue 13's measurements in one run (20-30 minutes; needs Chromium); results in benchmarks/results/
bench: install $(STUDY)
	$(PY) benchmarks/run_all.py
	$(PY) benchmarks/bench_profile_page.py --big

clean:
	rm -rf $(VENV) $(STUDY) .pytest_cache
