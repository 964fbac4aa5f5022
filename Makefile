# Kehu — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run system-packages test lint install install-test demo worker serve bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate, load the demo once, serve on http://127.0.0.1:8000 (gunicorn) with a worker.
run: install system-packages
	mkdir -p var
	$(BIN)/kehu migrate --noinput
	$(BIN)/kehu demo
	@echo "Kehu on http://127.0.0.1:8000 — demo logins in README.md (password Kehu@2026)"
	$(BIN)/kehu worker & WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	KEHU_DEBUG=$${KEHU_DEBUG:-0} $(BIN)/kehu serve --bind 127.0.0.1:8000 \
	  --workers $${KEHU_WORKERS:-$$(case "$${DATABASE_URL:-}" in postgres*) echo 3;; *) echo 2;; esac)}

# PDF documents (kehu/core/pdf.py) need a Chinese font and Pango: installed when missing if root,
# otherwise said (the CRM runs; its PDFs would show boxes instead of Chinese, or not render).
system-packages:
	@need=""; \
	fc-list 2>/dev/null | grep -qi "noto sans cjk" || need="fonts-noto-cjk"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0.so.0 || need="$$need libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing system packages for PDF documents:$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  else \
	    echo "!! Missing system packages for PDF documents (Chinese font, text layout): $$need" >&2; \
	    echo "!! Install them with: sudo apt-get install $$need — Kehu runs, but its PDFs will not be right." >&2; \
	  fi; \
	fi

## make test: the whole suite on SQLite, on PostgreSQL (throwaway cluster) and in Chromium.
test: install-test
	bash scripts/test.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/kehu makemigrations --check --dry-run

messages: install-test
	cd kehu && ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete -i 'tests/*' && ../$(BIN)/django-admin compilemessages -l zh_Hans

bench: install-test
	bash scripts/bench.sh

clean:
	rm -rf $(VENV) var
