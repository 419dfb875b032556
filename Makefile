# dclm: two commands do all the set-up on a fresh machine.
#   make book   build the website into _build/html, executing every chapter on the tiny profile
#   make test   lint, unit + experiment + notebook-sync tests, the book build, the PDF, the site checks
#   make pdf    print the built site into _build/html/dclm-book.pdf (headless Chromium)
# Both create .venv and install the pinned stack (requirements/lock.txt) when it is missing;
# Python and make are all they need (MathJax comes from PyPI, no npm).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip

# One run cache for tests, chapters and the CLI: CI executes each tiny experiment once.
export DCLM_RUN_CACHE := $(CURDIR)/_build/runs
export DCLM_EMBED_CACHE := $(CURDIR)/_build/embeddings
export DCLM_PROFILE ?= tiny
# Nothing may load from the Hugging Face hub by accident: fail fast instead.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: book test install lint unit experiments site pdf notebooks lock clean screenshot lowest colab-like

test:
	@bash scripts/test.sh

install: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# torch first, from the CPU wheel the lock names; a looser spec would fetch a CUDA build.
	$(PIP) install -q -c requirements/lock.txt torch==2.13.0
	$(PIP) install -q -c requirements/lock.txt -e ".[dev]"
	$(PIP) check
	@touch $@

# The GitHub workflows against the schema GitHub reads them with, then zizmor's audits
# (offline); CITATION.cff against the Citation File Format schema.
lint: $(STAMP)
	$(BIN)/ruff check dclm tests scripts benchmarks book/_ext
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --no-progress --quiet .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.citation-file-format CITATION.cff

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/pytest -q tests/unit tests/notebooks

experiments: $(STAMP)
	MPLBACKEND=Agg $(BIN)/pytest -q tests/experiments

# Pages are static: no progress bars, widgets give way to their figures (dclm.env.in_book_build).
# MathJax is served from the site's _static/ (book/_ext/offline_assets.py, from the PyPI
# package django-static-mathjax): a class with no internet still gets its equations.
book: $(STAMP)
	DCLM_BOOK_BUILD=1 TQDM_DISABLE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/jupyter-book build . --all -W -n --keep-going
	@test -f _build/html/index.html

# The declared floors are true: requirements/lowest.txt in a fresh venv runs chapters 1-2, a
# two-step chapter-3 training and the GPU-path check on tiny shapes.
lowest:
	bash scripts/lowest.sh

# The Colab install cell against this checkout in a Colab-like Python 3.12 venv: torch
# untouched, no pip ERROR (skipped, saying so, where python3.12 is absent).
colab-like: $(STAMP)
	$(BIN)/python scripts/colab_like.py

# The PDF is printed from the built site by the Chromium the site checks use, which then
# check it too (tests/site/test_pdf.py).
site: $(STAMP)
	@bash scripts/ensure_chromium.sh
	$(BIN)/python scripts/pdf.py --skip-without-browser
	$(BIN)/pytest -q tests/site

pdf: $(STAMP)
	@bash scripts/ensure_chromium.sh
	$(BIN)/python scripts/pdf.py

# The README's picture of chapter 1, taken from the built site (documentation, committed).
screenshot: $(STAMP)
	$(BIN)/python scripts/sitecheck.py --readme-shot docs/chapter-1.png

# Regenerate notebooks/ from book/, and notebooks/practice/ (blanks) from practice/ (the Colab
# install cells follow _config.yml).
notebooks: $(STAMP)
	$(BIN)/python scripts/notebooks.py write

# Re-resolve the whole stack and rewrite the lock and environment.yml from it.
lock:
	rm -rf /tmp/dclm-lock && $(PYTHON) -m venv /tmp/dclm-lock
	/tmp/dclm-lock/bin/pip install -q torch==2.13.0
	/tmp/dclm-lock/bin/pip install -q -e ".[dev]"
	/tmp/dclm-lock/bin/pip check
	/tmp/dclm-lock/bin/python scripts/lock.py /tmp/dclm-lock

clean:
	rm -rf _build
